"""Voting on ideas: closed when the idea is closed (shipped, declined, duplicate), and an
optional budget of active votes per member and space (votes on open ideas; they come back
when an idea closes)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select, true

from community.extensions import db
from community.topics.models import Post, Topic, Vote
from community_ideation.changes import current_workflow
from community_ideation.settings import settings


def active_votes(user_id: int, space_id: int, closed: frozenset[str]) -> int:
    """The member's up votes on the open, live ideas of the space."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Vote)
            .join(Post, Post.id == Vote.post_id)
            .join(Topic, Topic.id == Post.topic_id)
            .where(
                Vote.user_id == user_id,
                Vote.value > 0,
                Post.is_opening.is_(True),
                Topic.kind == "idea",
                Topic.space_id == space_id,
                Topic.deleted_at.is_(None),
                Topic.merged_into_id.is_(None),
                or_(Topic.status.is_(None), Topic.status.not_in(closed)) if closed else true(),
            )
        )
        or 0
    )


def vote_gate(user: Any, post: Any, value: int) -> str | None:
    """The ``community_vote_gate`` hook for ideas' opening posts."""
    if not post.is_opening or not post.topic.is_idea:
        return None
    existing = db.session.scalar(
        select(Vote.value).where(Vote.user_id == user.id, Vote.post_id == post.id)
    )
    if existing == value:
        return None  # taking a vote back is always possible
    flow = current_workflow()
    status = flow.status(post.topic.status)
    if status is not None and status.closed:
        return _("Voting on this idea is closed: it is %(status)s.", status=status.label)
    budget = int(settings()["vote_budget"] or 0)
    if budget and value > 0 and existing is None:
        used = active_votes(user.id, post.topic.space_id, flow.closed_keys)
        if used >= budget:
            return ngettext(
                "You have used your %(num)d vote in this space. It comes back when the idea "
                "ships or is declined, or take it back from another idea.",
                "You have used your %(num)d votes in this space. They come back when ideas "
                "ship or are declined, or take one back from another idea.",
                budget,
            )
    return None
