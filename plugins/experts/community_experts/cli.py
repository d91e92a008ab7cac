"""``community experts ...``: rebuild the expertise, route waiting questions, show a space's
response metrics."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from community.accounts.models import User
from community.extensions import db


@click.group("experts")
def experts_group() -> None:
    """Expert badges, routing of unanswered questions and response metrics."""


@experts_group.command("rebuild")
@click.option("--batch", default=200, show_default=True, help="Members per transaction.")
@click.option("--notify", is_flag=True, help="Tell members who become experts.")
@with_appcontext
def rebuild_command(batch: int, notify: bool) -> None:
    """Work out every member's expertise again from the site's data.

    The worker does this when the plugin is enabled and when the window or the thresholds
    change; run it after importing data. Granted expertise is not touched.
    """
    from community_experts import expertise

    total = db.session.scalar(select(func.count()).select_from(User)) or 0
    with click.progressbar(length=total, label="Members") as bar:
        report = expertise.rebuild(progress=bar.update, batch=batch, announce=notify)
    click.echo(
        f"{report['members']} members looked at; {report['experts']} expertises now, "
        f"{report['changed']} changed."
    )


@experts_group.command("route")
@with_appcontext
def route_command() -> None:
    """Offer the questions that wait for an answer to experts now (the worker does this
    every minute)."""
    from community_experts import routing

    made = routing.route()
    click.echo(f"{made} offers made to experts.")


@experts_group.command("metrics")
@click.argument("space_slug")
@click.option("--days", type=click.IntRange(1, 3650), help="Questions of the last N days.")
@with_appcontext
def metrics_command(space_slug: str, days: int | None) -> None:
    """Show a space's response metrics (with the spaces inside it)."""
    import json

    from community.spaces.services import space_by_slug
    from community_experts import metrics

    space = space_by_slug(space_slug)
    if space is None:
        raise click.BadParameter(f"no space {space_slug!r}", param_hint="SPACE_SLUG")
    click.echo(json.dumps(metrics.space_metrics_json(space, days=days), indent=2))
