"""Rules for topics, posts, votes and accepted answers.

Every function here checks permissions through :mod:`community.permissions`, changes counters in
SQL (``x = x + 1``, never read-modify-write), commits, and only then fires the event hooks.
Changes made with SQL statements name their topic to :func:`queue_topics` so that the search
index follows (changes to ORM objects are noticed without it).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, cast

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from community.accounts.models import User
from community.dbtypes import utcnow
from community.errors import Refused
from community.extensions import db
from community.markdown import render_markdown, sanitize_html
from community.permissions import can
from community.plugins import Hold, apply_filter, ask_gates, audit, fire
from community.search.indexing import queue_topics
from community.spaces.models import Space, TopicKind
from community.topics.models import (
    DEFAULT_IDEA_STATUS,
    Post,
    PostRevision,
    Tag,
    Topic,
    Vote,
)
from community.topics.recount import recount_posts, recount_spaces, recount_topics

TITLE_MIN, TITLE_MAX = 8, 200
BODY_MIN = 2
MAX_TAGS = 5
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9+#.-]{0,31}$")
IDEA_STATUS_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_ROW_ID = 2**31 - 1  # ids beyond this are no row (and overflow SQLite's integers)


# --- validation ------------------------------------------------------------------------------


def clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if len(title) < TITLE_MIN:
        raise Refused(_("The title needs at least %(n)d characters.", n=TITLE_MIN), "title")
    if len(title) > TITLE_MAX:
        raise Refused(_("The title can have at most %(n)d characters.", n=TITLE_MAX), "title")
    return title


def clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    limit = current_app.config["MAX_POST_LENGTH"]
    if len(body) < BODY_MIN:
        raise Refused(_("Please write a little more."), "body")
    if len(body) > limit:
        raise Refused(_("The text can have at most %(n)d characters.", n=limit), "body")
    return body


def parse_tags(raw: str) -> list[str]:
    names = []
    for part in re.split(r"[,\s]+", (raw or "").strip().lower()):
        if not part:
            continue
        part = part.lstrip("#")
        if not TAG_RE.match(part):
            raise Refused(
                _(
                    "Tags use letters, digits and - + # . only, up to 32 characters: %(tag)s",
                    tag=part[:40],
                ),
                "tags",
            )
        if part not in names:
            names.append(part)
    if len(names) > MAX_TAGS:
        raise Refused(_("At most %(n)d tags.", n=MAX_TAGS), "tags")
    return names


def slugify(text: str, max_len: int = 80) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "topic"


def _tags_for(names: list[str]) -> list[Tag]:
    if not names:
        return []
    existing = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    tags = []
    for name in names:
        tag = existing.get(name)
        if tag is None:
            # A concurrent request may create the same tag: the unique constraint decides.
            try:
                with db.session.begin_nested():
                    tag = Tag(name=name)
                    db.session.add(tag)
            except IntegrityError:
                tag = db.session.scalars(select(Tag).where(Tag.name == name)).one()
        tags.append(tag)
    return tags


# --- topics and posts ------------------------------------------------------------------------


def _render(body: str) -> str:
    """Markdown to stored HTML: rendered with @mentions linked and sanitized, passed through
    plugins' filters, and sanitized again so that no filter can add what the allowlist
    forbids."""
    html = render_markdown(body, mentions=True)
    return sanitize_html(apply_filter("community_post_html", html, source=body))


def _gate(
    user: User,
    action: str,
    space: Space,
    topic: Topic | None,
    post: Post | None,
    title: str | None,
    body: str,
) -> Hold | None:
    """Ask the plugins' gates: raise :class:`Refused` on a refusal, return a :class:`Hold`
    when the post is to wait for review, None when it may be published."""
    answer = ask_gates(
        "community_post_gate",
        user=user,
        action=action,
        space=space,
        topic=topic,
        post=post,
        title=title,
        body=body,
    )
    if isinstance(answer, Hold):
        return answer
    if answer:
        raise Refused(answer, "body")
    return None


def _publish_event(post: Post) -> None:
    if post.is_opening:
        fire("community_topic_created", topic=post.topic, post=post)
    else:
        fire("community_post_created", post=post)


def create_topic(
    author: User, space: Space, kind: str, title: str, body: str, tags: str = ""
) -> Topic:
    if not can("space.create_topic", space, author):
        raise Refused(_("You may not start a topic in this space."))
    if kind not in {k.value for k in TopicKind}:
        raise Refused(_("Choose a kind of topic."), "kind")
    title = clean_title(title)
    body = clean_body(body)
    tag_names = parse_tags(tags)
    hold = _gate(author, "topic.create", space, None, None, title, body)
    now = utcnow()
    topic = Topic(
        space_id=space.id,
        author_id=author.id,
        kind=kind,
        title=title,
        slug=slugify(title),
        created_at=now,
        last_activity_at=now,
        status=DEFAULT_IDEA_STATUS if kind == TopicKind.IDEA else None,
        held_at=now if hold else None,
    )
    topic.tags = _tags_for(tag_names)
    post = Post(
        topic=topic,
        author_id=author.id,
        is_opening=True,
        body_source=body,
        body_html=_render(body),
        created_at=now,
        held_at=now if hold else None,
        held_reason=hold.reason[:300] if hold else None,
    )
    db.session.add_all([topic, post])
    db.session.flush()
    if hold is None:
        _bump_space(space.id, topics=1, posts=1)
    db.session.commit()
    if hold is not None:
        fire("community_post_held", post=post, reason=hold.reason)
    else:
        fire("community_topic_created", topic=topic, post=post)
    return topic


def create_post(author: User, topic: Topic, body: str, parent: Post | None = None) -> Post:
    """An answer or reply to ``topic``, or a comment on ``parent``."""
    action = "topic.comment" if parent is not None else "topic.reply"
    if not can(action, topic, author):
        if topic.is_locked:
            raise Refused(_("This topic is locked: no new replies."))
        raise Refused(_("You may not reply here."))
    if parent is not None and (
        parent.topic_id != topic.id
        or parent.parent_id is not None
        or parent.deleted_at
        or parent.held_at
    ):
        raise Refused(_("You can comment only on a visible post of this topic."))
    body = clean_body(body)
    action = "comment.create" if parent is not None else "post.create"
    hold = _gate(author, action, topic.space, topic, parent, None, body)
    now = utcnow()
    post = Post(
        topic_id=topic.id,
        author_id=author.id,
        parent_id=parent.id if parent is not None else None,
        body_source=body,
        body_html=_render(body),
        created_at=now,
        held_at=now if hold else None,
        held_reason=hold.reason[:300] if hold else None,
    )
    db.session.add(post)
    db.session.flush()
    if hold is None:
        _count_published(post, now)
    db.session.commit()
    if hold is not None:
        fire("community_post_held", post=post, reason=hold.reason)
    else:
        fire("community_post_created", post=post)
    return post


def _topic_counts(topic: Topic) -> bool:
    """Whether the topic counts in its space's counters (not deleted, not waiting)."""
    return topic.deleted_at is None and topic.held_at is None


