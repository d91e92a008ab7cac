"""The worker's side of notifications: events become notifications, notifications become
emails, digests and channel deliveries.

1. After a change commits, an event hook of :mod:`community.notifications.hooks` writes a
   :class:`NotificationEvent` row and queues :func:`process_event`.
2. :func:`process_event` works out who is told (followers, the mentioned, the author of the
   post commented on...), writes their notifications and deletes the event in one
   transaction, then queues :func:`email_notification` for those who want email at once and
   :func:`deliver_to_channel` for every plugin channel.
3. :func:`email_notification` renders the email in the recipient's language and queues it
   (``community.mail``) in the same transaction that marks the notification as emailed: one
   email per notification, however often the task runs.
4. :func:`send_digests` (hourly) gathers what users chose to read in a daily or weekly digest.
5. :func:`sweep` (every minute) queues again what a lost task left behind.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import selectinload

from community.accounts.models import User
from community.dbtypes import utcnow
from community.extensions import db
from community.notifications import service
from community.notifications.kinds import all_channels, all_kinds
from community.notifications.models import Notification, NotificationEvent
from community.tasks import crontab, enqueue, enqueue_in, periodic_task, task
from community.topics.models import Post, Topic

log = logging.getLogger(__name__)

EVENT_MAX_ATTEMPTS = 10
# A queued event or email older than this was lost by the queue: the sweep queues it again.
LOST_AFTER = timedelta(minutes=2)
DIGEST_LIMIT = 50  # notifications listed in one digest; the rest are counted


# --- events ----------------------------------------------------------------------------------


def record_event(name: str, **payload: Any) -> None:
    """Remember that something happened that may notify people, and queue the work."""
    # On a connection of its own: the request's objects stay loaded (no expiry on commit).
    with db.engine.begin() as conn:
        event_id = conn.execute(
            insert(NotificationEvent)
            .values(name=name, payload=payload, created_at=utcnow())
            .returning(NotificationEvent.id)
        ).scalar_one()
    try:
        enqueue(process_event, event_id)
    except Exception:  # the queue is down: the sweep finds the row
        log.exception("could not queue notification event %s", event_id)


@task(retries=3, retry_delay=30)
def process_event(event_id: int) -> None:
    event = db.session.get(NotificationEvent, event_id)
    if event is None:
        return  # done by another run
    try:
        written = _fan_out(event)
        db.session.execute(delete(NotificationEvent).where(NotificationEvent.id == event_id))
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        db.session.execute(
            update(NotificationEvent)
            .where(NotificationEvent.id == event_id)
            .values(
                attempts=NotificationEvent.attempts + 1,
                last_error=f"{type(exc).__name__}: {exc}"[:500],
            )
        )
        db.session.commit()
        raise
    service.dispatch(written)


def _users(ids: Any) -> list[User]:
    ids = list(ids)
    found: list[User] = []
    for start in range(0, len(ids), service.INSERT_CHUNK):
        chunk = ids[start : start + service.INSERT_CHUNK]
        found.extend(db.session.scalars(select(User).where(User.id.in_(chunk))))
    return found


def _mentioned(post: Post) -> list[User]:
    if "@" not in post.body_source:
        return []
    from community.mentions import mentioned_users

    return mentioned_users(post.body_source)


def _fan_out(event: NotificationEvent) -> list[tuple[int, str]]:
    handler = _HANDLERS.get(event.name)
    if handler is None:
        log.error("unknown notification event %r", event.name)
        return []
    return handler(**event.payload)


def _published(post: Post | None) -> bool:
    return (
        post is not None
        and post.deleted_at is None
        and post.held_at is None
        and post.topic.deleted_at is None
    )


def _on_topic(post: int) -> list[tuple[int, str]]:
    opening = db.session.get(Post, post)
    if not _published(opening):
        return []
    assert opening is not None
    topic = opening.topic
    actor = opening.author
    written = []
    told: set[int] = set()
    mentioned = _mentioned(opening)
    written += service.add_notifications(mentioned, "mention", actor=actor, post=opening)
    told.update(u.id for u in mentioned)
    # Followers of the space, of the spaces it is in, and of its tags.
    from community.permissions import all_spaces, ancestor_ids

    space_ids = ancestor_ids(topic.space_id, all_spaces())
    ids = set(db.session.scalars(service.followers("space", space_ids)))
    ids |= set(db.session.scalars(service.followers("tag", [t.id for t in topic.tags])))
    ids -= told
    where = topic.space.title
    written += service.add_notifications(
        _users(ids),
        "topic",
        actor=actor,
        topic=topic,
        group_key=f"space:{topic.space_id}",
        data={"where": where},
    )
    return written


def _on_post(post: int) -> list[tuple[int, str]]:
    reply = db.session.get(Post, post)
    if not _published(reply):
        return []
    assert reply is not None
    topic = reply.topic
    actor = reply.author
    group = f"topic:{topic.id}"
    written = []
    told: set[int] = {actor.id}
    mentioned = [u for u in _mentioned(reply) if u.id not in told]
    written += service.add_notifications(
        mentioned, "mention", actor=actor, post=reply, key=f"post:{reply.id}"
    )
    told.update(u.id for u in mentioned)
    if reply.parent_id is not None:
        parent = db.session.get(Post, reply.parent_id)
        if parent is not None and parent.author_id not in told:
            written += service.add_notifications(
                [parent.author], "comment", actor=actor, post=reply, group_key=group
            )
            told.add(parent.author_id)
        return written
    ids = set(db.session.scalars(service.followers("topic", [topic.id]))) - told
    written += service.add_notifications(
        _users(ids), "reply", actor=actor, post=reply, group_key=group
    )
    return written


def _on_accepted(post: int, actor: int) -> list[tuple[int, str]]:
    answer = db.session.get(Post, post)
    if not _published(answer):
        return []
    assert answer is not None
    if answer.topic.accepted_answer_id != answer.id:
        return []  # withdrawn meanwhile
    return service.add_notifications(
        [answer.author], "accepted", actor=db.session.get(User, actor), post=answer
    )


def _on_status(
    topic: int, actor: int, status: str, at: str | None = None, note: str = ""
) -> list[tuple[int, str]]:
    idea = db.session.get(Topic, topic)
    if idea is None or idea.status != status:
        return []  # changed again meanwhile: that change has its own event
    ids = set(db.session.scalars(service.followers("topic", [idea.id])))
    label = status.replace("_", " ")
    return service.add_notifications(
        _users(ids),
        "idea_status",
        actor=db.session.get(User, actor),
        topic=idea,
        key=f"status:{idea.id}:{status}" + (f":{at}" if at else ""),
        group_key=f"topic:{idea.id}",
        data={"status": status, "status_label": label, **({"note": note} if note else {})},
    )


def _on_mention(post: int, users: list[int], actor: int | None = None) -> list[tuple[int, str]]:
    """Users newly mentioned by an edit (``actor``: who edited)."""
    edited = db.session.get(Post, post)
    if not _published(edited):
        return []
    assert edited is not None
    editor = db.session.get(User, actor) if actor else None
    still = {u.id for u in _mentioned(edited)}
    return service.add_notifications(
        _users(u for u in users if u in still),
        "mention",
        actor=editor or edited.author,
        post=edited,
    )


_HANDLERS: dict[str, Callable[..., list[tuple[int, str]]]] = {
    "topic": _on_topic,
    "post": _on_post,
    "accepted": _on_accepted,
    "status": _on_status,
    "mention": _on_mention,
}


# --- email -----------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="community.unsubscribe")


def unsubscribe_token(user: User, kind: str) -> str:
    """A link's token that stops emails of ``kind`` (``"*"``: every kind) for ``user``, without
    signing in. It does not expire: old emails keep a working link."""
    return _serializer().dumps({"u": user.id, "k": kind})


def read_unsubscribe_token(token: str) -> tuple[User, str] | None:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    kind = data.get("k")
    user = db.session.get(User, data["u"])
    if user is None or not isinstance(kind, str) or (kind != "*" and kind not in all_kinds()):
        return None
    return user, kind


def unsubscribe(user: User, kind: str) -> list[str]:
    """Stop emails of ``kind`` (or of every kind for ``"*"``): what was emailed is kept in the
    inbox only. Returns the kinds changed."""
    current = service.preferences(user)
    names = list(current) if kind == "*" else [kind]
    changed = {name: "app" for name in names if current.get(name) in service.EMAIL_DELIVERIES}
    service.set_preferences(user, changed)
    return list(changed)


def _site_url() -> str:
    config = current_app.config
    if config.get("SITE_URL"):
        return str(config["SITE_URL"]).rstrip("/")
    if config.get("SERVER_NAME"):
        return f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{config['SERVER_NAME']}"
    return "http://localhost:5000"


def render_in(user: User):
    """A request context for rendering what ``user`` receives: links absolute to the site,
    templates of the active theme, texts in the user's language."""
    from contextlib import contextmanager

    from community.settings.service import site_settings
    from community.themes import activate_theme

    @contextmanager
    def context():
        with current_app.test_request_context("/", base_url=_site_url()):
            activate_theme(site_settings()["theme"])
            locale = user.locale or site_settings()["default_locale"]
            with force_locale(locale):
                yield

    return context()


