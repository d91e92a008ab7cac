"""Flags: members tell moderators about a post. One flag per member and post (the database
decides), weighed by the flagger's trust when the site rates it; enough open flags from
different members hide the post until a moderator decides.

Flaggers stay anonymous: nothing here or in the pages built on it shows a flagger's name to
the post's author (or to anyone else)."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from community.dbtypes import utcnow
from community.extensions import db
from community.permissions import can
from community.plugins import trust_levels
from community.topics.models import Post
from community_moderation.common import is_staffish
from community_moderation.models import FLAG_REASONS, Flag
from community_moderation.settings import settings

MAX_TEXT = 500

REASON_LABELS = {
    "spam": _l("Spam"),
    "abusive": _l("Rude or abusive"),
    "off_topic": _l("Off-topic"),
    "staff": _l("Needs a staff member's attention"),
    "other": _l("Something else"),
}

REASON_HELP = {
    "spam": _l("Advertising, or links that have nothing to do with the discussion."),
    "abusive": _l("Insults, harassment or hateful words."),
    "off_topic": _l("It does not belong in this topic or space."),
    "staff": _l("Something a staff member should look at, e.g. personal data."),
    "other": _l("Tell the moderators what is wrong."),
}

assert tuple(REASON_LABELS) == FLAG_REASONS  # noqa: S101 - the table's check constraint

# Name of this request's cache on flask.g.
CACHE = "moderation_flags_by_topic"


def reason_label(reason: str) -> str:
    return str(REASON_LABELS.get(reason, reason))


def may_flag(user: Any, post: Post) -> bool:
    """A signed-in, active, confirmed member who sees the post, on someone else's published post."""
    if not getattr(user, "is_authenticated", False):
        return False
    if not user.is_active or not user.is_confirmed:
        return False
    from community_moderation.sanctions import active_silence

    if active_silence(user) is not None:
        return False  # read-only: a silenced member's flags would still hide posts
    if post.author_id == user.id or post.deleted_at is not None or post.held_at is not None:
        return False
    topic = post.topic
    if topic.deleted_at is not None or topic.held_at is not None:
        return False
    return can("post.view", post, user)


def flag_weight(user: Any) -> float:
    """1, or with ``weigh_by_trust``: 1 + 0.5 per trust level above 1."""
    if not settings()["weigh_by_trust"]:
        return 1.0
    level = trust_levels([user]).get(user.id, 0)
    return 1.0 + 0.5 * max(0, level - 1)


def has_flagged(user: Any, post: Post) -> bool:
    return (
        db.session.scalar(
            select(Flag.id).where(Flag.post_id == post.id, Flag.user_id == user.id).limit(1)
        )
        is not None
    )


