"""``community ideation ...``: look at the webhook's deliveries and queue again those the
receiver never took."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from community.extensions import db

STATES = ("pending", "sent", "failed")
PROGRESS_FROM = 50  # a progress bar when at least this many deliveries are queued again
ERROR_WIDTH = 60


@click.group("ideation")
def ideation_group() -> None:
    """Ideas: the webhook's deliveries to the product backlog tool."""


@ideation_group.command("deliveries")
@click.option("--state", type=click.Choice(STATES), help="Only the deliveries in this state.")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="How many, newest first.",
)
@with_appcontext
def deliveries_command(state: str | None, limit: int) -> None:
    """List the webhook's recent deliveries: id, event, state, attempts, when it was written
    (UTC) and the last error."""
    from community_ideation.models import Delivery

    statement = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id.desc())
    if state:
        statement = statement.where(Delivery.state == state)
    rows = list(db.session.scalars(statement.limit(limit)))
    if not rows:
        click.echo("No deliveries." if not state else f"No {state} deliveries.")
        return
    click.echo(f"{'ID':>7}  {'EVENT':<19}  {'STATE':<7}  {'ATT':>3}  {'CREATED (UTC)':<16}  ERROR")
    for row in rows:
        error = " ".join(row.last_error.split())
        if len(error) > ERROR_WIDTH:
            error = error[: ERROR_WIDTH - 1] + "…"
        created = row.created_at.strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"{row.id:>7}  {row.event:<19}  {row.state:<7}  {row.attempts:>3}  {created:<16}  "
            f"{error or '-'}"
        )


@ideation_group.command("resend")
@click.option(
    "--stale-minutes",
    type=click.IntRange(1, 100_000),
    help="Pending deliveries older than this are queued again too "
    "[default: when their retries would be over].",
)
@with_appcontext
def resend_command(stale_minutes: int | None) -> None:
    """Queue again the deliveries that failed (they get a fresh set of attempts) and those
    still pending long after they were written: left behind when the task queue was down.
    The worker then delivers them."""
    from datetime import timedelta

    from community_ideation import webhook

    stale_after = timedelta(minutes=stale_minutes) if stale_minutes else webhook.STALE_AFTER
    ids = webhook.resendable(stale_after)
    try:
        if len(ids) >= PROGRESS_FROM:
            with click.progressbar(length=len(ids), label="Deliveries") as bar:
                queued = webhook.requeue(ids, stale_after, progress=bar.update)
        else:
            queued = webhook.requeue(ids, stale_after)
    except Exception as exc:  # the task queue is down
        raise click.ClickException(
            f"could not queue the deliveries ({type(exc).__name__}: {exc}); they stay pending, "
            "run this again when the task queue is back"
        ) from None
    noun = "delivery" if queued == 1 else "deliveries"
    click.echo(f"{queued} {noun} queued again.")