def _absolute(path: str) -> str:
    return _site_url() + path if path.startswith("/") else path


def _excerpt(notification: Notification) -> str:
    from community.markdown import plain_excerpt

    if notification.post is None:
        # An idea's change of status: what its team said about it.
        note = (notification.data or {}).get("note") or ""
        return plain_excerpt(note, 400) if note else ""
    return plain_excerpt(notification.post.body_source, 400)


def _headers(unsubscribe_url: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }


@task(retries=3, retry_delay=30)
def email_notification(notification_id: int) -> None:
    """Email one notification, if its user still wants it by email and may still see it."""
    from community.mail import queue_mail

    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.emailed_at is not None:
        return
    user = notification.user
    kind = all_kinds().get(notification.kind)
    now_wanted = service.deliveries_for([user.id], kind)[user.id] if kind else "off"
    if now_wanted in ("daily", "weekly"):
        # The user switched this kind to a digest meanwhile: it waits for that.
        db.session.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(delivery=now_wanted)
        )
        db.session.commit()
        return
    if (
        now_wanted != "email"
        or not user.active
        or not user.is_confirmed
        or notification.read_at is not None
        or not service.may_see(user, service.subject_topic(notification), notification.post)
    ):
        _mark_emailed([notification_id])  # dropped: nothing to send
        return
    assert kind is not None
    # Claim it: of two runs at once, one sends.
    if not _mark_emailed([notification_id], commit=False):
        db.session.rollback()
        return
    with render_in(user):
        text = service.describe(notification, 1, kind)
        link = _absolute(service.target_path(notification))
        unsubscribe_url = url_for(
            "notifications.unsubscribe",
            token=unsubscribe_token(user, notification.kind),
            _external=True,
        )
        context = {
            "user": user,
            "notification": notification,
            "topic": service.subject_topic(notification),
            "text": text,
            "excerpt": _excerpt(notification),
            "link": link,
            "kind_label": str(kind.label),
            "unsubscribe_url": unsubscribe_url,
            "settings_url": url_for("notifications.settings", _external=True),
        }
        body_text = render_template("email/notification.txt", **context)
        body_html = render_template("email/notification.html", **context)
    queue_mail(user.email, text, body_text, body_html, headers=_headers(unsubscribe_url))
    db.session.commit()


