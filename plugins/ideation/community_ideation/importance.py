"""How much an idea matters to the members who voted for it: nice to have, important or
critical. Only a voter may say it; taking the vote back forgets it; when the idea turns out to
be a duplicate, it goes with the vote to the original (unless the member said it there)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from community.errors import Refused
from community.extensions import db
from community.topics.models import Post, Vote
from community.topics.queries import opening_post
from community_ideation.models import Importance

LEVELS = {
    "nice": _l("Nice to have"),
    "important": _l("Important"),
    "critical": _l("Critical"),
}


def has_voted(user: Any, topic: Any) -> bool:
    post = opening_post(topic)
    return (
        db.session.scalar(
            select(Vote.value).where(Vote.user_id == user.id, Vote.post_id == post.id)
        )
        or 0
    ) > 0


def level_of(user: Any, topic: Any) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Importance.level).where(
            Importance.user_id == user.id, Importance.topic_id == topic.id
        )
    )


def set_level(user: Any, topic: Any, level: str) -> str | None:
    """Say how much ``topic`` matters to ``user`` (``""`` forgets it). Raises
    :class:`Refused` unless ``user`` voted for the idea."""
    if level and level not in LEVELS:
        raise Refused(_("Choose nice to have, important or critical."), "level")
    if not topic.is_idea or not has_voted(user, topic):
        raise Refused(_("Vote for the idea first, then say how much it matters to you."))
    from community_ideation.changes import current_workflow

    if topic.status in current_workflow().closed_keys:
        raise Refused(_("This idea is closed: its voters' choices stay as they were."))
    if not level:
        db.session.execute(
            delete(Importance).where(Importance.user_id == user.id, Importance.topic_id == topic.id)
        )
        db.session.commit()
        return None
    changed = db.session.execute(
        update(Importance)
        .where(Importance.user_id == user.id, Importance.topic_id == topic.id)
        .values(level=level)
    ).rowcount
    if not changed:
        try:
            with db.session.begin_nested():
                db.session.add(Importance(user_id=user.id, topic_id=topic.id, level=level))
        except IntegrityError:  # the same member's other request won: keep this choice
            db.session.execute(
                update(Importance)
                .where(Importance.user_id == user.id, Importance.topic_id == topic.id)
                .values(level=level)
            )
    db.session.commit()
    return level


def counts(topic_ids: list[int]) -> dict[int, dict[str, int]]:
    """{topic id: {level: members}} in one query."""
    result: dict[int, dict[str, int]] = {}
    if not topic_ids:
        return result
    rows = db.session.execute(
        select(Importance.topic_id, Importance.level, func.count())
        .where(Importance.topic_id.in_(topic_ids))
        .group_by(Importance.topic_id, Importance.level)
    )
    for topic_id, level, number in rows:
        result.setdefault(topic_id, {})[level] = number
    return result


def forget(user_id: int, topic_id: int) -> None:
    """The vote was taken back (the ``community_vote_retracted`` hook)."""
    db.session.execute(
        delete(Importance).where(Importance.user_id == user_id, Importance.topic_id == topic_id)
    )
    db.session.commit()


def move(source_id: int, target_id: int) -> None:
    """The idea ``source_id`` was marked as a duplicate of ``target_id``: what its voters said
    goes with their votes, unless they said it of the original already."""
    said = select(Importance.user_id).where(Importance.topic_id == target_id)
    voters = (
        select(Vote.user_id)
        .join(Post, Post.id == Vote.post_id)
        .where(Post.topic_id == target_id, Post.is_opening.is_(True), Vote.value > 0)
    )
    db.session.execute(
        update(Importance)
        .where(
            Importance.topic_id == source_id,
            Importance.user_id.not_in(said),
            Importance.user_id.in_(voters),  # a vote that did not move (own idea) takes it
        )
        .values(topic_id=target_id)
    )
    db.session.execute(delete(Importance).where(Importance.topic_id == source_id))
    db.session.commit()
