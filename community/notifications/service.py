"""Following, preferences, the inbox, and :func:`notify`: the one way to tell users something.

Everything that reads notifications for a user filters on what that user may see *now*: a
notification about a post that was deleted, held, or moved to a space the user may not enter
is neither listed nor counted nor emailed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased, selectinload

from community.accounts.models import User
from community.dbtypes import utcnow
from community.extensions import db
from community.notifications.kinds import NotificationKind, all_channels, all_kinds
from community.notifications.models import (
    DELIVERIES,
    FOLLOW_TARGETS,
    Follow,
    Notification,
    NotificationSetting,
)
from community.permissions import can, prefetch_moderated_spaces, visible_space_ids
from community.spaces.models import Space
from community.tasks import enqueue
from community.topics.models import Post, Tag, Topic

# Deliveries that send email, at once or in a digest.
EMAIL_DELIVERIES = ("email", "daily", "weekly")
# The header shows "99+" beyond this.
UNREAD_CAP = 99
INSERT_CHUNK = 500
# The inbox lists the groups of this many newest notifications.
INBOX_WINDOW = 1000
# Column sizes of Notification.key / group_key and url.
KEY_MAX = 96
URL_MAX = 500


def _insert_ignoring_duplicates(
    model: Any, rows: list[dict[str, Any]], *returning: Any, conn: Any = None
) -> list:
    """INSERT rows, skipping those that break a unique constraint; returns the inserted rows'
    ``returning`` columns (both SQLite and PostgreSQL support ON CONFLICT DO NOTHING). Runs
    in the session's transaction, or on ``conn``."""
    if not rows:
        return []
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    execute = conn.execute if conn is not None else db.session.execute
    # One statement with the rows passed apart: SQLAlchemy batches it ("insertmanyvalues")
    # and caches its compiled form (a VALUES list of thousands of parameters is compiled
    # anew each time: three quarters of a fan-out's time in bench/notifications.py).
    stmt = dialect.insert(model).on_conflict_do_nothing()
    if not returning:
        execute(stmt, rows)
        return []
    return list(execute(stmt.returning(*returning), rows).all())


# --- following -------------------------------------------------------------------------------


def _check_target(target_type: str) -> None:
    if target_type not in FOLLOW_TARGETS:
        raise ValueError(f"unknown follow target {target_type!r}")


def _set_follow(user: User, target_type: str, target_id: int, active: bool) -> None:
    _check_target(target_type)
    row = {"user_id": user.id, "target_type": target_type, "target_id": target_id}
    _insert_ignoring_duplicates(Follow, [{**row, "active": active}])
    db.session.execute(
        update(Follow)
        .where(
            Follow.user_id == user.id,
            Follow.target_type == target_type,
            Follow.target_id == target_id,
            Follow.active.is_not(active),
        )
        .values({"active": active, **({"created_at": utcnow()} if active else {})})
    )
    db.session.commit()
    g.pop("follows", None)


def follow(user: User, target_type: str, target_id: int) -> None:
    """``user`` follows the target from now on (again, if they had unfollowed it)."""
    _set_follow(user, target_type, target_id, True)


def auto_follow(user_id: int, target_type: str, target_id: int) -> None:
    """Follow because of something the user did (asking, answering, voting an idea), unless
    they unfollowed the target before. Called after the change committed: it writes on a
    connection of its own, so the caller's objects stay loaded."""
    auto_follow_many([user_id], target_type, target_id)


def auto_follow_many(user_ids: Iterable[int], target_type: str, target_id: int) -> None:
    """:func:`auto_follow` for many users at once, in one statement (a duplicate idea's
    thousand followers following the original)."""
    _check_target(target_type)
    rows = [
        {"user_id": user_id, "target_type": target_type, "target_id": target_id}
        for user_id in dict.fromkeys(user_ids)
    ]
    if rows:
        with db.engine.begin() as conn:
            _insert_ignoring_duplicates(Follow, rows, conn=conn)
    g.pop("follows", None)


def unfollow(user: User, target_type: str, target_id: int) -> None:
    """Stop following; remembered, so that automatic follows do not bring it back."""
    _set_follow(user, target_type, target_id, False)


