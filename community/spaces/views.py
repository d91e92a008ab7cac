from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.errors import Refused
from community.permissions import require, visible_space_ids
from community.plugins import prefetch_badges
from community.search.views import similar_for, similar_limit
from community.spaces import services
from community.spaces.models import Space
from community.topics import queries
from community.topics import services as topic_services
from community.topics.forms import TopicForm
from community.web.helpers import paginate, show_refusal
from community.web.limits import write_limit

bp = Blueprint("spaces", __name__)


def get_visible_space(slug: str) -> Space:
    space = services.space_by_slug(slug)
    if space is None:
        abort(404)
    require("space.view", space)
    return space


@bp.route("/s/<slug>")
def space(slug: str):
    space = get_visible_space(slug)
    filter_name = request.args.get("filter", "all")
    sort = request.args.get("sort", "votes" if filter_name == "ideas" else "activity")
    if filter_name not in queries.TOPIC_FILTERS or sort not in ("activity", "votes", "newest"):
        abort(404)
    page = paginate(
        queries.space_topics(current_user, space, filter_name, sort),
        current_app.config["TOPICS_PER_PAGE"],
    )
    visible = set(visible_space_ids())
    children = [c for c in space.children if c.id in visible]
    moderators = services.moderators_of(space)
    prefetch_badges(moderators, space=space)
    return render_template(
        "spaces/space.html",
        space=space,
        children=children,
        page=page,
        filter_name=filter_name,
        sort=sort,
        moderators=moderators,
    )


@bp.route("/s/<slug>/new", methods=["GET", "POST"])
@login_required
@write_limit
@similar_limit
def new_topic(slug: str):
    space = get_visible_space(slug)
    require("space.create_topic", space)
    form = TopicForm()
    # Asking is two steps without JavaScript: the title first, then the suggestions of
    # similar topics above the rest of the form (with JavaScript they update as one types).
    step = 2
    if request.method == "GET":
        kind = request.args.get("kind", space.default_kind)
        form.kind.data = kind if kind in ("question", "idea", "discussion") else space.default_kind
        title = " ".join(request.args.get("title", "").split())[:200]
        form.title.data = title
        step = 2 if title else 1
        if "title" in request.args and not title:
            form.title.errors = [_("Type a title first.")]
    if form.validate_on_submit():
        try:
            topic = topic_services.create_topic(
                current_user,
                space,
                form.kind.data,
                form.title.data,
                form.body.data,
                form.tags.data or "",
            )
        except Refused as refusal:
            show_refusal(form, refusal, "body")
        else:
            if topic.held_at is not None:
                from community.topics.views import held_message

                flash(held_message(queries.opening_post(topic).held_reason), "info")
            else:
                flash(_("Your topic is published."), "success")
            return redirect(url_for("topics.topic", topic_id=topic.id, slug=topic.slug))
    status = 400 if form.errors else 200
    similar = similar_for(form.title.data or "", form.kind.data, space.id) if step == 2 else []
    return (
        render_template("topics/new.html", space=space, form=form, step=step, similar=similar),
        status,
    )