def add_flag(user: Any, post: Post, reason: str, text: str = "") -> bool:
    """Store ``user``'s flag on ``post``; False when they had already flagged it (then
    nothing changes). May hide the post (see :func:`maybe_auto_hide`)."""
    if reason not in FLAG_REASONS:
        raise ValueError(reason)
    text = (text or "").strip()[:MAX_TEXT]
    try:
        # A savepoint: when the unique constraint refuses the row (a second flag, or two
        # clicks at once), only this block is undone and the session stays usable.
        with db.session.begin_nested():
            db.session.add(
                Flag(
                    post_id=post.id,
                    user_id=user.id,
                    reason=reason,
                    text=text,
                    weight=flag_weight(user),
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        return False
    db.session.commit()
    maybe_auto_hide(post)
    return True


def author_is_protected(post: Post) -> bool:
    """Posts by staff and by moderators of the post's space are never hidden by flags."""
    author = post.author
    return is_staffish(author) or can("space.moderate", post.topic.space, author)


def maybe_auto_hide(post: Post) -> bool:
    """Hide ``post`` when its open flags, one per member, weigh at least ``auto_hide_flags``.
    It stays in the review queue with its flags. Returns True when it hid the post."""
    db.session.refresh(post)
    if post.held_at is not None or post.deleted_at is not None:
        return False
    rows = db.session.execute(
        select(Flag.user_id, Flag.weight, Flag.reason).where(
            Flag.post_id == post.id, Flag.resolved_at.is_(None)
        )
    ).all()
    weights: dict[int, float] = {}
    reasons: set[str] = set()
    for user_id, weight, reason in rows:
        # The table keeps one flag per member; should that ever change, one member counts once.
        weights[user_id] = max(weights.get(user_id, 0.0), float(weight or 1.0))
        reasons.add(reason)
    if sum(weights.values()) < settings()["auto_hide_flags"] or author_is_protected(post):
        return False
    from community.topics.services import hide_post

    named = ", ".join(reason_label(r) for r in FLAG_REASONS if r in reasons)
    reason = _(
        "Hidden after members flagged it (%(reasons)s). A moderator will review it.",
        reasons=named,
    )
    return hide_post(None, post, reason)


def resolve_open(post_ids: Any, actor: Any, resolution: str) -> int:
    """Close the open flags of these posts with ``resolution`` (kept, hidden, deleted...),
    in SQL, and commit. Returns how many flags were closed."""
    ids = [int(pid) for pid in post_ids]
    if not ids:
        return 0
    result = db.session.execute(
        update(Flag)
        .where(Flag.post_id.in_(ids), Flag.resolved_at.is_(None))
        .values(
            resolved_at=utcnow(),
            resolution=resolution[:16],
            resolved_by_id=getattr(actor, "id", None),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0


def resolve_for_post(post: Post, actor: Any, resolution: str) -> int:
    """Called when a post was deleted or brought back elsewhere: its open flags are done."""
    return resolve_open([post.id], actor, resolution)


def open_flag_counts(post_ids: list[int]) -> dict[int, int]:
    from sqlalchemy import func

    if not post_ids:
        return {}
    return dict(
        db.session.execute(
            select(Flag.post_id, func.count())
            .where(Flag.post_id.in_(post_ids), Flag.resolved_at.is_(None))
            .group_by(Flag.post_id)
        ).all()
    )


def flags_on_topic(topic_id: int, user: Any) -> tuple[set[int], dict[int, int]]:
    """For the post.footer slot, once per topic and request: the posts of the topic ``user``
    flagged, and the number of open flags of each post (for moderators)."""
    cache = g.setdefault(CACHE, {})
    if topic_id not in cache:
        mine: set[int] = set()
        counts: dict[int, int] = {}
        if getattr(user, "is_authenticated", False):
            rows = db.session.execute(
                select(Flag.post_id, Flag.user_id, Flag.resolved_at).where(
                    Flag.post_id.in_(select(Post.id).where(Post.topic_id == topic_id)),
                    or_(Flag.user_id == user.id, Flag.resolved_at.is_(None)),
                )
            ).all()
            for post_id, user_id, resolved_at in rows:
                if user_id == user.id:
                    mine.add(post_id)
                if resolved_at is None:
                    counts[post_id] = counts.get(post_id, 0) + 1
        cache[topic_id] = (mine, counts)
    return cache[topic_id]


def add_demo_flags(seed: int) -> int:
    """A few flags for ``community demo``, so that the review queue has work in it: members
    flag some replies of other members (spam, off-topic, abusive), one of them by enough
    members to be hidden automatically. Returns how many flags were added."""
    import random

    from community.accounts.models import User

    rng = random.Random(seed)
    members = list(
        db.session.scalars(
            select(User)
            .where(User.role == "member", User.is_staff.is_(False), User.active.is_(True))
            .order_by(User.id)
            .limit(40)
        )
    )
    replies = list(
        db.session.scalars(
            select(Post)
            .where(
                Post.is_opening.is_(False),
                Post.parent_id.is_(None),
                Post.held_at.is_(None),
                Post.deleted_at.is_(None),
                Post.author_id.in_([m.id for m in members]),
            )
            .order_by(Post.id)
            .limit(200)
        )
    )
    if len(members) < 5 or len(replies) < 4:
        return 0
    added = 0
    threshold = settings()["auto_hide_flags"]
    plan = [("spam", 1), ("off_topic", 2), ("abusive", 1), ("spam", threshold)]
    for post, (reason, count) in zip(rng.sample(replies, len(plan)), plan, strict=True):
        flaggers = [m for m in members if m.id != post.author_id]
        for n, flagger in enumerate(rng.sample(flaggers, count)):
            # The first flagger of a spam post explains; the others only tick the reason.
            spam_note = reason == "spam" and n == 0
            note = "Links to a shop that has nothing to do with routers." if spam_note else ""
            added += add_flag(flagger, post, reason, note)
    return added
