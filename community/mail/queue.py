"""The outgoing mail queue, sent by the background worker.

1. :func:`queue_mail` builds the complete message (with its Message-ID and Date) and adds a
   ``mail_queue`` row to the current transaction, without committing: a message is queued if
   and only if the transaction that wanted it commits. After the commit, a :func:`deliver`
   task goes to the worker for each row.
2. :func:`deliver` claims the row with one ``UPDATE ... WHERE state = 'pending'`` and commits
   the claim before talking to the mail server: when the task runs twice (a duplicate, the
   sweep racing the first one, two workers), only the worker whose UPDATE changed the row
   sends it. Then the backend sends it and the row is marked ``sent``.
3. A failure that may pass (a connection refused, a timeout, a 4xx reply) puts the row back to
   ``pending`` with the error, for another attempt ``MAIL_RETRY_DELAY`` seconds later,
   doubling each time up to ``MAIL_RETRY_MAX_DELAY``; after ``MAIL_MAX_ATTEMPTS`` attempts, or
   at once when the server refused the recipient for good (5xx), it is ``failed``.
   ``community mail retry`` starts failed messages over.
4. :func:`sweep`, once a minute, queues again the pending messages whose task was lost (the
   queue was down at commit time, or a worker was killed), resets messages a worker has been
   sending for longer than :data:`STUCK_AFTER` (it died meanwhile), and deletes sent
   messages older than ``MAIL_KEEP_SENT_DAYS``.

Delivery is exactly once except in one case no queue can rule out: a worker that dies after
the server accepted a message and before it marked the row sent. The sweep then sends it
again, ten minutes later.
"""

from __future__ import annotations

import email
import email.policy
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app, has_app_context
from sqlalchemy import and_, delete, event, func, inspect, select, update
from sqlalchemy.orm import Session, SessionTransaction

from community.dbtypes import utcnow
from community.extensions import db
from community.mail.backends import PermanentMailError, mail_backend
from community.mail.models import MailQueue, MailState
from community.tasks import crontab, enqueue, enqueue_in, periodic_task, task

log = logging.getLogger(__name__)

# A message a worker has been sending for this long was left by a worker that died.
STUCK_AFTER = timedelta(minutes=10)
# A pending message overdue by this much lost its task: the sweep queues it again.
LOST_AFTER = timedelta(minutes=2)
# The admin page asks whether the worker runs when a message is overdue by this much.
STALLED_AFTER = timedelta(minutes=5)
SWEEP_BATCH = 1000

_ADDED = "community.mail.added"  # rows queue_mail added in this session's transaction
_DELIVER = "community.mail.deliver"  # ids to give the worker once the transaction commits


# --- queueing --------------------------------------------------------------------------------