def _count_published(post: Post, now: Any) -> None:
    """Counters and activity for a post that has just become visible to everyone (``now``
    is None when a hidden post comes back: counters only, no new activity)."""
    topic = post.topic
    if post.is_opening:
        _bump_space(topic.space_id, topics=1, posts=1 + topic.reply_count)
        return
    values: dict[str, Any] = {"last_activity_at": now} if now is not None else {}
    if post.parent_id is None:
        values["reply_count"] = Topic.reply_count + 1
        if _topic_counts(topic):
            _bump_space(topic.space_id, posts=1)
        if now is not None and topic.first_answer_at is None and post.author_id != topic.author_id:
            db.session.execute(
                update(Topic)
                .where(Topic.id == topic.id, Topic.first_answer_at.is_(None))
                .values(first_answer_at=now)
            )
    if values:
        db.session.execute(update(Topic).where(Topic.id == topic.id).values(**values))


def release_post(actor: User, post: Post) -> None:
    """Publish a post that a plugin's gate held for review: from now on everyone who may see
    the topic sees it, it counts, and the plugins hear of it as a new topic or post.

    A post that was hidden after publication (see :func:`hide_post`) comes back instead:
    the plugins hear ``community_post_unhidden``, not of a new post."""
    if not can("post.release", post, actor):
        raise Refused(_("Only moderators of this space can publish a post held for review."))
    now = utcnow()
    was_hidden = db.session.scalar(select(Post.hidden_at).where(Post.id == post.id)) is not None
    # Only the request that actually clears the hold of a live post publishes (two
    # moderators at once, or a deletion meanwhile).
    released = _rowcount(
        update(Post)
        .where(Post.id == post.id, Post.held_at.is_not(None), Post.deleted_at.is_(None))
        .values(held_at=None, held_reason=None, hidden_at=None)
    )
    if not released:
        db.session.rollback()
        return
    if post.is_opening:
        db.session.execute(update(Topic).where(Topic.id == post.topic_id).values(held_at=None))
    db.session.refresh(post)
    db.session.refresh(post.topic)
    if was_hidden:
        _count_published(post, None)
    else:
        _count_published(post, now)
    queue_topics(post.topic_id)
    db.session.commit()
    if was_hidden:
        fire("community_post_unhidden", post=post, actor=actor)
        audit(actor, "post.unhide", post, before={"visible": False}, after={"visible": True})
        return
    fire("community_post_released", post=post, actor=actor)
    audit(actor, "post.release", post, before={"visible": False}, after={"visible": True})
    _publish_event(post)


