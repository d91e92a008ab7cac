"""The leaderboards: who earned the most points, of all time, this month or this week (UTC),
on the whole site or in one space (with the spaces inside it).

A period's or a space's board sums the ledger rows written in the period, in the spaces the
visitor may see (site-wide rows, e.g. manual adjustments, count on the site's board), so that
points earned in a space the visitor may not see never reveal activity there. The all-time
board of the whole site reads each member's total: the points their profile and their badge
show everyone.

A page costs one query of the plugin's whatever its rows: the board is summed once, ranked
with window functions, and the page's rows, the visitor's own row and everyone's all-time
points (for their levels and badges) come back together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select

from community.accounts.models import User
from community.dbtypes import utcnow
from community.extensions import db
from community.permissions import all_spaces, ancestor_ids, visible_space_ids
from community.plugins import prefetch_badges
from community.web.helpers import MAX_PAGE, Page, refuse
from community_gamification import display, levels
from community_gamification.models import LedgerEntry, Total

bp = Blueprint("gamification", __name__, url_prefix="/leaderboard")

PER_PAGE = display.PER_PAGE
PERIODS = {
    "all": _l("All time"),
    "month": _l("This month"),
    "week": _l("This week"),
}


def period_start(period: str, now: datetime | None = None) -> datetime | None:
    """The first moment of the period, in UTC: the 1st of this month or this week's Monday,
    at midnight; ``None`` for all time."""
    now = now or utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        return midnight.replace(day=1)
    if period == "week":
        return midnight - timedelta(days=midnight.weekday())
    return None


def space_scope(space: Any, visible: list[int]) -> list[int]:
    """The space and the spaces inside it, at any depth, that the visitor may see."""
    spaces = all_spaces()
    return [sid for sid in visible if space.id in ancestor_ids(sid, spaces)]


def hides_spaces(visible: list[int]) -> bool:
    """Whether some space is out of the visitor's sight (then their boards leave out the
    points earned there, and the all-time board is summed from the ledger)."""
    return bool(set(all_spaces()) - set(visible))


def board(period: str, scope: list[int] | None, visible: list[int]) -> Any:
    """``(user_id, points)`` of everyone with more than 0 points on this board, as a CTE.
    ``scope``: the spaces of a space's board, ``None`` for the whole site. Points earned in
    spaces the visitor may not see never count."""
    if period == "all" and scope is None and not hides_spaces(visible):
        stmt = select(Total.user_id.label("user_id"), Total.points.label("points")).where(
            Total.points > 0
        )
        return stmt.cte("board")
    conditions: list[Any] = []
    start = period_start(period)
    if start is not None:
        conditions.append(LedgerEntry.created_at >= start)
    if scope is None:
        conditions.append(or_(LedgerEntry.space_id.is_(None), LedgerEntry.space_id.in_(visible)))
    else:
        conditions.append(LedgerEntry.space_id.in_(scope))
    total = func.sum(LedgerEntry.amount)
    stmt = (
        select(LedgerEntry.user_id.label("user_id"), total.label("points"))
        .where(*conditions)
        .group_by(LedgerEntry.user_id)
        .having(total > 0)
    )
    return stmt.cte("board")


def ranked(rows: Any) -> Any:
    """The board's members with their points, rank (equal points share a rank: 1, 2, 2, 4)
    and position (ties by user id: the order of the list), best first, as a CTE. Both are
    worked out over the whole board, so they are right on every page."""
    points = rows.c.points
    return (
        select(
            rows.c.user_id,
            points,
            func.rank().over(order_by=points.desc()).label("rank"),
            func.row_number().over(order_by=(points.desc(), rows.c.user_id)).label("position"),
        )
        .join(User, User.id == rows.c.user_id)
        .where(*display.ranked_user_filters())
        .cte("ranked")
    )


@dataclass(frozen=True)
class Row:
    user: Any
    points: int
    rank: int
    position: int
    total: int  # all-time points, for the level


def page_number() -> int:
    """``?page=``: a whole number from 1 to MAX_PAGE, or 404 (as core's listings)."""
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        abort(404)
    return int(raw)


def read_page(rows: Any, number: int, viewer_id: int | None) -> tuple[Page, Row | None]:
    """One page of the board and the viewer's own row (wherever it is), with one query: the
    board is summed once for both."""
    board_rows = ranked(rows)
    first = (number - 1) * PER_PAGE + 1
    wanted = board_rows.c.position.between(first, first + PER_PAGE)  # one more: a next page?
    if viewer_id is not None:
        wanted = or_(wanted, board_rows.c.user_id == viewer_id)
    result = db.session.execute(
        select(
            User,
            board_rows.c.points,
            board_rows.c.rank,
            board_rows.c.position,
            func.coalesce(Total.points, 0),
        )
        .join(board_rows, board_rows.c.user_id == User.id)
        .outerjoin(Total, Total.user_id == User.id)
        .where(wanted)
        .order_by(board_rows.c.position)
    ).all()
    found = [Row(u, int(p), int(r), int(pos), int(t)) for u, p, r, pos, t in result]
    items = [row for row in found if first <= row.position < first + PER_PAGE]
    has_next = any(row.position == first + PER_PAGE for row in found)
    mine = next((row for row in found if row.user.id == viewer_id), None)
    if number > 1 and not items:
        abort(404)
    return Page(items, number, PER_PAGE, has_next), mine


def ordered_spaces(visible: list[int]) -> list[tuple[Any, int]]:
    """The spaces the visitor may see as a tree: ``(space, depth)``, parents first."""
    spaces = all_spaces()
    shown = set(visible)
    children: dict[int | None, list[Any]] = {}
    for sid in shown:
        space = spaces[sid]
        parent = space.parent_id if space.parent_id in shown else None
        children.setdefault(parent, []).append(space)
    result: list[tuple[Any, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for space in sorted(children.get(parent, []), key=lambda s: (s.position, s.id)):
            result.append((space, depth))
            walk(space.id, depth + 1)

    walk(None, 0)
    return result


@bp.route("/")
def index():
    period = request.args.get("period", "all") or "all"
    slug = request.args.get("space", "").strip()
    if period not in PERIODS:
        return refuse(
            _("There is no such period: choose all time, this month or this week."),
            400,
            url_for("gamification.index", space=slug or None),
        )
    visible = visible_space_ids()
    space = None
    scope = None
    if slug:
        space = next((s for s in all_spaces().values() if s.slug == slug), None)
        if space is None or space.id not in visible:
            abort(404)
        scope = space_scope(space, visible)
    viewer_excluded = current_user.is_authenticated and not display.is_ranked(current_user)
    viewer_id = current_user.id if current_user.is_authenticated and not viewer_excluded else None
    page, mine = read_page(board(period, scope, visible), page_number(), viewer_id)
    # Their all-time points came with the page: the level badges next to the names (and the
    # levels in the list) need no other query.
    display.remember_points({row.user.id: row.total for row in page.items})
    if mine is not None:
        display.remember_points({mine.user.id: mine.total})
    prefetch_badges([row.user for row in page.items])

    def board_url(**changes: Any) -> str:
        args = {"period": period, "space": slug or None}
        args.update(changes)
        if args.get("period") == "all":
            args["period"] = None
        return url_for("gamification.index", **args)

    return render_template(
        "gamification/leaderboard_index.html",
        page=page,
        level_of=levels.level_of,
        period=period,
        periods=PERIODS,
        period_start=period_start(period),
        space=space,
        spaces=ordered_spaces(visible),
        slug=slug,
        mine=mine,
        mine_page=(mine.position - 1) // PER_PAGE + 1 if mine else None,
        viewer_excluded=viewer_excluded,
        board_url=board_url,
        number=format_number,
        per_page=PER_PAGE,
    )