def build_message(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """The message as it will be sent: From ``MAIL_FROM``, To, Subject, Date and Message-ID,
    the text with the HTML as an alternative, and the extra ``headers`` (a name the message
    already has is replaced)."""
    sender = current_app.config["MAIL_FROM"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "community.local"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        del msg[name]
        msg[name] = value
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def queue_mail(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> MailQueue:
    """Queue a message in the current transaction, without committing. When the transaction
    commits the worker sends it; when it rolls back the message is gone with everything
    else. Returns the row (its ``id`` is known after the next flush)."""
    message = build_message(to, subject, text, html, headers=headers)
    now = utcnow()
    row = MailQueue(
        recipient=to,
        subject=subject[:255],
        message=bytes(message),
        state=MailState.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(row)
    db.session.info.setdefault(_ADDED, []).append(row)
    return row


def send_mail(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> MailQueue:
    """Queue a message and commit (with whatever else the session holds): the background
    worker sends it. Use :func:`queue_mail` to queue it in a transaction of your own."""
    row = queue_mail(to, subject, text, html, headers=headers)
    db.session.commit()
    return row


def _before_commit(session: Session) -> None:
    rows = session.info.pop(_ADDED, None)
    if rows:
        session.flush()
        # Rows taken back out (a savepoint rolled back, expunged) are not persistent.
        ids = [row.id for row in rows if inspect(row).persistent]
        session.info.setdefault(_DELIVER, []).extend(ids)


def _after_commit(session: Session) -> None:
    ids = session.info.pop(_DELIVER, None)
    if not ids or not has_app_context():
        return
    for mail_id in ids:
        try:
            enqueue(deliver, mail_id)
        except Exception:
            # The rows are committed: the sweep will find them.
            log.exception("could not queue %d messages for the worker; the sweep will", len(ids))
            return


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_ADDED, None)
        session.info.pop(_DELIVER, None)


def install_listeners() -> None:
    """Listen to every session (idempotent)."""
    for name, fn in (
        ("before_commit", _before_commit),
        ("after_commit", _after_commit),
        ("after_soft_rollback", _after_soft_rollback),
    ):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


# --- sending: the worker's side --------------------------------------------------------------


def retry_delay(attempts: int) -> int:
    """Seconds to wait after the ``attempts``-th failed attempt."""
    cfg = current_app.config
    return int(
        min(cfg["MAIL_RETRY_DELAY"] * 2 ** min(attempts - 1, 30), cfg["MAIL_RETRY_MAX_DELAY"])
    )


# Failures to send are handled inside (the row says when to try again); these retries are for
# the database failing the task itself (say, a lock timeout): the claim makes them harmless.
@task(retries=3, retry_delay=10)
def deliver(mail_id: int) -> None:
    """Send one queued message, if it is still waiting and due."""
    deliver_now(mail_id)


def deliver_now(mail_id: int) -> str | None:
    """Claim the message and send it. Returns its state afterwards, or None when it was not
    this call's to send (sent or being sent already, failed, or not due yet)."""
    claimed_at = utcnow()
    claim = db.session.execute(
        update(MailQueue)
        .where(
            MailQueue.id == mail_id,
            MailQueue.state == MailState.PENDING,
            MailQueue.next_attempt_at <= claimed_at,
        )
        .values(state=MailState.SENDING, claimed_at=claimed_at, attempts=MailQueue.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if not claim.rowcount:  # type: ignore[attr-defined]
        db.session.rollback()
        return None
    recipient, raw, attempts = db.session.execute(
        select(MailQueue.recipient, MailQueue.message, MailQueue.attempts).where(
            MailQueue.id == mail_id
        )
    ).one()
    # The claim is committed before the server is contacted: nobody else sends it meanwhile,
    # and no transaction stays open while the server takes its time.
    db.session.commit()

    message = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        mail_backend(current_app).send(message)
    except PermanentMailError as exc:
        _finish(mail_id, claimed_at, MailState.FAILED, error=str(exc))
        log.warning("mail %d to %s refused for good: %s", mail_id, recipient, exc)
        return MailState.FAILED
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            _finish(mail_id, claimed_at, MailState.FAILED, error=error)
            log.warning(
                "mail %d to %s failed %d times, given up: %s", mail_id, recipient, attempts, error
            )
            return MailState.FAILED
        delay = retry_delay(attempts)
        again_at = utcnow() + timedelta(seconds=delay)
        _finish(mail_id, claimed_at, MailState.PENDING, error=error, next_attempt_at=again_at)
        log.warning(
            "mail %d to %s failed (attempt %d), trying again in %d s: %s",
            mail_id,
            recipient,
            attempts,
            delay,
            error,
        )
        try:
            enqueue_in(delay, deliver, mail_id)
        except Exception:
            log.exception("could not schedule mail %d again; the sweep will", mail_id)
        return MailState.PENDING
    _finish(mail_id, claimed_at, MailState.SENT)
    log.info("mail %d sent to %s", mail_id, recipient)
    return MailState.SENT


def _finish(
    mail_id: int,
    claimed_at: datetime,
    state: str,
    *,
    error: str | None = None,
    next_attempt_at: datetime | None = None,
) -> None:
    values: dict[str, object] = {"state": state}
    if state == MailState.SENT:
        values["sent_at"] = utcnow()
    if error is not None:
        values["last_error"] = error[:500]
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    result = db.session.execute(
        update(MailQueue)
        # Still this worker's claim: the sweep has not given the row to another worker.
        .where(
            MailQueue.id == mail_id,
            MailQueue.state == MailState.SENDING,
            MailQueue.claimed_at == claimed_at,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if not result.rowcount:  # type: ignore[attr-defined]
        log.warning("mail %d: the sweep took it back before it was marked %s", mail_id, state)


@periodic_task(crontab(minute="*"))
def sweep(now: datetime | None = None) -> int:
    """Once a minute: reset messages left ``sending`` by a worker that died, queue again the
    pending messages whose task was lost, delete old sent ones. ``now`` is for tests (a time
    in the future instead of waiting). Returns how many messages were queued again."""
    now = now or utcnow()
    cfg = current_app.config
    stuck = and_(MailQueue.state == MailState.SENDING, MailQueue.claimed_at < now - STUCK_AFTER)
    stopped = "the worker stopped while sending it (it may have been delivered)"
    db.session.execute(
        update(MailQueue)
        .where(stuck, MailQueue.attempts >= cfg["MAIL_MAX_ATTEMPTS"])
        .values(state=MailState.FAILED, last_error=stopped)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(MailQueue)
        .where(stuck)
        .values(state=MailState.PENDING, last_error=stopped)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    # A reset row's next attempt was due before it was claimed: it is among these.
    lost = list(
        db.session.scalars(
            select(MailQueue.id)
            .where(
                MailQueue.state == MailState.PENDING, MailQueue.next_attempt_at < now - LOST_AFTER
            )
            .order_by(MailQueue.next_attempt_at)
            .limit(SWEEP_BATCH)
        )
    )
    db.session.execute(
        delete(MailQueue)
        .where(
            MailQueue.state == MailState.SENT,
            MailQueue.sent_at < now - timedelta(days=cfg["MAIL_KEEP_SENT_DAYS"]),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    for mail_id in lost:
        enqueue(deliver, mail_id)
    if lost:
        log.warning("mail: %d messages had lost their task; queued again", len(lost))
    return len(lost)


# --- status and retrying ---------------------------------------------------------------------


@dataclass(frozen=True)
class MailError:
    id: int
    recipient: str
    subject: str
    state: str
    attempts: int
    error: str
    next_attempt_at: datetime


@dataclass(frozen=True)
class MailStatus:
    backend: str
    counts: dict[str, int]  # every state, zeros included
    oldest_pending: datetime | None  # when the oldest message still waiting was queued
    stalled: bool  # a message has been due for minutes: is the worker running?
    last_errors: list[MailError]  # the latest of pending and failed messages


def mail_status(limit: int = 10) -> MailStatus:
    """How the queue is doing, for ``community mail status`` and the admin page."""
    counts = dict.fromkeys(MailState.ALL, 0)
    for state, count in db.session.execute(
        select(MailQueue.state, func.count()).group_by(MailQueue.state)
    ):
        counts[state] = count
    oldest_pending, first_due = db.session.execute(
        select(func.min(MailQueue.created_at), func.min(MailQueue.next_attempt_at)).where(
            MailQueue.state == MailState.PENDING
        )
    ).one()
    errors = [
        MailError(
            id=row.id,
            recipient=row.recipient,
            subject=row.subject,
            state=row.state,
            attempts=row.attempts,
            error=row.last_error or "",
            next_attempt_at=row.next_attempt_at,
        )
        for row in db.session.execute(
            select(
                MailQueue.id,
                MailQueue.recipient,
                MailQueue.subject,
                MailQueue.state,
                MailQueue.attempts,
                MailQueue.last_error,
                MailQueue.next_attempt_at,
            )
            .where(
                MailQueue.state.in_([MailState.PENDING, MailState.FAILED]),
                MailQueue.last_error.is_not(None),
            )
            .order_by(MailQueue.id.desc())
            .limit(limit)
        )
    ]
    return MailStatus(
        backend=current_app.config["MAIL_BACKEND"],
        counts=counts,
        oldest_pending=oldest_pending,
        stalled=first_due is not None and first_due < utcnow() - STALLED_AFTER,
        last_errors=errors,
    )


def retry_failed(ids: list[int] | None = None) -> int:
    """Start failed messages (all, or those of ``ids``) over: pending, no attempts, due now.
    Commits; the worker sends them. Returns how many."""
    stmt = select(MailQueue.id).where(MailQueue.state == MailState.FAILED)
    if ids:
        stmt = stmt.where(MailQueue.id.in_(ids))
    failed = list(db.session.scalars(stmt.order_by(MailQueue.id)))
    retried: list[int] = []
    for start in range(0, len(failed), 500):
        chunk = failed[start : start + 500]
        db.session.execute(
            update(MailQueue)
            .where(MailQueue.id.in_(chunk), MailQueue.state == MailState.FAILED)
            .values(state=MailState.PENDING, attempts=0, next_attempt_at=utcnow(), claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        retried.extend(chunk)
    db.session.info.setdefault(_DELIVER, []).extend(retried)
    db.session.commit()
    return len(retried)