def hide_post(actor: User | None, post: Post, reason: str) -> bool:
    """Take a published post out of view until a moderator decides: only its author and the
    space's moderators see it (with ``reason``), it counts nowhere, search forgets it.
    :func:`release_post` brings it back. ``actor`` is ``None`` when a plugin's rule hides it
    (e.g. enough members flagged it); otherwise the actor must be a moderator of the space.

    Returns False when the post was not visible (already hidden, held or deleted)."""
    if actor is not None and not can("post.hide", post, actor):
        if not can("space.moderate", post.topic.space, actor):
            raise Refused(_("Only moderators of this space can hide a post."))
        return False  # already hidden, held or deleted
    reason = " ".join((reason or "").split())[:300]
    now = utcnow()
    hidden = _rowcount(
        update(Post)
        .where(Post.id == post.id, Post.held_at.is_(None), Post.deleted_at.is_(None))
        .values(held_at=now, hidden_at=now, held_reason=reason or None)
    )
    if not hidden:
        db.session.rollback()
        return False
    db.session.refresh(post)
    topic = post.topic
    db.session.refresh(topic)
    if post.is_opening:
        counted = _topic_counts(topic)
        db.session.execute(update(Topic).where(Topic.id == topic.id).values(held_at=now))
        if counted:
            _bump_space(topic.space_id, topics=-1, posts=-(1 + topic.reply_count))
    elif post.parent_id is None:
        db.session.execute(
            update(Topic).where(Topic.id == topic.id).values(reply_count=Topic.reply_count - 1)
        )
        if _topic_counts(topic):
            _bump_space(topic.space_id, posts=-1)
        if topic.accepted_answer_id == post.id:
            # As when it is deleted: a question whose answer nobody may read is not solved.
            topic.accepted_answer_id = None
            topic.accepted_at = None
    queue_topics(topic.id)
    db.session.commit()
    fire("community_post_hidden", post=post, actor=actor, reason=reason)
    audit(
        actor, "post.hide", post, reason=reason, before={"visible": True}, after={"visible": False}
    )
    return True


def edit_post(
    editor: User, post: Post, body: str, title: str | None = None, tags: str | None = None
) -> Post:
    if not can("post.edit", post, editor):
        raise Refused(_("You may not edit this post."))
    body = clean_body(body)
    topic = post.topic
    new_title = clean_title(title) if (post.is_opening and title is not None) else None
    tag_names = parse_tags(tags) if (post.is_opening and tags is not None) else None
    hold = _gate(editor, "post.edit", topic.space, topic, post, new_title, body)
    if hold is not None and post.held_at is None:
        # An edit of a published post cannot be held: it would hide what others have seen.
        # A post still waiting for review simply goes on waiting.
        raise Refused(_("This change needs a moderator's review: it cannot be saved."), "body")
    previous_tags = [tag.name for tag in topic.tags] if tag_names is not None else []
    retagged = tag_names is not None and sorted(tag_names) != sorted(previous_tags)
    if body == post.body_source and (new_title is None or new_title == topic.title):
        if retagged:
            topic.tags = _tags_for(tag_names or [])
            db.session.commit()
            fire(
                "community_topic_retagged", topic=topic, editor=editor, previous_tags=previous_tags
            )
        return post
    previous = post.body_source
    previous_title = topic.title if post.is_opening else None
    db.session.add(
        PostRevision(
            post_id=post.id,
            editor_id=editor.id,
            title=topic.title if post.is_opening else None,
            body_source=previous,
        )
    )
    post.body_source = body
    post.body_html = _render(body)
    post.edited_at = utcnow()
    if new_title is not None:
        topic.title = new_title
        topic.slug = slugify(new_title)
    if tag_names is not None:
        topic.tags = _tags_for(tag_names)
    db.session.commit()
    fire("community_post_edited", post=post, editor=editor, previous_source=previous)
    if retagged:
        fire("community_topic_retagged", topic=topic, editor=editor, previous_tags=previous_tags)
    if editor.id != post.author_id:
        audit(
            editor,
            "post.edit",
            post,
            before={"title": previous_title, "body": previous},
            after={"title": topic.title if post.is_opening else None, "body": body},
        )
    return post


