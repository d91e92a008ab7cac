"""The hello plugin's page: members' first topics, newest first."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from community.permissions import visible_space_ids
from community.plugins import prefetch_badges
from community.topics.models import Topic
from community.web.helpers import paginate
from community_hello.models import Newcomer

bp = Blueprint("hello", __name__, url_prefix="/hello")

PER_PAGE = 20


@bp.route("/newcomers")
def newcomers():
    # Only topics the visitor may see: private spaces never leak through a plugin's page.
    stmt = (
        select(Newcomer)
        .join(Newcomer.topic)
        .where(
            Topic.space_id.in_(visible_space_ids()),
            Topic.deleted_at.is_(None),
            Topic.held_at.is_(None),
        )
        .options(joinedload(Newcomer.user), joinedload(Newcomer.topic))
        .order_by(Newcomer.created_at.desc(), Newcomer.id.desc())
    )
    page = paginate(stmt, PER_PAGE)
    # One call of the badges hook for every name on the page.
    prefetch_badges(newcomer.user for newcomer in page.items)
    return render_template("hello/newcomers.html", page=page)
