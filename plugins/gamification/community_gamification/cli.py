"""``community gamification ...``: rebuild and check the points."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from community.accounts.models import User
from community.extensions import db


@click.group("gamification")
def gamification_group() -> None:
    """Points, levels and badges."""


def _user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def _print_totals(totals: dict[int, tuple[int, int]], what: str) -> None:
    for user_id, (have, should) in sorted(totals.items())[:50]:
        click.echo(f"  user {user_id}: total {have}, ledger {should} ({what})")
    if len(totals) > 50:
        click.echo(f"  ... and {len(totals) - 50} more")


@gamification_group.command("rebuild")
@click.option("--batch", default=500, show_default=True, help="Members per transaction.")
@with_appcontext
def rebuild_command(batch: int) -> None:
    """Recompute every member's points from the site's data.

    Appends to the ledger the rows that make it match the current rules and data (after
    changing a rule's points, say), and sets any total that differs from its ledger's sum.
    Safe to run at any time; on a consistent site it appends nothing.
    """
    from community_gamification import points

    with click.progressbar(length=_user_count(), label="Members") as bar:
        report = points.rebuild(progress=bar.update, batch=batch)
    click.echo(f"{report.appended} ledger rows appended for {report.users} members.")
    if report.totals:
        click.echo(f"{len(report.totals)} totals differed from their ledger and were repaired:")
        _print_totals(report.totals, "repaired")
    else:
        click.echo("All totals match their ledgers.")


@gamification_group.command("check")
@click.option("--batch", default=500, show_default=True, help="Members per query.")
@with_appcontext
def check_command(batch: int) -> None:
    """Check the points without changing anything.

    Every total must equal the sum of its member's ledger rows, and the ledger must match
    what the site's data and the current rules say. Exits with status 1 otherwise (run
    `community gamification rebuild` to repair).
    """
    from community_gamification import points

    with click.progressbar(length=_user_count(), label="Members") as bar:
        report, missing = points.check(progress=bar.update, batch=batch)
    ok = True
    if report.totals:
        ok = False
        click.echo(f"{len(report.totals)} totals differ from their ledger:")
        _print_totals(report.totals, "wrong")
    if report.appended:
        ok = False
        click.echo(f"{report.appended} ledger rows are missing to match the site's data, e.g.:")
        for row in missing[:20]:
            click.echo(f"  user {row['user_id']}: {row['key']} {row['reason']} {row['amount']:+d}")
    if not ok:
        raise SystemExit(1)
    click.echo(f"Points are consistent for {report.users} members: totals match.")


@gamification_group.command("badges")
@click.option("--quiet", is_flag=True, help="Do not notify the members who get a badge.")
@with_appcontext
def badges_command(quiet: bool) -> None:
    """Award the built-in badges every member has earned (after importing data, or after
    the plugin was off for a while); badges already held are kept."""
    from community_gamification.badges import BUILT_IN, evaluate_all

    with click.progressbar(length=len(BUILT_IN), label="Badges") as bar:
        awarded = evaluate_all(lambda _name: bar.update(1), notify_members=not quiet)
    total = sum(awarded.values())
    click.echo(f"{total} badges awarded.")
    for slug, count in sorted(awarded.items()):
        if count:
            click.echo(f"  {slug}: {count}")
