"""The thanks plugin's pages: the latest thanks, and where the "Say thanks" button posts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from community.extensions import db
from community.permissions import require, visible_space_ids
from community.plugins import plugin_settings, prefetch_badges
from community.topics.models import Post, Topic
from community.web.helpers import paginate
from community_thanks import services
from community_thanks.models import ThanksNote

bp = Blueprint("thanks", __name__, url_prefix="/thanks")


@bp.route("/")
def index():
    # Only thanks for answers the visitor may see: a private space never leaks through a
    # plugin's page. Deleted posts and posts held for review are left out too.
    stmt = (
        select(ThanksNote)
        .join(ThanksNote.post)
        .join(Post.topic)
        .where(
            Topic.space_id.in_(visible_space_ids()),
            Topic.deleted_at.is_(None),
            Topic.held_at.is_(None),
            Post.deleted_at.is_(None),
            Post.held_at.is_(None),
        )
        .options(joinedload(ThanksNote.user), joinedload(ThanksNote.post).joinedload(Post.topic))
        .order_by(ThanksNote.created_at.desc(), ThanksNote.id.desc())
    )
    page = paginate(stmt, plugin_settings("thanks")["per_page"])
    # The badges of every name the page shows, with one call of the badges hook.
    prefetch_badges([note.user for note in page.items] + [note.post.author for note in page.items])
    return render_template("thanks/index.html", page=page)


@bp.route("/p/<id:post_id>", methods=["POST"])
@login_required
def thank(post_id: int):
    post = db.session.get(Post, post_id)
    if post is None:
        abort(404)
    require("post.view", post)  # 404 when the visitor may not see it
    if not services.may_thank(post, post.topic):
        abort(403)
    if services.thank(current_user, post):
        flash(_("You thanked %(name)s.", name=post.author.username), "success")
    topic = post.topic
    return redirect(
        url_for("topics.topic", topic_id=topic.id, slug=topic.slug, _anchor=f"post-{post.id}")
    )
