"""Recompute every denormalized counter from the rows, in SQL.

Services keep counters right as they go; this is for bulk imports (the demo generator) and
for repairs after manual database work (`community recount`).
"""

from __future__ import annotations

from sqlalchemy import and_, func, select, update

from community.extensions import db
from community.spaces.models import Space
from community.topics.models import Post, Topic, Vote


def recount_all() -> None:
    votes = select(func.coalesce(func.sum(Vote.value), 0)).where(Vote.post_id == Post.id)
    ups = select(func.count()).where(Vote.post_id == Post.id, Vote.value == 1)
    downs = select(func.count()).where(Vote.post_id == Post.id, Vote.value == -1)
    db.session.execute(
        update(Post).values(
            score=votes.scalar_subquery(),
            upvotes=ups.scalar_subquery(),
            downvotes=downs.scalar_subquery(),
        )
    )
    replies = select(func.count()).where(
        Post.topic_id == Topic.id,
        Post.is_opening.is_(False),
        Post.parent_id.is_(None),
        Post.deleted_at.is_(None),
    )
    opening_score = select(Post.score).where(Post.topic_id == Topic.id, Post.is_opening.is_(True))
    db.session.execute(
        update(Topic).values(
            reply_count=replies.scalar_subquery(),
            score=func.coalesce(opening_score.scalar_subquery(), 0),
        )
    )
    live_topic = and_(Topic.space_id == Space.id, Topic.deleted_at.is_(None))
    topics = select(func.count()).select_from(Topic).where(live_topic)
    posts = select(func.coalesce(func.sum(1 + Topic.reply_count), 0)).where(live_topic)
    db.session.execute(
        update(Space).values(
            topic_count=topics.scalar_subquery(), post_count=posts.scalar_subquery()
        )
    )
    db.session.commit()