def is_following(user: Any, target_type: str, target_id: int) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    cache = g.setdefault("follows", {})
    key = (user.id, target_type, target_id)
    if key not in cache:
        cache[key] = bool(
            db.session.scalar(
                select(Follow.active).where(
                    Follow.user_id == user.id,
                    Follow.target_type == target_type,
                    Follow.target_id == target_id,
                )
            )
        )
    return cache[key]


def followers(target_type: str, target_ids: Iterable[int]) -> Any:
    """A SELECT of the ids of active users following any of the targets."""
    return (
        select(Follow.user_id)
        .join(User, User.id == Follow.user_id)
        .where(
            Follow.target_type == target_type,
            Follow.target_id.in_(list(target_ids)),
            Follow.active.is_(True),
            User.active.is_(True),
        )
        .distinct()
    )


def visible_tag_ids(user: Any, tag_ids: Iterable[int]) -> set[int]:
    """The tags among ``tag_ids`` that are on at least one topic the user may see: a tag used
    only in private spaces is as private as they are."""
    from community.topics.models import TopicTag

    ids = list(tag_ids)
    if not ids:
        return set()
    visible = (
        select(TopicTag.tag_id)
        .join(Topic, Topic.id == TopicTag.topic_id)
        .where(
            TopicTag.tag_id.in_(ids),
            Topic.space_id.in_(visible_space_ids(user)),
            Topic.deleted_at.is_(None),
            Topic.held_at.is_(None),
        )
        .distinct()
    )
    return set(db.session.scalars(visible))


@dataclass
class Followed:
    """One row of a user's follows, with what it points at (``None`` when it is gone or
    hidden from the user)."""

    target_type: str
    target_id: int
    created_at: datetime
    title: str
    url_args: tuple[str, dict[str, Any]] | None


def follows_of(user: User, page: int, per_page: int) -> tuple[list[Followed], bool]:
    """The user's active follows, newest first, with their titles; targets the user may no
    longer see are left out."""
    rows = db.session.scalars(
        select(Follow)
        .where(Follow.user_id == user.id, Follow.active.is_(True))
        .order_by(Follow.created_at.desc(), Follow.target_type, Follow.target_id)
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    ).all()
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    ids: dict[str, list[int]] = {}
    for row in rows:
        ids.setdefault(row.target_type, []).append(row.target_id)
    topics = {
        t.id: t for t in db.session.scalars(select(Topic).where(Topic.id.in_(ids.get("topic", []))))
    }
    spaces = {
        s.id: s for s in db.session.scalars(select(Space).where(Space.id.in_(ids.get("space", []))))
    }
    shown_tags = visible_tag_ids(user, ids.get("tag", []))
    tags = {t.id: t for t in db.session.scalars(select(Tag).where(Tag.id.in_(shown_tags)))}
    result = []
    for row in rows:
        if row.target_type == "topic":
            topic = topics.get(row.target_id)
            if topic is None or not can("topic.view", topic, user) or topic.deleted_at:
                continue
            title = topic.title
            target = ("topics.topic", {"topic_id": topic.id, "slug": topic.slug})
        elif row.target_type == "space":
            space = spaces.get(row.target_id)
            if space is None or not can("space.view", space, user):
                continue
            title, target = space.title, ("spaces.space", {"slug": space.slug})
        else:
            tag = tags.get(row.target_id)
            if tag is None:
                continue
            title, target = "#" + tag.name, ("web.tag", {"name": tag.name})
        result.append(Followed(row.target_type, row.target_id, row.created_at, title, target))
    return result, has_next


# --- preferences -----------------------------------------------------------------------------


def deliveries_for(user_ids: Sequence[int], kind: NotificationKind) -> dict[int, str]:
    """Each user's choice for ``kind`` (the kind's default where they made none)."""
    chosen: dict[int, str] = {}
    for start in range(0, len(user_ids), INSERT_CHUNK):
        chunk = list(user_ids[start : start + INSERT_CHUNK])
        chosen.update(
            db.session.execute(
                select(NotificationSetting.user_id, NotificationSetting.delivery).where(
                    NotificationSetting.kind == kind.name,
                    NotificationSetting.user_id.in_(chunk),
                )
            ).all()
        )
    return {user_id: chosen.get(user_id, kind.default) for user_id in user_ids}