def _mark_emailed(ids: list[int], commit: bool = True) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), Notification.emailed_at.is_(None))
        .values(emailed_at=utcnow())
    )
    if commit:
        db.session.commit()
    return result.rowcount  # type: ignore[attr-defined]


# --- digests ---------------------------------------------------------------------------------


def _digest_cadence(delivery: str) -> str | None:
    """Which digest carries a pending notification, by its kind's delivery *now*."""
    if delivery in ("daily", "email"):
        return "daily"
    if delivery == "weekly":
        return "weekly"
    return None


def pending_digest_users(cadence: str, older_than: timedelta | None = None) -> list[int]:
    """Users with notifications waiting for a digest (any; with ``older_than``, only those
    waiting for the ``cadence`` digest for at least that long: catching up after a missed
    run)."""
    stmt = (
        select(Notification.user_id)
        .where(
            Notification.delivery.in_(("daily", "weekly")),
            Notification.emailed_at.is_(None),
        )
        .distinct()
    )
    if older_than is not None:
        stmt = stmt.where(
            Notification.delivery == cadence, Notification.created_at <= utcnow() - older_than
        )
    users = list(db.session.scalars(stmt))
    db.session.rollback()
    return users


def send_digests(cadence: str, *, older_than: timedelta | None = None) -> int:
    """Email every user their ``cadence`` ("daily" or "weekly") digest of unread
    notifications not emailed yet (see :func:`pending_digest_users` for ``older_than``).
    Returns how many digests were queued."""
    sent = 0
    for user_id in pending_digest_users(cadence, older_than):
        sent += send_digest(user_id, cadence)
    return sent