def delete_post(actor: User, post: Post) -> None:
    if not can("post.delete", post, actor):
        raise Refused(_("You may not delete this post."))
    now = utcnow()
    # The conditional UPDATE takes the row first, so what is read next (held or not) is what
    # a concurrent release or deletion left: the counters follow the row, not a stale copy.
    if not _rowcount(
        update(Post)
        .where(Post.id == post.id, Post.deleted_at.is_(None))
        .values(deleted_at=now, deleted_by_id=actor.id)
    ):
        db.session.rollback()
        return
    db.session.refresh(post)
    topic = post.topic
    db.session.refresh(topic)
    if post.is_opening:
        counted = _topic_counts(topic)
        topic.deleted_at = now
        if counted:
            _bump_space(topic.space_id, topics=-1, posts=-(1 + topic.reply_count))
    elif post.parent_id is None and post.held_at is None:
        db.session.execute(
            update(Topic).where(Topic.id == topic.id).values(reply_count=Topic.reply_count - 1)
        )
        if _topic_counts(topic):
            _bump_space(topic.space_id, posts=-1)
        if topic.accepted_answer_id == post.id:
            topic.accepted_answer_id = None
            topic.accepted_at = None
    queue_topics(topic.id)
    db.session.commit()
    fire("community_post_deleted", post=post, actor=actor)
    if actor.id != post.author_id:
        audit(actor, "post.delete", post, before={"deleted": False}, after={"deleted": True})


def restore_post(actor: User, post: Post) -> None:
    if not can("post.restore", post, actor):
        raise Refused(_("You may not restore this post."))
    if not _rowcount(
        update(Post)
        .where(Post.id == post.id, Post.deleted_at.is_not(None))
        .values(deleted_at=None, deleted_by_id=None)
    ):
        db.session.rollback()
        return
    db.session.refresh(post)
    topic = post.topic
    db.session.refresh(topic)
    if post.is_opening:
        topic.deleted_at = None
        if _topic_counts(topic):
            _bump_space(topic.space_id, topics=1, posts=1 + topic.reply_count)
    elif post.parent_id is None and post.held_at is None:
        db.session.execute(
            update(Topic).where(Topic.id == topic.id).values(reply_count=Topic.reply_count + 1)
        )
        if _topic_counts(topic):
            _bump_space(topic.space_id, posts=1)
    queue_topics(topic.id)
    db.session.commit()
    fire("community_post_restored", post=post, actor=actor)
    audit(actor, "post.restore", post, before={"deleted": True}, after={"deleted": False})


def set_topic_flag(actor: User, topic: Topic, flag: str, value: bool) -> None:
    if flag not in ("is_pinned", "is_locked"):
        raise ValueError(flag)
    if not can("topic.moderate", topic, actor):
        raise Refused(_("Only moderators of this space can do that."))
    previous = bool(getattr(topic, flag))
    if previous == value:
        return
    setattr(topic, flag, value)
    db.session.commit()
    name = {"is_pinned": "pin", "is_locked": "lock"}[flag]
    audit(
        actor,
        f"topic.{name}" if value else f"topic.un{name}",
        topic,
        before={flag: previous},
        after={flag: value},
    )


