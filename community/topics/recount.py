"""Recompute every denormalized counter from the rows, in SQL.

Services keep counters right as they go; this is for bulk imports (the demo generator), for
repairs after manual database work (`community recount`), and for the few rows a merge of
topics changes at once.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, func, select, update

from community.extensions import db
from community.spaces.models import Space
from community.topics.models import Post, Topic, Vote


def recount_all() -> None:
    recount_posts()
    recount_topics()
    recount_spaces()
    db.session.commit()


def recount_posts(post_ids: Collection[int] | None = None) -> None:
    """Score, up and down votes of the given posts (of every post when ``None``)."""
    votes = select(func.coalesce(func.sum(Vote.value), 0)).where(Vote.post_id == Post.id)
    ups = select(func.count()).where(Vote.post_id == Post.id, Vote.value == 1)
    downs = select(func.count()).where(Vote.post_id == Post.id, Vote.value == -1)
    stmt = update(Post).values(
        score=votes.scalar_subquery(),
        upvotes=ups.scalar_subquery(),
        downvotes=downs.scalar_subquery(),
    )
    if post_ids is not None:
        stmt = stmt.where(Post.id.in_(post_ids))
    db.session.execute(stmt)


def recount_topics(topic_ids: Collection[int] | None = None) -> None:
    """Reply count and score of the given topics (of every topic when ``None``); recount
    their posts first."""
    replies = select(func.count()).where(
        Post.topic_id == Topic.id,
        Post.is_opening.is_(False),
        Post.parent_id.is_(None),
        Post.deleted_at.is_(None),
        Post.held_at.is_(None),
    )
    opening_score = select(Post.score).where(Post.topic_id == Topic.id, Post.is_opening.is_(True))
    stmt = update(Topic).values(
        reply_count=replies.scalar_subquery(),
        score=func.coalesce(opening_score.scalar_subquery(), 0),
    )
    if topic_ids is not None:
        stmt = stmt.where(Topic.id.in_(topic_ids))
    db.session.execute(stmt)


def recount_spaces(space_ids: Collection[int] | None = None) -> None:
    """Topic and post counts of the given spaces (of every space when ``None``); recount
    their topics first."""
    live_topic = and_(
        Topic.space_id == Space.id, Topic.deleted_at.is_(None), Topic.held_at.is_(None)
    )
    topics = select(func.count()).select_from(Topic).where(live_topic)
    posts = select(func.coalesce(func.sum(1 + Topic.reply_count), 0)).where(live_topic)
    stmt = update(Space).values(
        topic_count=topics.scalar_subquery(), post_count=posts.scalar_subquery()
    )
    if space_ids is not None:
        stmt = stmt.where(Space.id.in_(space_ids))
    db.session.execute(stmt)
