"""The public roadmap (``/roadmap/<space_slug>``): three columns, Planned / In progress /
Shipped, each sorted by votes or newest and paginated on its own (``?column=planned&page=2``).
No JavaScript; a space the viewer may not see answers 404."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from community.permissions import can
from community.web.helpers import page_number
from community_ideation import roadmap

bp = Blueprint("ideation_roadmap", __name__, url_prefix="/roadmap")


def roadmap_url(space, sort: str, column: str | None = None, number: int = 1) -> str:
    args: dict = {"space_slug": space.slug}
    if sort != "votes":
        args["sort"] = sort
    if column is not None and number > 1:
        args["column"] = column
        args["page"] = number
    return url_for("ideation_roadmap.space", **args)


@bp.route("/")
def index():
    """The roadmaps of the idea spaces the visitor may see."""
    return render_template(
        "ideation/roadmap_index.html",
        spaces=roadmap.index(current_user._get_current_object()),
        flow=roadmap.current_workflow(),
        columns=roadmap.COLUMNS,
    )


@bp.route("/<space_slug>")
def space(space_slug: str):
    found = roadmap.space_by_slug(space_slug)
    if found is None or not can("space.view", found):
        abort(404)
    sort = request.args.get("sort", "votes")
    if sort not in roadmap.SORTS:
        abort(400)
    column = request.args.get("column")
    if column is not None and column not in roadmap.COLUMNS:
        abort(400)
    number = page_number()
    if number > 1 and column is None:
        abort(404)
    data = roadmap.roadmap(found, current_user._get_current_object(), sort, column, number)
    if column is not None and number > 1:
        shown = next((page for status, page in data["columns"] if status.key == column), None)
        if shown is None or not shown.items:
            abort(404)
    return render_template(
        "ideation/roadmap_space.html",
        space=found,
        sort=sort,
        roadmap_url=roadmap_url,
        **data,
    )