def move_topic(actor: User, topic: Topic, target_space: Space) -> None:
    """Move ``topic`` with all its posts to ``target_space``."""
    if not (can("topic.moderate", topic, actor) and can("space.moderate", target_space, actor)):
        raise Refused(_("Only moderators of both spaces can move a topic."))
    previous_space = topic.space
    if target_space.id == previous_space.id:
        raise Refused(_("The topic is already in this space."), "space_id")
    # The UPDATE holds the topic's row until commit, so the reply count read after it is the
    # one that moves with it.
    moved = _rowcount(
        update(Topic)
        .where(Topic.id == topic.id, Topic.space_id == previous_space.id)
        .values(space_id=target_space.id)
    )
    if not moved:
        db.session.rollback()
        raise Refused(_("Someone else changed this topic meanwhile; please look again."))
    db.session.refresh(topic)
    if topic.deleted_at is None and topic.held_at is None:
        posts = 1 + topic.reply_count
        _bump_space(previous_space.id, topics=-1, posts=-posts)
        _bump_space(target_space.id, topics=1, posts=posts)
    queue_topics(topic.id)
    db.session.commit()
    fire("community_topic_moved", topic=topic, actor=actor, previous_space=previous_space)
    audit(
        actor,
        "topic.move",
        topic,
        before={"space": previous_space.slug},
        after={"space": target_space.slug},
    )


def merge_topic(actor: User, source: Topic, target: Topic) -> None:
    """Merge the duplicate ``source`` into ``target``: every post of ``source`` moves there,
    its opening post becoming a reply, and the votes on that opening post count for
    ``target``'s. ``source`` is then hidden and its address leads to ``target``."""
    if not can("topic.moderate", source, actor):
        raise Refused(_("Only moderators of this space can do that."))
    if source.id == target.id:
        raise Refused(_("A topic cannot be merged into itself."), "target")
    # Before anything is said about the target's state, which only its space's moderators
    # may know (deleted, merged, held).
    if not can("space.moderate", target.space, actor):
        raise Refused(_("Only moderators of both spaces can merge these topics."), "target")
    if source.deleted_at is not None:
        raise Refused(_("A deleted topic cannot be merged: restore it first."), "target")
    if target.merged_into_id is not None:
        raise Refused(
            _("That topic was itself merged into another one: merge into that one instead."),
            "target",
        )
    if target.deleted_at is not None:
        raise Refused(_("That topic is deleted: restore it first."), "target")
    if source.held_at is not None or target.held_at is not None:
        raise Refused(_("A topic waiting for review cannot be merged."), "target")
    if not can("topic.moderate", target, actor):
        raise Refused(_("Only moderators of both spaces can merge these topics."), "target")
    if source.kind != target.kind:
        raise Refused(
            _(
                "Only topics of the same kind can be merged: "
                "questions with questions, ideas with ideas."
            ),
            "target",
        )
    # Claim both topics first, in id order so that two merges cannot deadlock: one merged or
    # deleted meanwhile makes its claim touch no row, and the merge stops.
    claims: dict[int, dict[str, Any]] = {
        source.id: {
            "merged_into_id": target.id,
            "deleted_at": utcnow(),
            "accepted_answer_id": None,
            "accepted_at": None,
        },
        target.id: {"last_activity_at": max(target.last_activity_at, source.last_activity_at)},
    }
    for topic_id in sorted(claims):
        claimed = _rowcount(
            update(Topic)
            .where(Topic.id == topic_id, Topic.merged_into_id.is_(None), Topic.deleted_at.is_(None))
            .values(claims[topic_id])
        )
        if not claimed:
            db.session.rollback()
            raise Refused(_("Someone else changed this topic meanwhile; please look again."))
    source_opening = _opening_post(source)
    target_opening = _opening_post(target)
    _move_votes(source_opening, target_opening)
    db.session.execute(
        update(Post).where(Post.topic_id == source.id).values(topic_id=target.id, is_opening=False)
    )
    # Topics merged into the source before now lead straight to the target.
    db.session.execute(
        update(Topic).where(Topic.merged_into_id == source.id).values(merged_into_id=target.id)
    )
    # Published answers only, and none older than the target itself (the source may be the
    # older topic): time to first answer is never negative.
    first_answer = select(func.min(Post.created_at)).where(
        Post.topic_id == target.id,
        Post.is_opening.is_(False),
        Post.parent_id.is_(None),
        Post.held_at.is_(None),
        Post.deleted_at.is_(None),
        Post.author_id != target.author_id,
        Post.created_at >= target.created_at,
    )
    db.session.execute(
        update(Topic)
        .where(Topic.id == target.id)
        .values(first_answer_at=first_answer.scalar_subquery())
    )
    recount_posts([source_opening.id, target_opening.id])
    recount_topics([source.id, target.id])
    recount_spaces({source.space_id, target.space_id})
    queue_topics(source.id, target.id)
    db.session.commit()
    fire("community_topic_merged", source=source, target=target, actor=actor)
    audit(
        actor,
        "topic.merge",
        source,
        # The target's number only: the entry is filed under the source's space, whose
        # moderators may not see the target's (e.g. in a staff-only space).
        before={"topic": source.id, "title": source.title},
        after={"merged_into": target.id},
    )