def preferences(user: User) -> dict[str, str]:
    """The user's choice for every kind, by kind name."""
    stored = dict(
        db.session.execute(
            select(NotificationSetting.kind, NotificationSetting.delivery).where(
                NotificationSetting.user_id == user.id
            )
        ).all()
    )
    return {name: stored.get(name, kind.default) for name, kind in all_kinds().items()}


def set_preferences(user: User, values: dict[str, str]) -> None:
    """Store the user's choices (kinds not named keep theirs)."""
    kinds = all_kinds()
    for name, delivery in values.items():
        if name not in kinds or delivery not in DELIVERIES:
            raise ValueError(f"unknown kind or delivery: {name!r}, {delivery!r}")
    if not values:
        return
    # An upsert: two saves at once both succeed (the last one wins).
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(NotificationSetting).values(
        [{"user_id": user.id, "kind": name, "delivery": how} for name, how in values.items()]
    )
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "kind"], set_={"delivery": stmt.excluded.delivery}
        )
    )
    db.session.commit()


# --- visibility ------------------------------------------------------------------------------


def subject_topic(notification: Notification) -> Topic | None:
    """The topic a notification is about now (a post's topic changes when topics merge)."""
    if notification.post is not None:
        return notification.post.topic
    return notification.topic


def may_see(user: Any, topic: Topic | None, post: Post | None) -> bool:
    """Whether ``user`` may see what a notification is about, as of now."""
    if post is not None:
        return (
            post.deleted_at is None
            and post.held_at is None
            and post.topic.deleted_at is None
            and can("post.view", post, user)
        )
    if topic is not None:
        return topic.deleted_at is None and topic.held_at is None and can("topic.view", topic, user)
    return True


def _visible_condition(user: Any, post_alias: Any, topic_alias: Any) -> Any:
    """SQL for "the user may see what this notification is about" (listings and counts; the
    pages check each shown notification with :func:`may_see` again)."""
    return or_(
        and_(Notification.topic_id.is_(None), Notification.post_id.is_(None)),
        and_(
            topic_alias.space_id.in_(visible_space_ids(user)),
            topic_alias.deleted_at.is_(None),
            topic_alias.held_at.is_(None),
            or_(
                Notification.post_id.is_(None),
                and_(post_alias.deleted_at.is_(None), post_alias.held_at.is_(None)),
            ),
        ),
    )


def _visible_notifications(user: Any, *columns: Any) -> Any:
    post_alias = aliased(Post)
    topic_alias = aliased(Topic)
    return (
        select(*columns)
        .select_from(Notification)
        .outerjoin(post_alias, post_alias.id == Notification.post_id)
        .outerjoin(
            topic_alias, topic_alias.id == func.coalesce(post_alias.topic_id, Notification.topic_id)
        )
        .where(
            Notification.user_id == user.id,
            # Kinds of a plugin that was disabled are kept, but neither shown nor counted.
            Notification.kind.in_(list(_kinds())),
            _visible_condition(user, post_alias, topic_alias),
        )
    )


# --- notify ----------------------------------------------------------------------------------


def _kinds() -> dict[str, NotificationKind]:
    """Every kind, asked of the plugins once per request (or task)."""
    kinds = g.get("notification_kinds")
    if kinds is None:
        kinds = g.notification_kinds = all_kinds()
    return kinds


def _kind(name: str) -> NotificationKind:
    kinds = _kinds()
    if name not in kinds:
        raise LookupError(
            f"unknown notification kind {name!r}: declare it with community_notification_kinds"
        )
    return kinds[name]


