from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import func, select

from community.extensions import db
from community.permissions import visible_space_ids
from community.spaces.services import space_tree
from community.topics import queries
from community.topics.models import Tag, Topic, TopicTag
from community.web.helpers import paginate

bp = Blueprint("web", __name__)


@bp.route("/")
def home():
    space_ids = visible_space_ids()
    tree = space_tree(space_ids)
    filter_name = request.args.get("filter", "all")
    if filter_name not in queries.TOPIC_FILTERS:
        filter_name = "all"
    page = paginate(
        queries.filter_topics(queries.visible_topics(current_user), filter_name),
        current_app.config["TOPICS_PER_PAGE"],
    )
    unanswered = db.session.scalar(
        select(func.count())
        .select_from(Topic)
        .where(
            Topic.space_id.in_(space_ids),
            Topic.deleted_at.is_(None),
            Topic.held_at.is_(None),
            Topic.kind == "question",
            Topic.reply_count == 0,
        )
    )
    return render_template(
        "home.html", tree=tree, page=page, filter_name=filter_name, unanswered=unanswered
    )


@bp.route("/tags/<name>")
def tag(name: str):
    tag = db.session.scalar(select(Tag).where(Tag.name == name.lower()))
    if tag is None:
        abort(404)
    stmt = queries.visible_topics(current_user).where(
        Topic.id.in_(select(TopicTag.topic_id).where(TopicTag.tag_id == tag.id))
    )
    page = paginate(queries.filter_topics(stmt, "all"), current_app.config["TOPICS_PER_PAGE"])
    return render_template("tag.html", tag=tag, page=page)


@bp.route("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}
