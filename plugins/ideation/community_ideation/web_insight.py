"""Insight on a space's ideas (``/ideas/insight/<space_slug>``) and their export
(``.../export.csv`` and ``.../export.json``): staff, admins, the space's moderators and its
product team; 404 to who may not see the space, 403 to other members."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, render_template, stream_with_context, url_for
from flask_babel import format_timedelta
from flask_login import current_user

from community.permissions import can
from community.topics.models import Topic
from community_ideation import export, insight, roadmap

bp = Blueprint("ideation_insight", __name__, url_prefix="/ideas/insight")


def _space_for_insight(slug: str) -> Any:
    space = roadmap.space_by_slug(slug)
    if space is None or not can("space.view", space):
        abort(404)
    if not insight.may_view_insight(current_user._get_current_object(), space):
        abort(403)
    return space


def _duration(value: timedelta | None) -> str:
    if value is None:
        return ""
    return format_timedelta(value, granularity="hour", threshold=1.5)


@bp.route("/<space_slug>")
def space(space_slug: str):
    found = _space_for_insight(space_slug)
    flow = roadmap.current_workflow()
    space_ids = roadmap.space_ids_within(found)
    rows = insight.funnel(space_ids, flow)
    return render_template(
        "ideation/insight_space.html",
        space=found,
        funnel=rows,
        total=sum(r.count for r in rows),
        chart=insight.chart(rows),
        median_to_ship=insight.median_time_to_ship(space_ids),
        duration=_duration,
        top=insight.top_open_ideas(space_ids, flow),
        workflow=flow,
    )


def _topic_url(topic: Topic) -> str:
    return url_for("topics.topic", topic_id=topic.id, slug=topic.slug, _external=True)


def _filename(space: Any, extension: str) -> str:
    return f"ideas-{space.slug}.{extension}"


@bp.route("/<space_slug>/export.csv")
def export_csv(space_slug: str):
    found = _space_for_insight(space_slug)
    items = export.rows(roadmap.space_ids_within(found), roadmap.current_workflow(), _topic_url)
    response = Response(stream_with_context(export.csv_lines(items)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(found, "csv")}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<space_slug>/export.json")
def export_json(space_slug: str):
    found = _space_for_insight(space_slug)
    items = export.rows(roadmap.space_ids_within(found), roadmap.current_workflow(), _topic_url)
    meta = {"space": found.slug, "fields": export.FIELDS}
    response = Response(
        stream_with_context(export.json_chunks(items, meta)), mimetype="application/json"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(found, "json")}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
