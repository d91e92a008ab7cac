"""``community notifications ...``: the state of notification work, and digests on demand."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("notifications")
def notifications_group() -> None:
    """Notifications: what waits for the worker, and digests."""


@notifications_group.command("status")
@with_appcontext
def status_command() -> None:
    """Show events waiting to notify people, emails waiting to be queued, and notifications
    waiting for the next daily or weekly digest."""
    from sqlalchemy import func, select

    from community.extensions import db
    from community.notifications.models import Notification, NotificationEvent

    events, failing = db.session.execute(
        select(func.count(), func.count().filter(NotificationEvent.attempts > 0))
    ).one()
    pending = dict(
        db.session.execute(
            select(Notification.delivery, func.count())
            .where(Notification.emailed_at.is_(None), Notification.delivery != "app")
            .group_by(Notification.delivery)
        ).all()
    )
    click.echo(f"Events waiting for the worker: {events} ({failing} failed at least once)")
    click.echo(f"Emails waiting to be queued: {pending.get('email', 0)}")
    click.echo(f"Waiting for the daily digest: {pending.get('daily', 0)}")
    click.echo(f"Waiting for the weekly digest: {pending.get('weekly', 0)}")
    last = db.session.scalar(
        select(NotificationEvent.last_error)
        .where(NotificationEvent.last_error.is_not(None))
        .order_by(NotificationEvent.id.desc())
        .limit(1)
    )
    if last:
        click.echo(f"Last error: {last}")


@notifications_group.command("digest")
@click.option("--weekly", "cadence", flag_value="weekly", help="Send the weekly digests instead.")
@click.option(
    "--daily", "cadence", flag_value="daily", default=True, help="Send the daily digests (default)."
)
@with_appcontext
def digest_command(cadence: str) -> None:
    """Send the daily (or weekly) digests now, instead of waiting for the worker's hour
    (NOTIFICATION_DIGEST_HOUR). Each notification is sent in one digest only."""
    from community.notifications.delivery import pending_digest_users, send_digest

    users = pending_digest_users(cadence)
    sent = 0
    with click.progressbar(users, label="Users") as bar:
        for user_id in bar:
            sent += send_digest(user_id, cadence)
    click.echo(f"Queued {sent} {cadence} digests; the worker sends them.")