def send_digest(user_id: int, cadence: str) -> int:
    """Queue one user's digest; 1 when one was queued. A failure is logged and rolled back:
    its notifications wait for the next run."""
    try:
        return _send_digest(user_id, cadence)
    except Exception:
        db.session.rollback()
        log.exception("the %s digest of user %s failed", cadence, user_id)
        return 0


def _send_digest(user_id: int, cadence: str) -> int:
    from community.mail import queue_mail

    user = db.session.get(User, user_id)
    if user is None:
        return 0
    kinds = all_kinds()
    wanted = service.preferences(user)
    rows = db.session.scalars(
        select(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.delivery.in_(("daily", "weekly")),
            Notification.emailed_at.is_(None),
        )
        .order_by(Notification.created_at)
        .options(
            selectinload(Notification.actor),
            selectinload(Notification.topic),
            selectinload(Notification.post).selectinload(Post.topic),
        )
    ).all()
    chosen, dropped = [], []
    moved: dict[str, list[int]] = defaultdict(list)
    for n in rows:
        how = _digest_cadence(wanted.get(n.kind, "off"))
        if how is None or n.read_at is not None or n.kind not in kinds:
            dropped.append(n.id)
        elif how != cadence:
            if n.delivery != how:
                moved[how].append(n.id)  # the user switched: it waits for the other digest
        elif service.may_see(user, service.subject_topic(n), n.post):
            chosen.append(n)
        else:
            dropped.append(n.id)
    if dropped:
        _mark_emailed(dropped, commit=False)
    for how, ids in moved.items():
        db.session.execute(
            update(Notification).where(Notification.id.in_(ids)).values(delivery=how)
        )
    if not chosen or not user.active or not user.is_confirmed:
        if chosen:
            _mark_emailed([n.id for n in chosen], commit=False)
        db.session.commit()
        return 0
    if _mark_emailed([n.id for n in chosen], commit=False) != len(chosen):
        db.session.rollback()  # another run is sending it
        return 0
    groups: dict[tuple[str, str], list[Notification]] = defaultdict(list)
    for n in chosen:
        groups[(n.kind, n.group_key)].append(n)
    ordered = sorted(groups.values(), key=lambda g: g[-1].created_at, reverse=True)
    with render_in(user):
        items = [
            {
                "text": service.describe(group[-1], len(group), kinds[group[-1].kind]),
                "link": _absolute(service.target_path(group[0])),
                "excerpt": _excerpt(group[-1]) if len(group) == 1 else "",
            }
            for group in ordered[:DIGEST_LIMIT]
        ]
        unsubscribe_url = url_for(
            "notifications.unsubscribe", token=unsubscribe_token(user, "*"), _external=True
        )
        subject = (
            _("Your daily summary from %(site)s", site=_site_name())
            if cadence == "daily"
            else _("Your weekly summary from %(site)s", site=_site_name())
        )
        context = {
            "user": user,
            "subject": subject,
            "items": items,
            "more": max(0, len(ordered) - DIGEST_LIMIT),
            "cadence": cadence,
            "inbox_url": url_for("notifications.inbox", _external=True),
            "unsubscribe_url": unsubscribe_url,
            "settings_url": url_for("notifications.settings", _external=True),
        }
        body_text = render_template("email/digest.txt", **context)
        body_html = render_template("email/digest.html", **context)
    queue_mail(user.email, subject, body_text, body_html, headers=_headers(unsubscribe_url))
    db.session.commit()
    return 1


