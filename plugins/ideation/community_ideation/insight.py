"""Insight on a space's ideas for staff, admins, its moderators and its product team: the
funnel (ideas per workflow status), the median time from New to Shipped, the top voted open
ideas, and a small SVG bar chart of the funnel (drawn on the server, no JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from statistics import median
from typing import Any

from sqlalchemy import func, or_, select

from community.extensions import db
from community.permissions import can
from community.topics.models import Topic
from community_ideation.models import Change
from community_ideation.roadmap import may_read_staff_notes, visible_ideas
from community_ideation.workflow import Status, Workflow

TOP_IDEAS = 10
SHIPPED = "shipped"
# The chart's geometry (SVG user units).
BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 140
BAR_MAX = 300


@dataclass(frozen=True)
class FunnelRow:
    key: str
    name: str
    colour: str
    count: int


@dataclass(frozen=True)
class Bar:
    row: FunnelRow
    y: int
    width: int
    text_y: int


def may_view_insight(user: Any, space: Any) -> bool:
    """Staff, admins, the space's moderators and its product team (who must see the
    space)."""
    return can("space.view", space, user) and may_read_staff_notes(user, space)


def funnel(space_ids: list[int], flow: Workflow) -> list[FunnelRow]:
    """Ideas per status in workflow order (statuses without ideas count 0); ideas with a
    status the workflow lacks come last, named by their key. One query."""
    counts: dict[str | None, int] = {}
    if space_ids:
        ideas = visible_ideas(space_ids).subquery()
        rows = db.session.execute(select(ideas.c.status, func.count()).group_by(ideas.c.status))
        counts = dict(rows.all())
    result = [FunnelRow(s.key, s.label, s.colour, counts.pop(s.key, 0)) for s in flow.statuses]
    if None in counts:  # ideas from before the workflow: they are new
        new = next((i for i, r in enumerate(result) if r.key == "new"), None)
        if new is not None:
            r = result[new]
            result[new] = FunnelRow(r.key, r.name, r.colour, r.count + counts.pop(None))
    for key, count in sorted(counts.items(), key=lambda kv: str(kv[0])):
        result.append(FunnelRow(str(key), str(key), "#5b6472", count))
    return result


def median_time_to_ship(space_ids: list[int]) -> timedelta | None:
    """Median of (first change to shipped − the idea's creation) over the ideas of these
    spaces that shipped; None when none did."""
    if not space_ids:
        return None
    ideas = visible_ideas(space_ids).subquery()
    first = (
        select(Change.topic_id, func.min(Change.created_at).label("shipped_at"))
        .where(Change.to_status == SHIPPED)
        .group_by(Change.topic_id)
        .subquery()
    )
    rows = db.session.execute(
        select(ideas.c.created_at, first.c.shipped_at).join(first, first.c.topic_id == ideas.c.id)
    ).all()
    durations = []
    for created_at, shipped_at in rows:
        if created_at is None or shipped_at is None:
            continue
        if created_at.tzinfo is None and shipped_at.tzinfo is not None:
            shipped_at = shipped_at.replace(tzinfo=None)
        elif shipped_at.tzinfo is None and created_at.tzinfo is not None:
            created_at = created_at.replace(tzinfo=None)
        durations.append(max((shipped_at - created_at).total_seconds(), 0.0))
    if not durations:
        return None
    return timedelta(seconds=median(durations))


def top_open_ideas(space_ids: list[int], flow: Workflow, limit: int = TOP_IDEAS) -> list[Topic]:
    """The most voted ideas whose status is open (or not set yet)."""
    if not space_ids:
        return []
    closed = list(flow.closed_keys)
    stmt = visible_ideas(space_ids)
    if closed:
        stmt = stmt.where(or_(Topic.status.is_(None), Topic.status.not_in(closed)))
    stmt = stmt.order_by(Topic.score.desc(), Topic.created_at.desc(), Topic.id.desc()).limit(limit)
    return list(db.session.scalars(stmt).unique())


def chart(rows: list[FunnelRow]) -> dict[str, Any]:
    """The bar chart's geometry: bars scaled to the largest count."""
    largest = max((r.count for r in rows), default=0)
    bars = []
    for i, row in enumerate(rows):
        y = i * (BAR_HEIGHT + BAR_GAP)
        width = round(BAR_MAX * row.count / largest) if largest else 0
        if row.count and width < 2:
            width = 2
        bars.append(Bar(row, y, width, y + BAR_HEIGHT // 2 + 5))
    height = max(len(rows) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP, BAR_HEIGHT)
    return {
        "bars": bars,
        "height": height,
        "width": LABEL_WIDTH + BAR_MAX + 60,
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
    }


def status_of(flow: Workflow, key: str | None) -> Status | None:
    return flow.status(key or "new")
