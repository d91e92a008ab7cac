"""Small helpers every part of the plugin shares: who moderates what, who is a newcomer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, g
from flask_login import current_user

from community.dbtypes import utcnow
from community.permissions import all_spaces, can
from community.plugins import trust_levels
from community_moderation.settings import settings


def moderated_space_ids(user: Any = None) -> set[int]:
    """Every space ``user`` may moderate (global moderators: all of them), through core's
    permission answer, so a plugin that changes who moderates what is obeyed here too."""
    user = current_user._get_current_object() if user is None else user
    if not user.is_authenticated:
        return set()
    cache = g.setdefault("moderation_scope", {})
    if user.id not in cache:
        cache[user.id] = {
            space.id for space in all_spaces().values() if can("space.moderate", space, user)
        }
    return cache[user.id]


def is_moderator_somewhere(user: Any = None) -> bool:
    return bool(moderated_space_ids(user))


def require_moderator() -> set[int]:
    """The spaces the current user moderates; 404 for everyone who moderates none (members
    do not learn the moderation pages exist), visitors are sent to sign in by the caller's
    ``login_required``."""
    spaces = moderated_space_ids()
    if not spaces:
        abort(404)
    return spaces


def is_staffish(user: Any) -> bool:
    """Staff and moderators of the space skip newcomer rules, filters and limits."""
    return bool(user.is_authenticated and (user.is_staff or user.is_global_moderator))


def is_newcomer(user: Any) -> bool:
    """An account younger than the ``newcomer_days`` setting, unless a plugin rates its trust
    at level 2 or more."""
    if not user.is_authenticated or is_staffish(user):
        return False
    days = settings()["newcomer_days"]
    if days <= 0 or user.created_at <= utcnow() - timedelta(days=days):
        return False
    return trust_levels([user]).get(user.id, 0) < 2


def space_of(target: Any) -> Any:
    """The space a post, topic or space belongs to, else None."""
    from community.spaces.models import Space
    from community.topics.models import Post, Topic

    if isinstance(target, Post):
        return target.topic.space
    if isinstance(target, Topic):
        return target.space
    if isinstance(target, Space):
        return target
    return None
