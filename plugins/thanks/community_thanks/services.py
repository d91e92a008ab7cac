"""The rules of thanking, shared by the pages and the hooks."""

from __future__ import annotations

from flask import g
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from community.extensions import db
from community.permissions import can
from community.topics.models import Post
from community_thanks.models import ThanksNote

# Name of this request's cache on flask.g; it starts with the plugin's name.
CACHE = "thanks_by_topic"


def may_thank(post, topic) -> bool:
    """Whoever may vote on an answer may thank its author: a signed-in member with a confirmed
    address, not on their own answer, not in a locked topic."""
    return topic.is_question and not post.is_opening and can("post.vote", post)


def thank(user, post, *, on_accept: bool = False) -> bool:
    """Record that ``user`` thanked the author of ``post``; False when they already had."""
    try:
        # A savepoint: when the unique constraint refuses the row, only this block is undone
        # and the session stays usable.
        with db.session.begin_nested():
            db.session.add(ThanksNote(user_id=user.id, post_id=post.id, on_accept=on_accept))
    except IntegrityError:
        return False
    db.session.commit()
    return True


def thanks_on_topic(topic_id: int) -> tuple[dict[int, int], set[int]]:
    """The number of thanks of each post of a topic, and the posts the current user thanked.

    The post.footer slot asks once per post; this answers for the whole topic with two queries
    and keeps the answer on flask.g, which lasts one request.
    """
    cache = g.setdefault(CACHE, {})
    if topic_id not in cache:
        in_topic = ThanksNote.post_id.in_(select(Post.id).where(Post.topic_id == topic_id))
        counts = dict(
            db.session.execute(
                select(ThanksNote.post_id, func.count())
                .where(in_topic)
                .group_by(ThanksNote.post_id)
            ).all()
        )
        mine: set[int] = set()
        if current_user.is_authenticated:
            mine = set(
                db.session.scalars(
                    select(ThanksNote.post_id).where(
                        in_topic, ThanksNote.user_id == current_user.id
                    )
                )
            )
        cache[topic_id] = (counts, mine)
    return cache[topic_id]
