"""Levels: names for ranges of points, and the privileges they unlock.

The administrator writes the levels as lines of ``Name = points needed`` (the ``levels``
setting); level 1 starts at 0 points. Privileges go through core's hooks:

- the vote gate refuses a downvote below the ``downvote_level`` setting;
- the permission hook lets members from the ``edit_others_level`` setting edit others' live
  posts, wiki-style (it only ever grants: denial is core's);
- the trust hook tells other plugins (moderation) each user's level number.

Levels are worked out from the points engine's totals with one query for many users, and kept
on ``flask.g`` for the rest of the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import g
from flask_babel import gettext as _

# The request cache of level per user id; it starts with the plugin's name.
CACHE = "gamification_levels"
MAX_NAME_LENGTH = 30


@dataclass(frozen=True)
class Level:
    """A level: its number (from 1), its name, the points it starts at, and the points the
    next level starts at (``None`` for the last)."""

    number: int
    name: str
    min_points: int
    next_points: int | None = None


# --- parsing ---------------------------------------------------------------------------------


def parse_levels(text: str) -> list[Level]:
    """Parse the ``levels`` setting: one ``Name = points`` per line (blank lines and lines
    starting with ``#`` are skipped). Raises :class:`ValueError` with a translated sentence
    when the text is not a valid list of levels."""
    return list(_parse(text or ""))


@lru_cache(maxsize=16)
def _parse(text: str) -> tuple[Level, ...]:
    entries: list[tuple[str, int]] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, points = line.rpartition("=")
        name, points = name.strip(), points.strip()
        if not sep:
            raise ValueError(
                _('Line %(line)d: write "Name = points", e.g. "Member = 50".', line=number)
            )
        if not name:
            raise ValueError(_("Line %(line)d: the level has no name.", line=number))
        if len(name) > MAX_NAME_LENGTH:
            raise ValueError(
                _(
                    "Line %(line)d: a level's name may have at most %(max)d characters.",
                    line=number,
                    max=MAX_NAME_LENGTH,
                )
            )
        try:
            value = int(points)
        except ValueError:
            raise ValueError(
                _("Line %(line)d: the points must be a whole number.", line=number)
            ) from None
        if value < 0:
            raise ValueError(_("Line %(line)d: the points cannot be negative.", line=number))
        key = name.casefold()
        if key in seen:
            raise ValueError(
                _("Line %(line)d: there is already a level named %(name)s.", line=number, name=name)
            )
        seen.add(key)
        if entries and value <= entries[-1][1]:
            raise ValueError(
                _(
                    "Line %(line)d: each level needs more points than the one before it.",
                    line=number,
                )
            )
        if not entries and value != 0:
            raise ValueError(_("The first level must start at 0 points."))
        entries.append((name, value))
    if not entries:
        raise ValueError(_("Give at least one level, starting at 0 points."))
    return tuple(
        Level(
            number=index,
            name=name,
            min_points=value,
            next_points=entries[index][1] if index < len(entries) else None,
        )
        for index, (name, value) in enumerate(entries, start=1)
    )


# --- looking levels up -----------------------------------------------------------------------


def _settings() -> dict:
    from community_gamification.settings import settings

    return settings()


def current_levels() -> list[Level]:
    """The site's levels, from the ``levels`` setting (the default if it cannot be read)."""
    try:
        return parse_levels(_settings()["levels"])
    except ValueError:
        from community_gamification.settings import SETTINGS

        default = next(setting.default for setting in SETTINGS if setting.key == "levels")
        return parse_levels(default)


def level_of(points: int) -> Level:
    """The level reached with ``points`` (below 0 points: the first level)."""
    table = current_levels()
    reached = table[0]
    for level in table:
        if points >= level.min_points:
            reached = level
        else:
            break
    return reached


def level_named(number: int) -> Level | None:
    """The level with this number, or ``None`` when the site has no such level."""
    table = current_levels()
    return table[number - 1] if 1 <= number <= len(table) else None


def _points_of(user_ids: list[int]) -> dict[int, int]:
    from community_gamification.points import points_of

    return points_of(user_ids)


def levels_of(user_ids: Iterable[int]) -> dict[int, Level]:
    """The level of each of these users (users without points are at level 1), with one
    query for those this request has not looked up yet."""
    cache: dict[int, Level] = g.setdefault(CACHE, {})
    todo = [uid for uid in dict.fromkeys(user_ids) if uid is not None and uid not in cache]
    if todo:
        totals: dict[int, int] = {}
        for start in range(0, len(todo), 500):
            totals.update(_points_of(todo[start : start + 500]))
        for uid in todo:
            cache[uid] = level_of(int(totals.get(uid) or 0))
    return {uid: cache[uid] for uid in user_ids if uid is not None}


def user_level(user: Any) -> Level:
    """The level of one user (the first level for visitors)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return current_levels()[0]
    return levels_of([user.id])[user.id]


def clear_cache() -> None:
    """Forget this request's levels (after points changed)."""
    g.pop(CACHE, None)


# --- privileges ------------------------------------------------------------------------------


def vote_gate(user: Any, post: Any, value: int) -> str | None:
    """Refuse a downvote from members below the ``downvote_level`` setting. Taking back a
    downvote one already cast stays possible."""
    if value != -1 or user is None or not getattr(user, "is_authenticated", False):
        return None
    needed = int(_settings()["downvote_level"])
    current = user_level(user)
    if current.number >= needed:
        return None
    if post is not None and _has_downvoted(user, post):
        return None  # clicking the current vote retracts it
    level = level_named(needed)
    if level is None:
        return _(
            "You can vote down from level %(needed)d on: you are at level %(current)d.",
            needed=needed,
            current=current.number,
        )
    return _(
        "You can vote down from level %(needed)d (%(name)s) on: you are at level %(current)d.",
        needed=needed,
        name=level.name,
        current=current.number,
    )


def _has_downvoted(user: Any, post: Any) -> bool:
    from sqlalchemy import select

    from community.extensions import db
    from community.topics.models import Vote

    value = db.session.scalar(
        select(Vote.value).where(Vote.post_id == post.id, Vote.user_id == user.id)
    )
    return value == -1


def permission(user: Any, action: str, obj: Any) -> bool | None:
    """Grant ``post.edit`` on others' live posts to active, confirmed members at the
    ``edit_others_level`` setting or above, in topics they may see that are not locked.
    Everything else: no opinion (core decides)."""
    if action != "post.edit" or obj is None:
        return None
    if not (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_confirmed
        and obj.author_id != user.id
        and obj.deleted_at is None
        and obj.held_at is None
    ):
        return None
    topic = obj.topic
    if topic is None or topic.deleted_at is not None or topic.held_at is not None:
        return None
    if topic.is_locked or topic.merged_into_id is not None:
        return None
    if obj.parent_id is not None:
        # A comment is only as visible as the post it is under (hidden, held or deleted).
        from community.extensions import db
        from community.topics.models import Post

        parent = db.session.get(Post, obj.parent_id)
        if parent is None or parent.deleted_at is not None or parent.held_at is not None:
            return None
    if user_level(user).number < int(_settings()["edit_others_level"]):
        return None
    from community.permissions import can

    if not can("topic.view", topic, user):
        return None
    return True


def trust(users: Iterable[Any]) -> dict[int, int]:
    """``{user_id: level number}`` for the ``community_user_trust`` hook."""
    ids = [user.id for user in users if user is not None and getattr(user, "id", None)]
    if not ids:
        return {}
    return {uid: level.number for uid, level in levels_of(ids).items()}