def _move_votes(source: Post, target: Post) -> int:
    """Move the votes on ``source`` to ``target``. One vote per user and post, and none on
    one's own post: a voter who already voted on ``target``, or wrote it, keeps only that
    vote. Returns how many votes moved. Does not commit; the caller recounts."""
    db.session.execute(
        delete(Vote).where(
            Vote.post_id == source.id,
            or_(
                Vote.user_id.in_(select(Vote.user_id).where(Vote.post_id == target.id)),
                Vote.user_id == target.author_id,
            ),
        )
    )
    try:
        return _rowcount(update(Vote).where(Vote.post_id == source.id).values(post_id=target.id))
    except IntegrityError:
        # A vote on the target arrived between the two statements.
        db.session.rollback()
        raise Refused(_("Someone else changed this topic meanwhile; please look again.")) from None


def transfer_idea_votes(actor: User, source: Topic, target: Topic) -> int:
    """Count the votes of the idea ``source`` for ``target`` (a duplicate of it): the votes on
    ``source``'s opening post move to ``target``'s, a member who voted both keeping one, and
    ``source``'s followers follow ``target`` too. Unlike :func:`merge_topic`, ``source``
    stays where it is, readable, with its replies. Needs ``topic.set_status`` on both ideas.
    Commits and fires ``community_idea_votes_moved``; returns how many votes moved."""
    from community.notifications.service import auto_follow_many, followers

    if not (source.is_idea and target.is_idea):
        raise Refused(_("Only ideas can be marked as duplicates."), "target")
    if source.id == target.id:
        raise Refused(_("An idea cannot be a duplicate of itself."), "target")
    if not can("topic.set_status", source, actor):
        raise Refused(_("Only staff or moderators of this space can change the status."))
    if not can("topic.set_status", target, actor):
        raise Refused(_("You may not change the idea it duplicates."), "target")
    for topic in (source, target):
        if topic.deleted_at is not None or topic.merged_into_id is not None:
            raise Refused(_("That topic is deleted: restore it first."), "target")
    source_opening, target_opening = _opening_post(source), _opening_post(target)
    moved = _move_votes(source_opening, target_opening)
    recount_posts([source_opening.id, target_opening.id])
    recount_topics([source.id, target.id])
    db.session.commit()
    auto_follow_many(db.session.scalars(followers("topic", [source.id])).all(), "topic", target.id)
    db.session.commit()
    fire(
        "community_idea_votes_moved",
        source=source,
        target=target,
        actor=actor,
        source_post=source_opening,
        target_post=target_opening,
    )
    return moved


