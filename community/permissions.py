"""The one place that answers "may this user do this action on this object?".

Views call :func:`can` (or :func:`require`) and listings filter with
:func:`visible_space_ids`, which asks :func:`can` about each space; nothing else decides.
Core's answers are a ``trylast`` implementation of the ``community_permission`` hook, so a plugin
can grant or deny first.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select

from community.extensions import db
from community.hookspecs import hookimpl

ACTIONS = frozenset(
    {
        "space.view",  # obj: Space
        "space.create_topic",  # obj: Space
        "space.moderate",  # obj: Space — moderate anything in it, move topics into it
        "topic.view",  # obj: Topic
        "topic.reply",  # obj: Topic — answer a question, reply to an idea or discussion
        "topic.comment",  # obj: Topic — comment on a post of it
        "topic.accept",  # obj: Topic — accept or change the accepted answer
        "topic.moderate",  # obj: Topic — pin, lock, move it, merge it or merge into it
        "topic.set_status",  # obj: Topic — change an idea's status
        "post.view",  # obj: Post
        "post.edit",  # obj: Post
        "post.delete",  # obj: Post
        "post.restore",  # obj: Post
        "post.vote",  # obj: Post
        "post.view_deleted",  # obj: Post — read the text of a deleted post
        "post.release",  # obj: Post — publish a post held for review (or hidden)
        "post.hide",  # obj: Post — take a published post out of view until a decision
        "user.view",  # obj: User
        "admin.access",  # obj: None
    }
)


def can(action: str, obj: Any = None, user: Any = None) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    from community.plugins.host import current_host

    if user is None:
        user = current_user._get_current_object()
    answer = current_host().first("community_permission", user=user, action=action, obj=obj)
    return bool(answer)


def require(action: str, obj: Any = None) -> None:
    """Abort with 404 when the user may not even see the object, 403 otherwise (saying why
    when the reason is an unconfirmed email address)."""
    if can(action, obj):
        return
    view_action = _VIEW_ACTION.get(action.split(".", 1)[0])
    if view_action and obj is not None and not can(view_action, obj):
        abort(404)
    user = current_user
    if user.is_authenticated and not user.is_confirmed and action not in _READ_ACTIONS:
        from flask_babel import gettext as _

        abort(
            403,
            description=_(
                "Please confirm your email address first: open the link we sent you, "
                "or ask for a new one in your settings."
            ),
        )
    abort(403)


_READ_ACTIONS = frozenset(a for a in ACTIONS if a.endswith(".view") or a == "admin.access")
_VIEW_ACTION = {"space": "space.view", "topic": "topic.view", "post": "post.view"}


# --- per-request caches ----------------------------------------------------------------------


def all_spaces() -> dict[int, Any]:
    """Every space by id, loaded once per request (spaces are few; listings and the
    permission answers share this one query)."""
    if "perm_spaces" not in g:
        from community.spaces.models import Space

        g.perm_spaces = {s.id: s for s in db.session.scalars(select(Space))}
    return g.perm_spaces


def moderated_space_ids(user: Any) -> frozenset[int]:
    """Spaces the user moderates directly or through an ancestor space."""
    if not user.is_authenticated:
        return frozenset()
    cache = g.setdefault("perm_moderated", {})
    if user.id not in cache:
        prefetch_moderated_spaces([user.id])
    return cache[user.id]


def prefetch_moderated_spaces(user_ids: Any) -> None:
    """Work out the spaces each of these users moderates with one query, for code that asks
    :func:`can` about many users at once (e.g. who may be told about a post)."""
    from community.spaces.models import SpaceModerator

    cache = g.setdefault("perm_moderated", {})
    todo = [user_id for user_id in dict.fromkeys(user_ids) if user_id not in cache]
    direct: dict[int, set[int]] = {user_id: set() for user_id in todo}
    for start in range(0, len(todo), 500):
        rows = db.session.execute(
            select(SpaceModerator.user_id, SpaceModerator.space_id).where(
                SpaceModerator.user_id.in_(todo[start : start + 500])
            )
        )
        for user_id, space_id in rows:
            direct[user_id].add(space_id)
    spaces = all_spaces() if any(direct.values()) else {}
    for user_id, own in direct.items():
        below = {sid for sid in spaces if ancestor_ids(sid, spaces) & own} if own else set()
        cache[user_id] = frozenset(below | own)


def ancestor_chain(space_id: int, spaces: dict[int, Any]) -> list[int]:
    """The space, then the space it is inside, and so on up to the top (``spaces``:
    :func:`all_spaces`)."""
    chain: list[int] = []
    current: int | None = space_id
    while current is not None and current not in chain:
        chain.append(current)
        row = spaces.get(current)
        current = row.parent_id if row is not None else None
    return chain


def ancestor_ids(space_id: int, spaces: dict[int, Any]) -> set[int]:
    """The space and every space it is inside (``spaces``: :func:`all_spaces`)."""
    return set(ancestor_chain(space_id, spaces))


def visible_space_ids(user: Any = None) -> list[int]:
    """Ids of every space the user may see: what every listing filters on."""
    if user is None:
        user = current_user._get_current_object()
    cache = g.setdefault("perm_visible", {})
    key = user.id if user.is_authenticated else None
    if key not in cache:
        cache[key] = [s.id for s in all_spaces().values() if can("space.view", s, user)]
    return cache[key]


def clear_cache() -> None:
    for name in ("perm_spaces", "perm_moderated", "perm_visible"):
        g.pop(name, None)


# --- core's answers --------------------------------------------------------------------------


def _is_staffish(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.is_global_moderator))


def _moderates(user: Any, space_id: int) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_global_moderator or space_id in moderated_space_ids(user)


def _space_visible(user: Any, space: Any) -> bool:
    spaces = all_spaces()
    for sid in ancestor_ids(space.id, spaces) or {space.id}:
        row = spaces.get(sid, space)
        if row.visibility == "members" and not user.is_authenticated:
            return False
        if row.visibility == "staff" and not (_is_staffish(user) or _moderates(user, space.id)):
            return False
    return True


def _owns(user: Any, obj: Any) -> bool:
    return bool(user.is_authenticated and user.id == obj.author_id)


def _may_write(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_confirmed)


@hookimpl(trylast=True)
def community_permission(user: Any, action: str, obj: Any) -> bool:  # noqa: C901
    kind, _, verb = action.partition(".")
    if action == "admin.access":
        return bool(user.is_authenticated and user.is_admin)
    if action == "user.view":
        return bool(obj is not None and (obj.active or _is_staffish(user)))

    if kind == "space":
        if not _space_visible(user, obj):
            return False
        if verb == "view":
            return True
        if verb == "moderate":
            return _moderates(user, obj.id)
        if verb == "create_topic":
            return _may_write(user)
        return False

    if kind == "topic":
        if not can("space.view", obj.space, user):
            return False
        if obj.merged_into_id is not None:
            # Its posts live on in the topic it was merged into; its address leads there.
            return False
        moderator = _moderates(user, obj.space_id)
        if obj.deleted_at is not None and not moderator:
            return False
        if obj.held_at is not None and not (moderator or _owns(user, obj)):
            return False
        if verb == "view":
            return True
        if verb == "moderate":
            return moderator
        if verb in ("reply", "comment"):
            if obj.held_at is not None:
                return False  # nothing is added to a topic waiting for review
            return _may_write(user) and (not obj.is_locked or moderator)
        if verb == "accept":
            if not obj.is_question or not _may_write(user):
                return False
            return user.id == obj.author_id or user.is_staff or moderator
        if verb == "set_status":
            return obj.is_idea and _may_write(user) and (user.is_staff or moderator)
        return False

    if kind == "post":
        topic = obj.topic
        if not can("topic.view", topic, user):
            return False
        moderator = _moderates(user, topic.space_id)
        own = _owns(user, obj)
        if obj.held_at is not None and not (own or moderator):
            return False
        if verb == "view":
            return True
        if verb == "release":
            return obj.held_at is not None and obj.deleted_at is None and moderator
        if verb == "hide":
            return obj.held_at is None and obj.deleted_at is None and moderator
        if verb == "view_deleted":
            return own or moderator
        if verb == "edit":
            if obj.deleted_at is not None or not _may_write(user):
                return False
            return moderator or (own and not topic.is_locked)
        if verb == "delete":
            return obj.deleted_at is None and _may_write(user) and (own or moderator)
        if verb == "restore":
            return obj.deleted_at is not None and moderator
        if verb == "vote":
            return (
                _may_write(user)
                and not own
                and obj.deleted_at is None
                and obj.held_at is None
                and not topic.is_locked
                and obj.parent_id is None
            )
        return False

    return False
