"""The review queue: what waits for a moderator (flagged posts, posts held for approval),
the pre-moderation gate that holds new members' first posts and posts in pre-moderated
spaces, and the moderators' decisions, applied through core's services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import Select, distinct, func, select
from sqlalchemy.orm import joinedload

from community.errors import Refused
from community.extensions import db
from community.permissions import all_spaces, can
from community.plugins import Hold, audit, trust_levels
from community.topics.models import Post, Topic
from community.web.helpers import Page
from community_moderation import flags
from community_moderation.common import is_staffish
from community_moderation.models import FLAG_REASONS, Flag
from community_moderation.settings import settings, slug_list

PER_PAGE = 25
TABS = ("flagged", "awaiting")
CREATE_ACTIONS = frozenset({"topic.create", "post.create", "comment.create"})
# What the queue's buttons do (edit is a link to core's editor, not an action).
ACTIONS = ("keep", "hide", "delete", "warn", "suspend")
# Suspension lengths the form offers, in minutes (None: until lifted by hand).
DURATIONS: dict[str, int | None] = {
    "1d": 60 * 24,
    "3d": 60 * 24 * 3,
    "7d": 60 * 24 * 7,
    "30d": 60 * 24 * 30,
    "forever": None,
}
MAX_POSTS_PER_ACTION = 100
MAX_REASON = 500


def duration_choices() -> list[tuple[str, str]]:
    return [
        ("1d", _("1 day")),
        ("3d", _("3 days")),
        ("7d", _("7 days")),
        ("30d", _("30 days")),
        ("forever", _("Indefinitely")),
    ]


# --- pre-moderation --------------------------------------------------------------------------


def _space_slugs(space: Any) -> set[str]:
    """The space's slug and those of every space it is inside."""
    spaces = all_spaces()
    slugs: set[str] = set()
    seen: set[int] = set()
    current = space
    while current is not None and current.id not in seen:
        seen.add(current.id)
        slugs.add((current.slug or "").lower())
        parent_id = current.parent_id
        current = spaces.get(parent_id) if parent_id is not None else None
    return slugs


def published_post_count(user: Any, limit: int) -> int:
    """How many published posts ``user`` has, counting no further than ``limit``."""
    ids = (
        select(Post.id)
        .where(Post.author_id == user.id, Post.held_at.is_(None), Post.deleted_at.is_(None))
        .limit(limit)
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(ids)) or 0


def premoderation_gate(user, action, space, topic=None, post=None, title=None, body=None, **_kw):
    """Hold new topics, replies and comments of newcomers (their first posts) and in
    pre-moderated spaces; staff and the space's moderators are never held."""
    if action not in CREATE_ACTIONS or space is None:
        return None
    if not getattr(user, "is_authenticated", False):
        return None
    if is_staffish(user) or can("space.moderate", space, user):
        return None
    premoderated = slug_list("premoderated_spaces")
    if premoderated and _space_slugs(space) & premoderated:
        return Hold(_("Posts in this space are reviewed by a moderator before they appear."))
    first = settings()["premod_first_posts"]
    if first > 0 and published_post_count(user, first) < first:
        # Members a plugin trusts (e.g. gamification level 2) skip it.
        if trust_levels([user]).get(user.id, 0) >= 2:
            return None
        return Hold(_("New members' first posts are reviewed by a moderator."))
    return None


# --- the queue -------------------------------------------------------------------------------


@dataclass
class Item:
    """One row of the queue: a post and what members said about it."""

    post: Post
    weight: float = 0.0
    flaggers: int = 0
    oldest: datetime | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    notes: list[tuple[str, str, datetime]] = field(default_factory=list)

    @property
    def status(self) -> str:
        post = self.post
        if post.deleted_at is not None:
            return "deleted"
        if post.hidden_at is not None:
            return "hidden"
        if post.held_at is not None:
            return "awaiting"
        return "visible"

    def reason_counts(self) -> list[tuple[str, str, int]]:
        return [
            (reason, flags.reason_label(reason), self.reasons[reason])
            for reason in FLAG_REASONS
            if reason in self.reasons
        ]