def split_topic(actor: User, topic: Topic, post_ids: list[int], title: str) -> Topic:
    """Move some replies of ``topic`` out into a new topic of the same kind and space, with
    their comments: the earliest of them becomes its opening post (its author the new
    topic's author), the others its replies. Votes stay on their posts."""
    if not can("topic.moderate", topic, actor):
        raise Refused(_("Only moderators of this space can do that."))
    if topic.deleted_at is not None or topic.held_at is not None:
        raise Refused(_("Only a published topic can be split."))
    title = clean_title(title)
    wanted = {int(pid) for pid in post_ids}
    if not wanted:
        raise Refused(_("Choose the replies to move into the new topic."), "posts")
    if not all(0 < pid <= MAX_ROW_ID for pid in wanted):
        raise Refused(
            _("Only published replies of this topic can be moved; please look again."), "posts"
        )
    posts = list(
        db.session.scalars(
            select(Post)
            .where(
                Post.id.in_(wanted),
                Post.topic_id == topic.id,
                Post.is_opening.is_(False),
                Post.parent_id.is_(None),
                Post.deleted_at.is_(None),
                Post.held_at.is_(None),
            )
            .order_by(Post.created_at, Post.id)
        )
    )
    if len(posts) != len(wanted):
        raise Refused(
            _("Only published replies of this topic can be moved; please look again."), "posts"
        )
    first = posts[0]
    new = Topic(
        space_id=topic.space_id,
        author_id=first.author_id,
        kind=topic.kind,
        title=title,
        slug=slugify(title),
        created_at=first.created_at,
        last_activity_at=max(p.created_at for p in posts),
        status=DEFAULT_IDEA_STATUS if topic.is_idea else None,
    )
    db.session.add(new)
    db.session.flush()
    ids = [p.id for p in posts]
    # The replies and their comments (held or deleted ones too) go to the new topic.
    db.session.execute(
        update(Post)
        .where(or_(Post.id.in_(ids), Post.parent_id.in_(ids)))
        .values(topic_id=new.id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Post)
        .where(Post.id == first.id)
        .values(is_opening=True)
        .execution_options(synchronize_session=False)
    )
    if topic.accepted_answer_id in ids:
        db.session.execute(
            update(Topic)
            .where(Topic.id == topic.id)
            .values(accepted_answer_id=None, accepted_at=None)
        )
    for target in (topic, new):
        first_answer = select(func.min(Post.created_at)).where(
            Post.topic_id == target.id,
            Post.is_opening.is_(False),
            Post.parent_id.is_(None),
            Post.held_at.is_(None),
            Post.deleted_at.is_(None),
            Post.author_id != (first.author_id if target is new else topic.author_id),
        )
        db.session.execute(
            update(Topic)
            .where(Topic.id == target.id)
            .values(first_answer_at=first_answer.scalar_subquery())
        )
    recount_topics([topic.id, new.id])
    recount_spaces({topic.space_id})
    queue_topics(topic.id, new.id)
    db.session.commit()
    db.session.refresh(topic)
    db.session.refresh(new)
    fire("community_topic_split", source=topic, target=new, actor=actor, post_ids=ids)
    audit(
        actor,
        "topic.split",
        topic,
        before={"topic": topic.id, "posts": ids},
        after={"topic": new.id, "title": new.title},
    )
    return new


def set_idea_status(actor: User, topic: Topic, status: str, note: str = "") -> None:
    """Store an idea's new status. Which statuses exist and what they mean is the ideation
    plugin's business; core keeps the value and announces the change. ``note``: what the
    actor says about it (Markdown), passed to the event and quoted in the followers' emails."""
    if not topic.is_idea:
        raise Refused(_("Only ideas have a status."))
    if not can("topic.set_status", topic, actor):
        raise Refused(_("Only staff or moderators of this space can change the status."))
    if not isinstance(status, str) or not IDEA_STATUS_RE.fullmatch(status):
        raise Refused(
            _("A status is a lowercase word of letters, digits and _, up to 32 characters."),
            "status",
        )
    previous = topic.status
    if status == previous:
        return
    changed = _rowcount(
        update(Topic)
        .where(Topic.id == topic.id, Topic.status.is_not_distinct_from(previous))
        .values(status=status)
    )
    db.session.commit()
    if not changed:
        raise Refused(_("Someone else changed this topic meanwhile; please look again."))
    fire(
        "community_idea_status_changed",
        topic=topic,
        actor=actor,
        previous_status=previous,
        note=note or "",
    )
    audit(actor, "topic.status", topic, before={"status": previous}, after={"status": status})


def _opening_post(topic: Topic) -> Post:
    return db.session.scalars(
        select(Post).where(Post.topic_id == topic.id, Post.is_opening.is_(True))
    ).one()


# --- votes -----------------------------------------------------------------------------------


def allowed_vote_values(post: Post) -> tuple[int, ...]:
    """Questions and answers take up and down votes; ideas and discussions only up votes."""
    return (1, -1) if post.topic.is_question else (1,)


