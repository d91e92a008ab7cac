"""What the plugin shows on core's pages: a level badge next to names, the leaderboard link in
the menu, a card of points, level, rank and badges on profiles, and the stylesheets.

Everything a page needs is fetched for all the users it shows at once and kept on
``flask.g`` for the rest of the request: the badges hook is called once per page with every
user, and the slots once per page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import g, render_template, request, url_for
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import and_, case, func, select

from community.accounts.models import User
from community.extensions import db
from community.permissions import visible_space_ids
from community.plugins import Badge, plugin_static_url
from community_gamification.models import Total
from community_gamification.settings import settings

NAME = "gamification"
# Per-request caches on flask.g; their names start with the plugin's name.
POINTS_CACHE = "gamification_display_points"
RANK_CACHE = "gamification_display_rank"
PER_PAGE = 50  # the leaderboard's page size (web_leaderboard uses it too)


# --- points and levels of many users ---------------------------------------------------------


def standing(user_ids: Iterable[int]) -> dict[int, tuple[int, Any]]:
    """``{user_id: (points, Level)}`` for these users: one query for the ids this request has
    not looked up yet (none for those it has)."""
    from community_gamification import levels, points

    cache: dict[int, int] = g.setdefault(POINTS_CACHE, {})
    ids = [uid for uid in dict.fromkeys(user_ids) if uid is not None]
    todo = [uid for uid in ids if uid not in cache]
    for start in range(0, len(todo), 500):
        chunk = todo[start : start + 500]
        found = points.points_of(chunk)
        cache.update({uid: int(found.get(uid) or 0) for uid in chunk})
    return {uid: (cache[uid], levels.level_of(cache[uid])) for uid in ids}


def remember_points(totals: dict[int, int]) -> None:
    """Points a page already read (the all-time leaderboard): no query for them later."""
    g.setdefault(POINTS_CACHE, {}).update(totals)


def level_title(level: Any, points: int) -> str:
    return ngettext(
        "Level %(level)d, %(name)s: %(num)d point",
        "Level %(level)d, %(name)s: %(num)d points",
        points,
        level=level.number,
        name=level.name,
    )


def user_badges(users: Iterable[Any]) -> dict[int, list[Badge]] | None:
    """The ``community_user_badges`` hook: "Regular · 340" next to each name."""
    ids = [user.id for user in users if user is not None and getattr(user, "id", None)]
    if not ids:
        return None
    return {
        uid: [Badge(f"{level.name} · {points}", kind="level", title=level_title(level, points))]
        for uid, (points, level) in standing(ids).items()
        if level is not None
    }


# --- all-time rank ---------------------------------------------------------------------------


def ranked_user_filters() -> list[Any]:
    """Who the leaderboards list: active accounts, and not staff when the setting says so."""
    conditions: list[Any] = [User.active.is_(True)]
    if settings()["exclude_staff"]:
        conditions.append(User.is_staff.is_(False))
    return conditions


def is_ranked(user: Any) -> bool:
    """Whether ``user`` may appear on the leaderboards at all."""
    if not user.active:
        return False
    return not (user.is_staff and settings()["exclude_staff"])


def all_time_place(user: Any, points: int) -> tuple[int, int] | None:
    """``(rank, position)`` of ``user`` on the all-time leaderboard, or ``None`` when they are
    not on it (no points, suspended, or staff left out). Rank: 1 + those with more points
    (equal points share a rank); position: where the list shows them (ties by user id), for
    the link to their page. One query, cached for the request."""
    if points <= 0 or not is_ranked(user):
        return None
    cache: dict[int, tuple[int, int] | None] = g.setdefault(RANK_CACHE, {})
    from community_gamification.web_leaderboard import board, hides_spaces, ranked

    visible = visible_space_ids()
    if user.id not in cache and hides_spaces(visible):
        # As the visitor's all-time board counts it: without spaces they may not see.
        rows = ranked(board("all", None, visible))
        found = db.session.execute(
            select(rows.c.rank, rows.c.position).where(rows.c.user_id == user.id)
        ).first()
        cache[user.id] = (int(found[0]), int(found[1])) if found is not None else None
    if user.id not in cache:
        above, tied_before = db.session.execute(
            select(
                func.coalesce(func.sum(_when(Total.points > points)), 0),
                func.coalesce(
                    func.sum(_when(and_(Total.points == points, Total.user_id < user.id))), 0
                ),
            )
            .join(User, User.id == Total.user_id)
            .where(Total.points >= points, *ranked_user_filters())
        ).one()
        cache[user.id] = (int(above) + 1, int(above) + int(tied_before) + 1)
    return cache[user.id]


def _when(condition: Any) -> Any:
    return case((condition, 1), else_=0)


# --- slots -----------------------------------------------------------------------------------


def slot(slot: str, context: dict[str, Any]) -> Markup | None:
    if slot == "head":
        return Markup('<link rel="stylesheet" href="%s">\n<link rel="stylesheet" href="%s">') % (
            plugin_static_url(NAME, "leaderboard.css"),
            plugin_static_url(NAME, "badges.css"),
        )
    if slot == "nav":
        here = (request.endpoint or "") == "gamification.index"
        return Markup('<li><a href="%s"%s>%s</a></li>') % (
            url_for("gamification.index"),
            Markup(' aria-current="page"') if here else "",
            _("Leaderboard"),
        )
    if slot == "user.profile":
        return profile_card(context["user"])
    if slot == "admin.nav":
        from community_gamification import badges

        delegate = getattr(badges, "slot", None)
        return delegate(slot, context) if delegate is not None else None
    return None


def profile_card(user: Any) -> str:
    """The card on a member's profile: points, level and the way to the next, all-time rank,
    badges."""
    from community_gamification import badges, levels

    points, level = standing([user.id])[user.id]
    next_level = None
    if level is not None and level.next_points is not None:
        next_level = levels.level_of(level.next_points)
    place = all_time_place(user, points)
    awards = badges.awards_of([user.id]).get(user.id, [])
    return render_template(
        "gamification/display_profile.html",
        user=user,
        points=points,
        level=level,
        next_level=next_level,
        place=place,
        page_of_place=(place[1] - 1) // PER_PAGE + 1 if place else None,
        awards=awards,
        badge_url=badges.badge_url,
        excluded=not is_ranked(user),
        number=format_number,
    )