def _site_name() -> str:
    from community.settings.service import site_settings

    return str(site_settings()["site_name"])


@periodic_task(crontab(minute="0"))
def digests_hourly() -> None:
    """Daily digests at NOTIFICATION_DIGEST_HOUR (UTC), weekly ones on
    NOTIFICATION_DIGEST_WEEKDAY (0 = Monday) at that hour; at other hours, only digests
    overdue because the worker missed their hour."""
    now = utcnow()
    config = current_app.config
    if now.hour == config["NOTIFICATION_DIGEST_HOUR"]:
        send_digests("daily")
        if now.weekday() == config["NOTIFICATION_DIGEST_WEEKDAY"]:
            send_digests("weekly")
    else:
        send_digests("daily", older_than=timedelta(hours=25))
        send_digests("weekly", older_than=timedelta(days=8))


# --- channels --------------------------------------------------------------------------------


@task()
def deliver_to_channel(channel_name: str, notification_id: int, attempt: int = 0) -> None:
    """Hand one notification to a plugin's channel; retried with doubling delays."""
    channel = all_channels().get(channel_name)
    notification = db.session.get(Notification, notification_id)
    if channel is None or notification is None:
        return  # the plugin was disabled, or the notification is gone
    user = notification.user
    kind = all_kinds().get(notification.kind)
    if (
        kind is None
        or not user.active
        or service.deliveries_for([user.id], kind)[user.id] == "off"
        or not service.may_see(user, service.subject_topic(notification), notification.post)
    ):
        return
    with render_in(user):
        text = service.describe(notification)
        url = _absolute(service.target_path(notification))
    try:
        channel.deliver(notification, user, text, url)
    except Exception:
        log.exception("channel %s failed on notification %s", channel_name, notification_id)
        if attempt < channel.retries:
            delay = channel.retry_delay * 2**attempt
            enqueue_in(delay, deliver_to_channel, channel_name, notification_id, attempt + 1)


# --- the sweep -------------------------------------------------------------------------------


@periodic_task(crontab(minute="*"))
def sweep() -> None:
    requeue_lost()


def requeue_lost(now: Any = None) -> tuple[int, int]:
    """Queue again events and immediate emails whose task was lost (the queue was down when
    they were made, or a worker died). Returns (events, emails) queued."""
    now = now or utcnow()
    events = list(
        db.session.scalars(
            select(NotificationEvent.id).where(
                NotificationEvent.created_at <= now - LOST_AFTER,
                NotificationEvent.attempts < EVENT_MAX_ATTEMPTS,
            )
        )
    )
    emails = list(
        db.session.scalars(
            select(Notification.id).where(
                Notification.delivery == "email",
                Notification.emailed_at.is_(None),
                Notification.created_at <= now - LOST_AFTER,
            )
        )
    )
    db.session.rollback()
    for event_id in events:
        enqueue(process_event, event_id)
    for notification_id in emails:
        enqueue(email_notification, notification_id)
    return len(events), len(emails)