def cast_vote(user: User, post: Post, value: int) -> int | None:
    """Vote ``value`` on ``post``; voting the same value again takes the vote back.

    Returns the user's vote after the call (``None`` when retracted). One vote per user and post
    is enforced by a unique constraint, so two requests at once cannot both count.
    """
    if value not in allowed_vote_values(post):
        raise Refused(_("That kind of vote is not possible here."))
    if not can("post.vote", post, user):
        if user.is_authenticated and user.id == post.author_id:
            raise Refused(_("You cannot vote on your own post."))
        raise Refused(_("You may not vote on this post."))
    answer = ask_gates("community_vote_gate", user=user, post=post, value=value)
    if answer:
        # A vote cannot wait for review: a Hold refuses it with its reason.
        raise Refused(answer.reason if isinstance(answer, Hold) else answer)
    existing = db.session.scalar(
        select(Vote).where(Vote.post_id == post.id, Vote.user_id == user.id)
    )
    if existing is None:
        vote = Vote(post_id=post.id, user_id=user.id, value=value)
        db.session.add(vote)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            raise Refused(_("You have already voted on this post.")) from None
        _apply_score(post, value, +1)
        db.session.commit()
        fire("community_vote_cast", vote=vote, post=post, previous_value=None)
        return value
    old = existing.value
    if old == value:
        # Delete only the row we saw; a concurrent retraction makes rowcount 0 and we stop.
        gone = _rowcount(delete(Vote).where(Vote.id == existing.id, Vote.value == old))
        if gone:
            _apply_score(post, old, -1)
        db.session.commit()
        if gone:
            fire("community_vote_retracted", user=user, post=post, value=old)
        return None
    changed = _rowcount(
        update(Vote).where(Vote.id == existing.id, Vote.value == old).values(value=value)
    )
    if changed:
        _apply_score(post, old, -1)
        _apply_score(post, value, +1)
    db.session.commit()
    if changed:
        db.session.refresh(existing)
        fire("community_vote_cast", vote=existing, post=post, previous_value=old)
    return value


def _apply_score(post: Post, value: int, sign: int) -> None:
    column = Post.upvotes if value > 0 else Post.downvotes
    db.session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values({column.key: column + sign, "score": Post.score + value * sign})
    )
    if post.is_opening:
        db.session.execute(
            update(Topic).where(Topic.id == post.topic_id).values(score=Topic.score + value * sign)
        )
        queue_topics(post.topic_id)  # the topic's votes are a sort order of search


# --- accepted answers ------------------------------------------------------------------------


def accept_answer(actor: User, answer: Post) -> None:
    topic = answer.topic
    if not can("topic.accept", topic, actor):
        raise Refused(_("Only the asker, staff or a moderator can accept an answer."))
    if (
        answer.is_opening
        or answer.parent_id is not None
        or answer.deleted_at is not None
        or answer.held_at is not None
    ):
        raise Refused(_("Only an answer can be accepted."))
    previous_id = topic.accepted_answer_id
    if previous_id == answer.id:
        return
    now = utcnow()
    topic.accepted_answer_id = answer.id
    topic.accepted_at = now
    db.session.commit()
    previous = db.session.get(Post, previous_id) if previous_id else None
    fire(
        "community_answer_accepted",
        topic=topic,
        answer=answer,
        actor=actor,
        previous_answer=previous,
    )


def unaccept_answer(actor: User, topic: Topic) -> None:
    if not can("topic.accept", topic, actor):
        raise Refused(_("Only the asker, staff or a moderator can change the accepted answer."))
    if topic.accepted_answer_id is None:
        return
    answer = db.session.get(Post, topic.accepted_answer_id)
    topic.accepted_answer_id = None
    topic.accepted_at = None
    db.session.commit()
    fire("community_answer_unaccepted", topic=topic, answer=answer, actor=actor)


# --- counters --------------------------------------------------------------------------------


def _bump_space(space_id: int, topics: int = 0, posts: int = 0) -> None:
    db.session.execute(
        update(Space)
        .where(Space.id == space_id)
        .values(topic_count=Space.topic_count + topics, post_count=Space.post_count + posts)
    )


def _rowcount(stmt: Executable) -> int:
    """Rows an UPDATE or DELETE touched: how a conditional write learns it lost a race."""
    result = cast("CursorResult[Any]", db.session.execute(stmt))
    return result.rowcount
