"""``community mail ...``: how outgoing mail is doing, retrying failures, a test message."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("mail")
def mail_group() -> None:
    """Outgoing mail: the queue the background worker sends."""


@mail_group.command("status")
@with_appcontext
def status_command() -> None:
    """Show the backend, how many messages wait, are sent or failed, and the latest errors."""
    from community.mail.models import MailState
    from community.mail.queue import mail_status

    status = mail_status()
    click.echo(f"Backend: {status.backend}")
    for state in MailState.ALL:
        click.echo(f"{state.capitalize()}: {status.counts[state]}")
    if status.oldest_pending is not None:
        click.echo(f"Oldest waiting since: {status.oldest_pending:%Y-%m-%d %H:%M:%S} UTC")
    if status.stalled:
        click.echo(
            "Messages have been due for more than five minutes: is `community worker` running?"
        )
    if status.last_errors:
        click.echo("Latest errors:")
    for error in status.last_errors:
        when = (
            f"next attempt {error.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
            if error.state == MailState.PENDING
            else "failed"
        )
        click.echo(
            f"  mail {error.id} to {error.recipient}, {error.attempts} attempts ({when}): "
            f"{error.error}"
        )


@mail_group.command("retry")
@click.argument("ids", nargs=-1, type=int)
@with_appcontext
def retry_command(ids: tuple[int, ...]) -> None:
    """Send failed messages again (all of them, or those with the given IDS), starting their
    attempts over. The worker sends them."""
    from community.mail.queue import retry_failed

    count = retry_failed(list(ids) or None)
    click.echo(f"{count} failed messages queued again.")


@mail_group.command("send-test")
@click.argument("to")
@with_appcontext
def send_test_command(to: str) -> None:
    """Queue a test message to the address TO. The worker sends it: `community mail status`
    then shows whether it went."""
    from community.mail.queue import send_mail
    from community.settings.service import site_settings

    site = site_settings()["site_name"]
    row = send_mail(
        to,
        f"Test message from {site}",
        f"This is a test message from {site}: its mail settings work.\n",
    )
    click.echo(f"Queued message {row.id} to {to}; `community worker` sends it.")
