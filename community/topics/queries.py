"""Read-side queries for listings and pages. Every listing filters on
:func:`community.permissions.visible_space_ids`, so private spaces never leak."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, or_, select, true
from sqlalchemy.orm import selectinload

from community.accounts.models import User
from community.extensions import db
from community.permissions import can, visible_space_ids
from community.spaces.models import Space
from community.topics.models import Post, Topic, Vote

TOPIC_FILTERS = ("all", "questions", "unanswered", "unsolved", "ideas", "discussions")
IDEA_SORTS = ("votes", "newest")


def visible_topics(viewer: Any) -> Select:
    return (
        select(Topic)
        .where(
            Topic.space_id.in_(visible_space_ids(viewer)),
            Topic.deleted_at.is_(None),
            Topic.held_at.is_(None),
        )
        .options(selectinload(Topic.tags))
    )


def filter_topics(stmt: Select, filter_name: str, sort: str = "activity") -> Select:
    if filter_name == "questions":
        stmt = stmt.where(Topic.kind == "question")
    elif filter_name == "unanswered":
        stmt = stmt.where(Topic.kind == "question", Topic.reply_count == 0)
    elif filter_name == "unsolved":
        stmt = stmt.where(Topic.kind == "question", Topic.accepted_answer_id.is_(None))
    elif filter_name == "ideas":
        stmt = stmt.where(Topic.kind == "idea")
    elif filter_name == "discussions":
        stmt = stmt.where(Topic.kind == "discussion")
    if filter_name == "ideas" and sort == "votes":
        return stmt.order_by(Topic.score.desc(), Topic.id.desc())
    if sort == "newest" or filter_name == "ideas":
        return stmt.order_by(Topic.created_at.desc(), Topic.id.desc())
    return stmt.order_by(Topic.last_activity_at.desc(), Topic.id.desc())


def space_topics(viewer: Any, space: Space, filter_name: str, sort: str) -> Select:
    stmt = visible_topics(viewer).where(Topic.space_id == space.id)
    if filter_name == "all" and sort == "activity":
        # Pinned topics first on the space's main list only.
        stmt = stmt.order_by(Topic.is_pinned.desc())
    return filter_topics(stmt, filter_name, sort)


def opening_post(topic: Topic) -> Post:
    return db.session.scalars(
        select(Post).where(Post.topic_id == topic.id, Post.is_opening.is_(True))
    ).one()


def _unheld_or_own(viewer: Any, topic: Topic) -> Any:
    """Posts held for review are seen by their authors and the space's moderators only."""
    if can("space.moderate", topic.space, viewer):
        return true()
    if viewer.is_authenticated:
        return or_(Post.held_at.is_(None), Post.author_id == viewer.id)
    return Post.held_at.is_(None)


def answers_for(topic: Topic, viewer: Any) -> Select:
    """Replies to a topic. Questions: the accepted answer first, then by votes; others in the
    order they were written."""
    stmt = select(Post).where(
        Post.topic_id == topic.id,
        Post.is_opening.is_(False),
        Post.parent_id.is_(None),
        _unheld_or_own(viewer, topic),
    )
    if topic.is_question:
        accepted_first = case((Post.id == topic.accepted_answer_id, 0), else_=1)
        return stmt.order_by(accepted_first, Post.score.desc(), Post.created_at, Post.id)
    return stmt.order_by(Post.created_at, Post.id)


def comments_for(post_ids: list[int], topic: Topic, viewer: Any) -> dict[int, list[Post]]:
    by_parent: dict[int, list[Post]] = {pid: [] for pid in post_ids}
    if not post_ids:
        return by_parent
    stmt = (
        select(Post)
        .where(Post.parent_id.in_(post_ids), _unheld_or_own(viewer, topic))
        .order_by(Post.created_at, Post.id)
    )
    for comment in db.session.scalars(stmt):
        if comment.parent_id is not None:
            by_parent[comment.parent_id].append(comment)
    return by_parent


def votes_of(user: Any, post_ids: list[int]) -> dict[int, int]:
    if not user.is_authenticated or not post_ids:
        return {}
    rows = db.session.execute(
        select(Vote.post_id, Vote.value).where(Vote.user_id == user.id, Vote.post_id.in_(post_ids))
    )
    return dict(rows.all())


def _visible_answers_by(viewer: Any, user: User) -> list[Any]:
    """Conditions for the live answers ``user`` wrote in questions ``viewer`` may see."""
    return [
        Post.author_id == user.id,
        Post.is_opening.is_(False),
        Post.parent_id.is_(None),
        Post.deleted_at.is_(None),
        Post.held_at.is_(None),
        Topic.deleted_at.is_(None),
        Topic.held_at.is_(None),
        Topic.kind == "question",
        Topic.space_id.in_(visible_space_ids(viewer)),
    ]


def user_answers(viewer: Any, user: User) -> Select:
    return (
        select(Post)
        .join(Topic, Topic.id == Post.topic_id)
        .where(*_visible_answers_by(viewer, user))
        .options(selectinload(Post.topic))
        .order_by(Post.created_at.desc(), Post.id.desc())
    )


def user_stats(viewer: Any, user: User) -> dict[str, int]:
    """Counts on a profile, limited to what the viewer may see."""
    spaces = visible_space_ids(viewer)
    topic_counts = dict(
        db.session.execute(
            select(Topic.kind, func.count())
            .where(
                Topic.author_id == user.id,
                Topic.deleted_at.is_(None),
                Topic.held_at.is_(None),
                Topic.space_id.in_(spaces),
            )
            .group_by(Topic.kind)
        ).all()
    )
    answers, accepted = db.session.execute(
        select(func.count(), func.count(Topic.id).filter(Topic.accepted_answer_id == Post.id))
        .select_from(Post)
        .join(Topic, Topic.id == Post.topic_id)
        .where(*_visible_answers_by(viewer, user))
    ).one()
    return {
        "questions": topic_counts.get("question", 0),
        "ideas": topic_counts.get("idea", 0),
        "discussions": topic_counts.get("discussion", 0),
        "answers": answers,
        "accepted": accepted,
    }


def may_view(viewer: Any, topic: Topic) -> bool:
    return can("topic.view", topic, viewer)