def _open_flags():
    return (
        select(
            Flag.post_id.label("post_id"),
            func.sum(Flag.weight).label("weight"),
            func.count(distinct(Flag.user_id)).label("flaggers"),
            func.min(Flag.created_at).label("oldest"),
        )
        .where(Flag.resolved_at.is_(None))
        .group_by(Flag.post_id)
        .subquery()
    )


def _in_spaces(stmt: Select, space_ids: Any) -> Select:
    return stmt.join(Topic, Topic.id == Post.topic_id).where(
        Topic.space_id.in_(sorted(space_ids)),
        Post.deleted_at.is_(None),
        Topic.deleted_at.is_(None),
    )


def _awaiting_filter():
    return (Post.held_at.is_not(None), Post.hidden_at.is_(None))


def counts(space_ids: Any) -> dict[str, int]:
    """The number of items of each tab (two queries)."""
    if not space_ids:
        return {"flagged": 0, "awaiting": 0}
    agg = _open_flags()
    flagged = _in_spaces(
        select(func.count()).select_from(agg).join(Post, Post.id == agg.c.post_id), space_ids
    )
    awaiting = _in_spaces(
        select(func.count()).select_from(Post).where(*_awaiting_filter()), space_ids
    )
    return {
        "flagged": db.session.scalar(flagged) or 0,
        "awaiting": db.session.scalar(awaiting) or 0,
    }


def _page(stmt: Select, number: int, per_page: int) -> tuple[list[Any], bool]:
    rows = db.session.execute(stmt.limit(per_page + 1).offset((number - 1) * per_page)).all()
    if number > 1 and not rows:
        abort(404)
    return rows[:per_page], len(rows) > per_page


def load_page(tab: str, space_ids: Any, number: int, per_page: int = PER_PAGE) -> Page:
    """One page of a tab: one query for the page's posts, one for their open flags."""
    if not space_ids:
        if number > 1:
            abort(404)
        return Page([], number, per_page, False)
    if tab == "flagged":
        agg = _open_flags()
        stmt = (
            _in_spaces(
                select(Post, agg.c.weight, agg.c.flaggers, agg.c.oldest).join(
                    agg, agg.c.post_id == Post.id
                ),
                space_ids,
            )
            .options(joinedload(Post.topic))
            .order_by(agg.c.weight.desc(), agg.c.oldest.asc(), Post.id)
        )
        rows, has_next = _page(stmt, number, per_page)
        items = [
            Item(post, float(weight or 0), int(flaggers or 0), oldest)
            for post, weight, flaggers, oldest in rows
        ]
    else:
        stmt = (
            _in_spaces(select(Post).where(*_awaiting_filter()), space_ids)
            .options(joinedload(Post.topic))
            .order_by(Post.created_at, Post.id)
        )
        rows, has_next = _page(stmt, number, per_page)
        items = [Item(row[0]) for row in rows]
    _attach_flags(items)
    return Page(items, number, per_page, has_next)


def _attach_flags(items: list[Item]) -> None:
    by_post = {item.post.id: item for item in items}
    if not by_post:
        return
    rows = db.session.execute(
        select(Flag.post_id, Flag.reason, Flag.text, Flag.created_at)
        .where(Flag.post_id.in_(list(by_post)), Flag.resolved_at.is_(None))
        .order_by(Flag.created_at, Flag.id)
    ).all()
    for post_id, reason, text, created_at in rows:
        item = by_post[post_id]
        item.reasons[reason] = item.reasons.get(reason, 0) + 1
        if text:
            item.notes.append((reason, text, created_at))
        if item.oldest is None or created_at < item.oldest:
            item.oldest = created_at