def add_notifications(
    recipients: Iterable[User],
    kind: str,
    *,
    actor: User | None = None,
    topic: Topic | None = None,
    post: Post | None = None,
    key: str | None = None,
    group_key: str | None = None,
    data: dict[str, Any] | None = None,
    url: str | None = None,
) -> list[tuple[int, str]]:
    """Write notifications in the current transaction (the caller commits, then calls
    :func:`dispatch`). Returns ``(id, delivery)`` of those written: recipients who are the
    actor, suspended, may not see the subject, chose "off" for the kind, or were already told
    (same kind and key) get none."""
    spec = _kind(kind)
    if post is not None:
        topic = post.topic
    if key is None:
        if post is not None:
            key = f"post:{post.id}"
        elif topic is not None:
            key = f"topic:{topic.id}"
        else:
            raise ValueError("a notification about neither a topic nor a post needs a key")
    if len(key) > KEY_MAX or len(group_key or "") > KEY_MAX:
        raise ValueError(f"a notification's key and group_key have at most {KEY_MAX} characters")
    if url is not None:
        from community.security import safe_next_url

        if len(url) > URL_MAX:
            raise ValueError(f"a notification's url has at most {URL_MAX} characters")

        if safe_next_url(url, "") != url:
            raise ValueError("a notification's url is a path on this site, e.g. /s/ideas")
    recipients = [user for user in recipients if user is not None]
    prefetch_moderated_spaces(user.id for user in recipients)
    users: dict[int, User] = {}
    for user in recipients:
        if user.id in users or not user.active:
            continue
        if actor is not None and user.id == actor.id:
            continue
        if not may_see(user, topic, post):
            continue
        users[user.id] = user
    if not users:
        return []
    chosen = deliveries_for(list(users), spec)
    now = utcnow()
    rows = [
        {
            "user_id": user_id,
            "kind": kind,
            "key": key,
            "group_key": group_key or key,
            "actor_id": actor.id if actor is not None else None,
            "topic_id": topic.id if topic is not None else None,
            "post_id": post.id if post is not None else None,
            "data": data or {},
            "url": url,
            "delivery": delivery,
            "created_at": now,
        }
        for user_id, delivery in chosen.items()
        if delivery != "off"
    ]
    inserted = _insert_ignoring_duplicates(
        Notification, rows, Notification.id, Notification.delivery
    )
    return [(row[0], row[1]) for row in inserted]


def dispatch(written: list[tuple[int, str]]) -> None:
    """After the commit that wrote notifications: queue their emails and plugin channels."""
    from community.notifications import delivery

    channels = list(all_channels()) if written else []
    for notification_id, how in written:
        if how == "email":
            enqueue(delivery.email_notification, notification_id)
        for name in channels:
            enqueue(delivery.deliver_to_channel, name, notification_id, 0)


def notify(
    recipients: Iterable[User],
    kind: str,
    *,
    actor: User | None = None,
    topic: Topic | None = None,
    post: Post | None = None,
    key: str | None = None,
    group_key: str | None = None,
    data: dict[str, Any] | None = None,
    url: str | None = None,
) -> list[int]:
    """Tell ``recipients`` something: the one API for core and plugins.

    Each recipient gets the notification in their inbox and, as they chose for ``kind``, by
    email (at once or in a digest) and through the plugins' channels; sending is the worker's
    job. Nobody is told about a ``topic`` or ``post`` they may not see; the ``actor`` is never
    told about their own doing; the same ``kind`` and ``key`` reach a user once (the key
    defaults to the post or topic, e.g. ``"post:42"``), so retrying is safe.

    :param kind: a kind's name (core's or one declared with ``community_notification_kinds``).
    :param group_key: what the inbox gathers unread notifications by (default: ``key``).
    :param data: plain JSON values the kind's ``describe`` may use.
    :param url: where the notification leads when it is about neither a topic nor a post (a
        path on this site).
    :return: the ids of the notifications written. Commits.
    """
    written = add_notifications(
        recipients,
        kind,
        actor=actor,
        topic=topic,
        post=post,
        key=key,
        group_key=group_key,
        data=data,
        url=url,
    )
    db.session.commit()
    dispatch(written)
    return [notification_id for notification_id, _how in written]


# --- the inbox -------------------------------------------------------------------------------


