from __future__ import annotations

import re

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from community.errors import Refused
from community.extensions import db, wants_json
from community.notifications.service import mark_topic_read
from community.permissions import all_spaces, can, require, visible_space_ids
from community.plugins import prefetch_badges
from community.spaces.services import space_tree
from community.topics import queries, services
from community.topics.forms import (
    ActionForm,
    CommentForm,
    EditPostForm,
    HidePostForm,
    MergeTopicForm,
    MoveTopicForm,
    ReplyForm,
    SplitTopicForm,
)
from community.topics.models import Post, PostRevision, Topic
from community.web.helpers import paginate, query_args, refuse, show_refusal
from community.web.limits import vote_limit, write_limit

bp = Blueprint("topics", __name__)

# What a moderator may type to name a topic: its number, or its address.
TOPIC_NUMBER_RE = re.compile(r"#?(\d{1,10})")
TOPIC_ADDRESS_RE = re.compile(r"/t/(\d{1,10})(?:[/?#]|$)")
MAX_ID = 2**31 - 1  # as in the URL converter: larger numbers are no row id


def get_visible_topic(topic_id: int) -> Topic:
    topic = db.session.get(Topic, topic_id)
    if topic is None:
        abort(404)
    require("topic.view", topic)
    return topic


def get_visible_post(post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None:
        abort(404)
    require("post.view", post)
    return post


def _topic_url(topic: Topic, **kwargs) -> str:
    return url_for("topics.topic", topic_id=topic.id, slug=topic.slug, **kwargs)


def _post_url(post: Post) -> str:
    if post.is_opening:
        return _topic_url(post.topic)
    return _topic_url(post.topic) + f"#post-{post.parent_id or post.id}"


def render_topic(
    topic: Topic,
    reply_form: ReplyForm | None = None,
    status: int = 200,
    move_form: MoveTopicForm | None = None,
    merge_form: MergeTopicForm | None = None,
):
    opening = queries.opening_post(topic)
    page = paginate(queries.answers_for(topic, current_user), current_app.config["POSTS_PER_PAGE"])
    post_ids = [opening.id, *(p.id for p in page.items)]
    comments = queries.comments_for(post_ids, topic, current_user)
    votes = queries.votes_of(
        current_user, post_ids + [c.id for cs in comments.values() for c in cs]
    )
    prefetch_badges(
        [opening.author, *(p.author for p in page.items)]
        + [c.author for cs in comments.values() for c in cs],
        space=topic.space,
    )
    if can("topic.moderate", topic):
        move_form = move_form or MoveTopicForm()
        move_form.space_id.choices = _move_choices(topic)
        merge_form = merge_form or MergeTopicForm()
    return render_template(
        "topics/topic.html",
        topic=topic,
        opening=opening,
        page=page,
        comments=comments,
        votes=votes,
        reply_form=reply_form or ReplyForm(),
        move_form=move_form,
        merge_form=merge_form,
    ), status


def _move_choices(topic: Topic) -> list[tuple[int, str]]:
    """The spaces the moderator may move ``topic`` to, in tree order."""
    return [
        (space.id, "— " * depth + space.title)
        for space, depth in space_tree(visible_space_ids())
        if space.id != topic.space_id and can("space.moderate", space)
    ]


def _topic_by_reference(text: str) -> Topic | None:
    """The topic a moderator named by its number (``42``, ``#42``) or address, if it is in
    a space they may see."""
    text = text.strip()
    match = TOPIC_NUMBER_RE.fullmatch(text) or TOPIC_ADDRESS_RE.search(text)
    if match is None or not 1 <= int(match.group(1)) <= MAX_ID:
        return None
    topic = db.session.get(Topic, int(match.group(1)))
    if topic is None or not can("topic.view", topic):
        return None
    return topic


@bp.route("/t/<id:topic_id>")
@bp.route("/t/<id:topic_id>/<slug>")
def topic(topic_id: int, slug: str | None = None):
    topic = db.session.get(Topic, topic_id)
    if topic is not None and topic.merged_into_id is not None:
        return _follow_merge(topic)
    topic = get_visible_topic(topic_id)
    if slug != topic.slug:
        return redirect(_topic_url(topic, **query_args("topic_id", "slug")), 301)
    mark_topic_read(current_user, topic)
    return render_topic(topic)


@bp.route("/p/<id:post_id>")
def post_link(post_id: int):
    """A post's lasting address: the page of its topic where it is shown, at the post."""
    post = get_visible_post(post_id)
    topic = post.topic
    if post.is_opening:
        return redirect(_topic_url(topic))
    # A comment is shown under the answer it is on.
    shown_id = post.parent_id or post.id
    ids = db.session.scalars(
        queries.answers_for(topic, current_user).with_only_columns(Post.id)
    ).all()
    per_page = current_app.config["POSTS_PER_PAGE"]
    page = ids.index(shown_id) // per_page + 1 if shown_id in ids else 1
    args = {"page": page} if page > 1 else {}
    return redirect(_topic_url(topic, **args) + f"#post-{post.id}")


def _follow_merge(source: Topic):
    """A merged topic's address leads to the topic its posts went to, for visitors who may
    see both spaces: nobody learns about, or lands in, a space hidden from them."""
    target = db.session.get(Topic, source.merged_into_id)
    if target is None or not can("space.view", source.space) or not can("topic.view", target):
        abort(404)
    return redirect(_topic_url(target), 301)


@bp.route("/t/<id:topic_id>/reply", methods=["POST"])
@login_required
@write_limit
def reply(topic_id: int):
    topic = get_visible_topic(topic_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            post = services.create_post(current_user, topic, form.body.data)
        except Refused as refusal:
            show_refusal(form, refusal, "body")
        else:
            if post.held_at is not None:
                flash(held_message(post.held_reason), "info")
            else:
                flash(
                    _("Your answer is published.")
                    if topic.is_question
                    else _("Your reply is published."),
                    "success",
                )
            return redirect(_post_url(post))
    if topic.is_locked and not can("topic.reply", topic):
        form.body.errors = [_("This topic is locked: no new replies.")]
    return render_topic(topic, reply_form=form, status=400)


@bp.route("/p/<id:post_id>/comment", methods=["GET", "POST"])
@login_required
@write_limit
def comment(post_id: int):
    parent = get_visible_post(post_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            post = services.create_post(current_user, parent.topic, form.body.data, parent=parent)
        except Refused as refusal:
            show_refusal(form, refusal, "body")
        else:
            if post.held_at is not None:
                flash(held_message(post.held_reason), "info")
            return redirect(_post_url(parent))
    return render_template("topics/comment.html", form=form, parent=parent), (
        400 if request.method == "POST" else 200
    )


@bp.route("/p/<id:post_id>/edit", methods=["GET", "POST"])
@login_required
@write_limit
def edit(post_id: int):
    post = get_visible_post(post_id)
    require("post.edit", post)
    topic = post.topic
    form = EditPostForm()
    if request.method == "GET":
        form.body.data = post.body_source
        if post.is_opening:
            form.title.data = topic.title
            form.tags.data = " ".join(t.name for t in topic.tags)
    if form.validate_on_submit():
        try:
            services.edit_post(
                current_user,
                post,
                form.body.data,
                title=form.title.data if post.is_opening else None,
                tags=(form.tags.data or "") if post.is_opening else None,
            )
        except Refused as refusal:
            show_refusal(form, refusal, "body")
        else:
            flash(_("Your changes are saved."), "success")
            return redirect(_post_url(post))
    status = 400 if form.errors else 200
    return render_template("topics/edit.html", form=form, post=post, topic=topic), status


@bp.route("/p/<id:post_id>/revisions")
def revisions(post_id: int):
    post = get_visible_post(post_id)
    if post.deleted_at is not None:
        require("post.view_deleted", post)
    history = list(
        db.session.scalars(
            select(PostRevision)
            .where(PostRevision.post_id == post.id)
            .order_by(PostRevision.created_at.desc(), PostRevision.id.desc())
        )
    )
    return render_template("topics/revisions.html", post=post, topic=post.topic, history=history)


def _check_action_form() -> None:
    """Buttons post an ActionForm; CSRFProtect already refused a missing token."""
    if not ActionForm().validate_on_submit():
        abort(400)


@bp.route("/p/<id:post_id>/delete", methods=["POST"])
@login_required
@write_limit
def delete(post_id: int):
    post = get_visible_post(post_id)
    _check_action_form()
    require("post.delete", post)
    services.delete_post(current_user, post)
    flash(_("The topic was deleted.") if post.is_opening else _("The post was deleted."), "info")
    if post.is_opening and not can("topic.view", post.topic):
        return redirect(url_for("spaces.space", slug=post.topic.space.slug))
    return redirect(_post_url(post))


@bp.route("/p/<id:post_id>/release", methods=["POST"])
@login_required
@write_limit
def release(post_id: int):
    post = get_visible_post(post_id)
    _check_action_form()
    require("post.release", post)
    services.release_post(current_user, post)
    flash(_("The post is published."), "success")
    return redirect(_post_url(post))


@bp.route("/p/<id:post_id>/hide", methods=["POST"])
@login_required
@write_limit
def hide(post_id: int):
    post = get_visible_post(post_id)
    require("post.hide", post)
    form = HidePostForm()
    if not form.validate_on_submit():
        flash(_("The reason can have at most %(n)d characters.", n=300), "error")
        return redirect(_post_url(post))
    services.hide_post(current_user, post, form.reason.data or "")
    flash(_("The post is hidden: only its author and moderators see it."), "info")
    return redirect(_post_url(post))


def held_message(reason: str | None) -> str:
    return _(
        "Thank you! Your post waits for a moderator's review before others can see it: %(reason)s",
        reason=reason or "",
    )


@bp.route("/p/<id:post_id>/restore", methods=["POST"])
@login_required
@write_limit
def restore(post_id: int):
    post = get_visible_post(post_id)
    _check_action_form()
    require("post.restore", post)
    services.restore_post(current_user, post)
    flash(_("The post was restored."), "success")
    return redirect(_post_url(post))


@bp.route("/p/<id:post_id>/vote", methods=["POST"])
@login_required
@vote_limit
def vote(post_id: int):
    post = get_visible_post(post_id)
    _check_action_form()
    raw = request.form.get("value", "")
    value = {"up": 1, "down": -1}.get(raw)
    error = None
    mine = None
    if value is None:
        error = _("That kind of vote is not possible here.")
    else:
        try:
            mine = services.cast_vote(current_user, post, value)
        except Refused as refusal:
            error = refusal.message
    db.session.refresh(post)
    if wants_json():
        body = {"score": post.score, "vote": mine, "error": error}
        return jsonify(body), 403 if error else 200
    if error:
        return refuse(error, back=_post_url(post))
    return redirect(_post_url(post))


@bp.route("/p/<id:post_id>/accept", methods=["POST"])
@login_required
@write_limit
def accept(post_id: int):
    post = get_visible_post(post_id)
    _check_action_form()
    require("topic.accept", post.topic)
    try:
        services.accept_answer(current_user, post)
    except Refused as refusal:
        return refuse(refusal.message, back=_post_url(post))
    flash(_("Answer accepted. Thank you for closing the loop!"), "success")
    return redirect(_post_url(post))


@bp.route("/t/<id:topic_id>/unaccept", methods=["POST"])
@login_required
@write_limit
def unaccept(topic_id: int):
    topic = get_visible_topic(topic_id)
    _check_action_form()
    require("topic.accept", topic)
    services.unaccept_answer(current_user, topic)
    flash(_("The answer is no longer accepted."), "info")
    return redirect(_topic_url(topic))


@bp.route("/t/<id:topic_id>/<any(pin, unpin, lock, unlock):what>", methods=["POST"])
@login_required
@write_limit
def moderate(topic_id: int, what: str):
    topic = get_visible_topic(topic_id)
    _check_action_form()
    require("topic.moderate", topic)
    flag = "is_pinned" if what in ("pin", "unpin") else "is_locked"
    services.set_topic_flag(current_user, topic, flag, not what.startswith("un"))
    messages = {
        "pin": _("The topic is pinned."),
        "unpin": _("The topic is no longer pinned."),
        "lock": _("The topic is locked."),
        "unlock": _("The topic is unlocked."),
    }
    flash(messages[what], "info")
    return redirect(_topic_url(topic))


@bp.route("/t/<id:topic_id>/move", methods=["POST"])
@login_required
@write_limit
def move(topic_id: int):
    topic = get_visible_topic(topic_id)
    require("topic.moderate", topic)
    form = MoveTopicForm()
    form.space_id.choices = _move_choices(topic)
    if form.validate_on_submit():
        space = all_spaces()[form.space_id.data]
        try:
            services.move_topic(current_user, topic, space)
        except Refused as refusal:
            show_refusal(form, refusal, "space_id")
        else:
            flash(_("The topic was moved to %(space)s.", space=space.title), "success")
            return redirect(_topic_url(topic))
    return render_topic(topic, move_form=form, status=400)


@bp.route("/t/<id:topic_id>/split", methods=["GET", "POST"])
@login_required
@write_limit
def split(topic_id: int):
    topic = get_visible_topic(topic_id)
    require("topic.moderate", topic)
    replies = db.session.scalars(
        queries.answers_for(topic, current_user)
        .where(Post.deleted_at.is_(None), Post.held_at.is_(None))
        .limit(500)
    ).all()
    form = SplitTopicForm()
    form.posts.choices = [(p.id, str(p.id)) for p in replies]
    if form.validate_on_submit():
        try:
            new = services.split_topic(current_user, topic, form.posts.data or [], form.title.data)
        except Refused as refusal:
            show_refusal(form, refusal, "title")
        else:
            flash(_("The replies were moved into a new topic."), "success")
            return redirect(_topic_url(new))
    prefetch_badges([p.author for p in replies], space=topic.space)
    return render_template(
        "topics/split.html", topic=topic, replies=replies, form=form
    ), 400 if form.errors else 200


@bp.route("/t/<id:topic_id>/merge", methods=["POST"])
@login_required
@write_limit
def merge(topic_id: int):
    topic = get_visible_topic(topic_id)
    require("topic.moderate", topic)
    form = MergeTopicForm()
    if form.validate_on_submit():
        target = _topic_by_reference(form.target.data)
        if target is None:
            form.target.errors = [_("There is no topic with that number or address.")]
        else:
            try:
                services.merge_topic(current_user, topic, target)
            except Refused as refusal:
                show_refusal(form, refusal, "target")
            else:
                flash(_("The topic was merged into this one."), "success")
                return redirect(_topic_url(target))
    return render_topic(topic, merge_form=form, status=400)