def my_posts(user: Any, visible_ids: Any) -> Select:
    """The author's posts waiting for approval, hidden, or removed by a moderator."""
    from sqlalchemy import and_, or_

    return (
        select(Post)
        .join(Topic, Topic.id == Post.topic_id)
        .where(
            Post.author_id == user.id,
            Topic.space_id.in_(list(visible_ids)),
            or_(
                and_(Post.held_at.is_not(None), Post.deleted_at.is_(None)),
                and_(
                    Post.deleted_at.is_not(None),
                    Post.deleted_by_id.is_not(None),
                    Post.deleted_by_id != Post.author_id,
                ),
            ),
        )
        .options(joinedload(Post.topic))
        .order_by(Post.created_at.desc(), Post.id.desc())
    )


# --- decisions -------------------------------------------------------------------------------


class Problem(Exception):
    """Input the queue cannot act on: answered with ``code`` and the message."""

    def __init__(self, message: str, code: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


def parse_ids(values: list[str]) -> list[int]:
    ids: list[int] = []
    for raw in values:
        raw = (raw or "").strip()
        if not raw:
            continue
        if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**31:
            raise Problem(_("The posts chosen are not valid. Reload the page and try again."))
        if int(raw) not in ids:
            ids.append(int(raw))
    if not ids:
        raise Problem(_("Choose at least one post."), field="post")
    if len(ids) > MAX_POSTS_PER_ACTION:
        raise Problem(
            _("Choose at most %(n)d posts at a time.", n=MAX_POSTS_PER_ACTION), field="post"
        )
    return ids


def load_for_action(actor: Any, ids: list[int]) -> list[Post]:
    """The posts, all of them in spaces ``actor`` moderates: otherwise :class:`Problem`
    with 404 (a post that does not exist or they may not see) or 403, and nothing done."""
    posts = {
        post.id: post
        for post in db.session.scalars(
            select(Post).where(Post.id.in_(ids)).options(joinedload(Post.topic))
        )
    }
    if len(posts) != len(ids) or not all(can("post.view", p, actor) for p in posts.values()):
        raise Problem(_("This page does not exist, or you may not see it."), 404)
    if not all(can("space.moderate", p.topic.space, actor) for p in posts.values()):
        raise Problem(_("You may only act on posts in the spaces you moderate."), 403)
    return [posts[i] for i in ids]


def check_action(
    actor: Any, action: str, posts: list[Post], reason: str, duration: str | None
) -> int | None:
    """Refuse what cannot be done before anything changes; returns the suspension's minutes."""
    if action == "warn" and not reason:
        raise Problem(_("Write the warning: the member will read it."), field="reason")
    if action == "suspend":
        if duration not in DURATIONS:
            raise Problem(_("Choose how long the suspension lasts."), field="duration")
        if not reason:
            raise Problem(_("Please give a reason: the member will read it."), field="reason")
    if action in ("warn", "suspend"):
        from community_moderation import sanctions

        refusal = getattr(sanctions, "refusal", None)
        if refusal is not None:
            for author in _authors(posts):
                problem = refusal(actor, author)
                if problem:
                    raise Problem(
                        _("%(name)s: %(problem)s", name=author.username, problem=problem), 403
                    )
        return DURATIONS[duration] if action == "suspend" else None
    return None


def _authors(posts: list[Post]) -> list[Any]:
    seen: dict[int, Any] = {}
    for post in posts:
        seen.setdefault(post.author_id, post.author)
    return list(seen.values())


@dataclass
class Outcome:
    done: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.done[what] = self.done.get(what, 0) + 1


def _resolve_and_audit(actor: Any, post: Post, resolution: str, reason: str) -> None:
    closed = flags.resolve_open([post.id], actor, resolution)
    audit(
        actor,
        "flags.dismiss" if resolution == "kept" else "flags.resolve",
        post,
        reason=reason or None,
        before={"open_flags": closed},
        after={"open_flags": 0, "resolution": resolution},
    )


def act(actor: Any, action: str, posts: list[Post], reason: str, minutes: int | None) -> Outcome:
    """Apply ``action`` to every post, through core's services; every decision is audited
    (by core's services, by sanctions, or here for the flags)."""
    from community.topics import services

    outcome = Outcome()
    if action in ("warn", "suspend"):
        from community_moderation import sanctions

        first_post = {}
        for post in posts:
            first_post.setdefault(post.author_id, post)
        for author in _authors(posts):
            try:
                if action == "warn":
                    sanctions.impose(actor, author, "warning", reason, post=first_post[author.id])
                else:
                    sanctions.impose(
                        actor,
                        author,
                        "suspend",
                        reason,
                        minutes=minutes,
                        post=first_post[author.id],
                    )
            except Refused as refusal:
                outcome.errors.append(f"{author.username}: {refusal.message}")
            else:
                outcome.add("warned" if action == "warn" else "suspended")
        return outcome

    for post in posts:
        db.session.refresh(post)
        try:
            if action == "keep":
                if post.deleted_at is not None:
                    _resolve_and_audit(actor, post, "kept", reason)
                    outcome.add("kept")
                elif post.held_at is not None:
                    hidden = post.hidden_at is not None
                    services.release_post(actor, post)
                    # Core's event closes the flags of a post brought back; an approved post
                    # rarely has any.
                    flags.resolve_open([post.id], actor, "kept" if hidden else "approved")
                    outcome.add("restored" if hidden else "approved")
                else:
                    _resolve_and_audit(actor, post, "kept", reason)
                    outcome.add("kept")
            elif action == "hide":
                if post.held_at is None and post.deleted_at is None:
                    text = reason or _("A moderator hid this post after reviewing it.")
                    services.hide_post(actor, post, text)
                    flags.resolve_open([post.id], actor, "hidden")
                else:
                    _resolve_and_audit(actor, post, "hidden", reason)
                outcome.add("hidden")
            elif action == "delete":
                awaiting = post.held_at is not None and post.hidden_at is None
                if post.deleted_at is None:
                    services.delete_post(actor, post)
                    closed = flags.resolve_open(
                        [post.id], actor, "rejected" if awaiting else "deleted"
                    )
                    if actor.id == post.author_id:
                        # Core audits deletions of others' posts only.
                        audit(
                            actor,
                            "post.delete",
                            post,
                            reason=reason or None,
                            before={"deleted": False, "open_flags": closed},
                            after={"deleted": True},
                        )
                else:
                    _resolve_and_audit(actor, post, "deleted", reason)
                outcome.add("rejected" if awaiting else "deleted")
        except Refused as refusal:
            outcome.errors.append(refusal.message)
    return outcome


def outcome_messages(outcome: Outcome) -> list[str]:
    from flask_babel import ngettext

    texts = {
        "kept": lambda n: ngettext(
            "%(num)d post kept: its flags are dismissed.",
            "%(num)d posts kept: their flags are dismissed.",
            n,
        ),
        "restored": lambda n: ngettext(
            "%(num)d post is visible again.", "%(num)d posts are visible again.", n
        ),
        "approved": lambda n: ngettext(
            "%(num)d post approved and published.", "%(num)d posts approved and published.", n
        ),
        "hidden": lambda n: ngettext("%(num)d post hidden.", "%(num)d posts hidden.", n),
        "deleted": lambda n: ngettext("%(num)d post deleted.", "%(num)d posts deleted.", n),
        "rejected": lambda n: ngettext(
            "%(num)d post rejected: its author can still read it.",
            "%(num)d posts rejected: their authors can still read them.",
            n,
        ),
        "warned": lambda n: ngettext("%(num)d member warned.", "%(num)d members warned.", n),
        "suspended": lambda n: ngettext(
            "%(num)d member suspended.", "%(num)d members suspended.", n
        ),
    }
    return [texts[key](n) for key, n in outcome.done.items() if key in texts]