def unread_count(user: Any) -> int:
    """Unread notifications the user may see, up to UNREAD_CAP + 1 (one query, per request)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    if "unread_notifications" not in g:
        capped = (
            _visible_notifications(user, Notification.id)
            .where(Notification.read_at.is_(None))
            .limit(UNREAD_CAP + 1)
            .subquery()
        )
        g.unread_notifications = db.session.scalar(select(func.count()).select_from(capped)) or 0
    return g.unread_notifications


@dataclass
class InboxGroup:
    """Notifications shown as one line of the inbox: ``count`` of the same kind about the
    same thing, read or unread together. ``latest`` gives the wording; ``first`` is where
    opening the line leads (the oldest, so the reader goes on from there)."""

    kind: str
    count: int
    unread: bool
    latest: Notification
    first_id: int
    text: str


def inbox(user: User, page: int, per_page: int) -> tuple[list[InboxGroup], bool]:
    """A page of the user's inbox, newest first: the groups of their newest INBOX_WINDOW
    notifications (grouping a whole history on every view would cost in proportion to it)."""
    window = (
        _visible_notifications(user, Notification.id)
        .order_by(Notification.id.desc())
        .limit(INBOX_WINDOW)
        .subquery()
    )
    stmt = (
        select(
            Notification.kind,
            Notification.group_key,
            Notification.read_at,
            func.count().label("n"),
            func.min(Notification.id).label("first_id"),
            func.max(Notification.id).label("last_id"),
        )
        .where(Notification.id.in_(select(window.c.id)))
        .group_by(Notification.kind, Notification.group_key, Notification.read_at)
        .order_by(func.max(Notification.created_at).desc(), func.max(Notification.id).desc())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    groups = db.session.execute(stmt).all()
    has_next = len(groups) > per_page
    groups = groups[:per_page]
    latest = {
        n.id: n
        for n in db.session.scalars(
            select(Notification)
            .where(Notification.id.in_([row.last_id for row in groups]))
            .options(
                # A post's topic is the notification's own (found in the session) unless
                # topics were merged since.
                selectinload(Notification.actor),
                selectinload(Notification.topic),
                selectinload(Notification.post),
            )
        )
    }
    kinds = all_kinds()
    result = []
    for row in groups:
        notification = latest.get(row.last_id)
        kind = kinds.get(row.kind)
        if notification is None or kind is None:
            continue  # a disabled plugin's kind: kept, shown again when it is back
        if not may_see(user, subject_topic(notification), notification.post):
            continue
        result.append(
            InboxGroup(
                kind=row.kind,
                count=row.n,
                unread=row.read_at is None,
                latest=notification,
                first_id=row.first_id,
                text=describe(notification, row.n if row.read_at is None else 1, kind),
            )
        )
    return result, has_next


def describe(
    notification: Notification, count: int = 1, kind: NotificationKind | None = None
) -> str:
    kind = kind or _kind(notification.kind)
    try:
        return kind.describe(notification, count)
    except Exception:  # a plugin's wording must not break the inbox
        import logging

        logging.getLogger(__name__).exception("describing %r failed", notification)
        return str(kind.label)


def open_notification(user: User, notification_id: int) -> Notification | None:
    """The user's notification, with its whole unread group marked read (None when it is not
    theirs or its subject is hidden from them now)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        return None
    if not may_see(user, subject_topic(notification), notification.post):
        return None
    mark_group_read(user, notification)
    return notification


def mark_group_read(user: User, notification: Notification) -> None:
    db.session.execute(
        update(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.kind == notification.kind,
            Notification.group_key == notification.group_key,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    db.session.commit()
    g.pop("unread_notifications", None)


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    g.pop("unread_notifications", None)
    return result.rowcount  # type: ignore[attr-defined]


def mark_topic_read(user: Any, topic: Topic) -> None:
    """Reading a topic reads its notifications (cheap when there are none unread)."""
    if not getattr(user, "is_authenticated", False) or not unread_count(user):
        return
    now = utcnow()
    touched = 0
    # About the topic, or about a post now in it (merged here from another topic): two
    # statements, each led by its own index (one with OR would read every unread row).
    for about in (
        Notification.topic_id == topic.id,
        Notification.post_id.in_(select(Post.id).where(Post.topic_id == topic.id)),
    ):
        result = db.session.execute(
            update(Notification)
            .where(about, Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=now)
        )
        touched += result.rowcount  # type: ignore[attr-defined]
    # Only notifications changed, and the statements kept any loaded ones up to date: the
    # page's topic and user need not be read again after the commit.
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    if touched:
        g.pop("unread_notifications", None)


def target_path(notification: Notification) -> str:
    """Where a notification leads (a path on this site)."""
    from flask import url_for

    if notification.post is not None:
        return url_for("topics.post_link", post_id=notification.post.id)
    if notification.topic is not None:
        topic = notification.topic
        return url_for("topics.topic", topic_id=topic.id, slug=topic.slug)
    return notification.url or url_for("notifications.inbox")
