"""Core's own implementations of the event hooks: automatic follows, and the events that
notify people. Registered like a plugin that is always enabled (see ``CORE_PLUGINS``)."""

from __future__ import annotations

from typing import Any

from community.dbtypes import utcnow
from community.hookspecs import hookimpl
from community.notifications import service
from community.notifications.delivery import record_event

NOTE_MAX = 2000  # of an idea status note kept in the event (emails quote 400 characters)


@hookimpl(trylast=True)
def community_topic_created(topic: Any, post: Any) -> None:
    service.auto_follow(topic.author_id, "topic", topic.id)
    record_event("topic", post=post.id)


@hookimpl(trylast=True)
def community_post_created(post: Any) -> None:
    if post.parent_id is None:
        service.auto_follow(post.author_id, "topic", post.topic_id)
    record_event("post", post=post.id)


@hookimpl(trylast=True)
def community_post_edited(post: Any, editor: Any, previous_source: str) -> None:
    if "@" not in post.body_source or post.held_at is not None:
        return
    from community.mentions import mentioned_users

    before = {u.id for u in mentioned_users(previous_source)} if "@" in previous_source else set()
    added = [u.id for u in mentioned_users(post.body_source) if u.id not in before]
    if added:
        record_event("mention", post=post.id, users=added, actor=editor.id)


@hookimpl(trylast=True)
def community_answer_accepted(topic: Any, answer: Any, actor: Any, previous_answer: Any) -> None:
    record_event("accepted", post=answer.id, actor=actor.id)


@hookimpl(trylast=True)
def community_idea_status_changed(topic: Any, actor: Any, previous_status: Any, note: Any) -> None:
    if topic.status:
        # ``at`` tells this change from an earlier one to the same status (an idea that went
        # back to Planned is news again); a repeated delivery of the same event is not.
        record_event(
            "status",
            topic=topic.id,
            actor=actor.id,
            status=topic.status,
            at=utcnow().isoformat(),
            note=(note or "")[:NOTE_MAX],
        )


@hookimpl(trylast=True)
def community_vote_cast(vote: Any, post: Any, previous_value: Any) -> None:
    if post.is_opening and post.topic.is_idea and vote.value > 0:
        service.auto_follow(vote.user_id, "topic", post.topic_id)
