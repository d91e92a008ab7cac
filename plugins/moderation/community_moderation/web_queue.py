"""The pages of flags and of the review queue: flagging a post, the moderators' queue and
its actions, and the author's view of their posts under review."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from community.extensions import db
from community.permissions import all_spaces, can, require, visible_space_ids
from community.plugins import prefetch_badges
from community.topics.models import Post
from community.web.helpers import MAX_PAGE, paginate, refuse
from community_moderation import flags, queue
from community_moderation.common import moderated_space_ids, require_moderator
from community_moderation.models import FLAG_REASONS

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

HIDE_REASON_MAX = 300  # what core keeps of a hiding reason


# --- flagging --------------------------------------------------------------------------------


class FlagForm(FlaskForm):
    reason = RadioField(
        _l("Why should moderators look at this post?"),
        choices=[SelectChoice(key, flags.REASON_LABELS[key]) for key in FLAG_REASONS],
        validators=[InputRequired(message=_l("Choose a reason."))],
    )
    text = TextAreaField(
        _l("Details for the moderators"),
        validators=[Length(max=flags.MAX_TEXT)],
        description=_l(
            "Required for \u201cSomething else\u201d. Up to 500 characters. "
            "The author is never told who flagged the post."
        ),
    )

    def validate_text(self, field):
        if self.reason.data == "other" and not (field.data or "").strip():
            from wtforms.validators import ValidationError

            raise ValidationError(_("Tell the moderators what is wrong with this post."))


def _post_or_404(post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None:
        abort(404)
    require("post.view", post)
    return post


def _post_url(post: Post) -> str:
    return url_for("topics.post_link", post_id=post.id)


@bp.route("/flag/<id:post_id>", methods=["GET", "POST"])
@login_required
def flag(post_id: int):
    post = _post_or_404(post_id)
    back = _post_url(post)
    if post.author_id == current_user.id:
        return refuse(_("You cannot flag your own post."), 403, back)
    if not flags.may_flag(current_user, post):
        if not current_user.is_confirmed:
            return refuse(_("Please confirm your email address first."), 403, back)
        from community_moderation.sanctions import active_silence, silenced_sentence

        silence = active_silence(current_user)
        if silence is not None:
            return refuse(silenced_sentence(silence), 403, back)
        return refuse(_("This post cannot be flagged."), 403, back)
    already = flags.has_flagged(current_user, post)
    form = FlagForm()
    status = 200
    if request.method == "POST":
        if already:
            flash(_("You already flagged this post."), "info")
            return redirect(back)
        if form.validate_on_submit():
            refusal = _flag_limit(current_user)
            if refusal:
                form.reason.errors = [*form.reason.errors, refusal]
                status = 429
            elif flags.add_flag(current_user, post, form.reason.data, form.text.data or ""):
                flash(
                    _(
                        "Thank you. A moderator will look at this post; "
                        "its author is not told who flagged it."
                    ),
                    "success",
                )
                return redirect(back)
            else:
                flash(_("You already flagged this post."), "info")
                return redirect(back)
        else:
            status = 400
    prefetch_badges([post.author])
    return render_template(
        "moderation/flag_form.html",
        post=post,
        form=form,
        already=already,
        back=back,
        reason_help=lambda key: flags.REASON_HELP.get(key, ""),
    ), status


def _flag_limit(user: Any) -> str | None:
    from community_moderation import limits

    check = getattr(limits, "flag_limit", None)
    return check(user) if check is not None else None


# --- the queue -------------------------------------------------------------------------------


def _scope(slug: str) -> tuple[set[int], Any]:
    """The spaces the queue shows: every space the user moderates, or one of them with the
    spaces inside it (``slug``); an unknown slug is a 404."""
    spaces = require_moderator()
    if not slug:
        return set(spaces), None
    known = all_spaces()
    chosen = next((s for s in known.values() if s.slug == slug and s.id in spaces), None)
    if chosen is None:
        abort(404)
    inside: set[int] = set()
    for space_id in spaces:
        current, seen = known.get(space_id), set()
        while current is not None and current.id not in seen:
            if current.id == chosen.id:
                inside.add(space_id)
                break
            seen.add(current.id)
            current = known.get(current.parent_id) if current.parent_id else None
    return inside, chosen


def _space_choices() -> list[Any]:
    spaces = all_spaces()
    return sorted(
        (spaces[sid] for sid in moderated_space_ids() if sid in spaces),
        key=lambda s: (s.title.lower(), s.id),
    )


def _queue_url(tab: str, slug: str, number: int = 1) -> str:
    args: dict[str, Any] = {}
    if tab != "flagged":
        args["tab"] = tab
    if slug:
        args["space"] = slug
    if number > 1:
        args["page"] = number
    return url_for("moderation.index", **args)


def render_queue(
    tab: str,
    slug: str,
    number: int,
    *,
    error: str | None = None,
    error_field: str | None = None,
    typed: dict[str, Any] | None = None,
    status: int = 200,
):
    scope, space = _scope(slug)
    counts = queue.counts(scope)
    page = queue.load_page(tab, scope, number)
    prefetch_badges([item.post.author for item in page.items])
    return render_template(
        "moderation/queue_index.html",
        tab=tab,
        slug=slug,
        space=space,
        spaces=_space_choices(),
        counts=counts,
        page=page,
        here=_queue_url(tab, slug, number),
        prev_url=_queue_url(tab, slug, number - 1) if page.has_prev else None,
        next_url=_queue_url(tab, slug, number + 1) if page.has_next else None,
        tab_url=lambda key: _queue_url(key, slug),
        durations=queue.duration_choices(),
        error=error,
        error_field=error_field,
        typed=typed or {},
        hide_reason_max=HIDE_REASON_MAX,
    ), status


def _page_arg(raw: str | None) -> int:
    raw = raw or "1"
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        abort(404)
    return int(raw)


@bp.route("/")
@login_required
def index():
    require_moderator()
    tab = request.args.get("tab", "flagged")
    if tab not in queue.TABS:
        abort(404)
    return render_queue(tab, request.args.get("space", ""), _page_arg(request.args.get("page")))


def _safe_next(value: str | None) -> str:
    """Only a path of the queue: never another site or another page."""
    value = (value or "").strip()
    if (
        value.startswith("/moderation/")
        and not value.startswith("//")
        and "\\" not in value
        and all(ord(ch) > 31 for ch in value)
    ):
        return value
    return url_for("moderation.index")


def _listing_of(next_url: str) -> tuple[str, str, int]:
    """The tab, space and page a queue address shows (defaults for anything else)."""
    parts = urlsplit(next_url)
    args = parse_qs(parts.query)
    tab = (args.get("tab") or ["flagged"])[0]
    slug = (args.get("space") or [""])[0]
    raw = (args.get("page") or ["1"])[0]
    number = int(raw) if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE else 1
    if tab not in queue.TABS:
        tab = "flagged"
    if slug and slug not in {s.slug for s in _space_choices()}:
        slug = ""
    return tab, slug, number


@bp.route("/act", methods=["POST"])
@login_required
def act():
    require_moderator()
    form = request.form
    next_url = _safe_next(form.get("next"))
    action = form.get("action", "")
    reason = " ".join(form.get("reason", "").split())
    duration = form.get("duration") or None
    raw_ids = form.getlist("post")
    if form.get("all_on_page"):
        raw_ids += form.getlist("page_post")
    source = "row" if form.get("source") == "row" else "bulk"
    typed = {"reason": reason, "duration": duration, "source": source, "ids": set()}
    try:
        if action not in queue.ACTIONS:
            raise queue.Problem(_("Choose what to do with the posts."), field="action")
        if len(reason) > queue.MAX_REASON:
            raise queue.Problem(
                _("The reason can have at most %(n)d characters.", n=queue.MAX_REASON),
                field="reason",
            )
        if action == "hide" and len(reason) > HIDE_REASON_MAX:
            raise queue.Problem(
                _("The reason for hiding can have at most %(n)d characters.", n=HIDE_REASON_MAX),
                field="reason",
            )
        ids = queue.parse_ids(raw_ids)
        typed["ids"] = set(ids)
        if source == "row" and len(ids) == 1:
            typed["row"] = ids[0]
        posts = queue.load_for_action(current_user, ids)
        minutes = queue.check_action(current_user, action, posts, reason, duration)
    except queue.Problem as problem:
        if problem.code == 404:
            abort(404)
        if problem.code == 403:
            abort(403, description=problem.message)
        tab, slug, number = _listing_of(next_url)
        return render_queue(
            tab,
            slug,
            number,
            error=problem.message,
            error_field=problem.field,
            typed=typed,
            status=problem.code,
        )
    outcome = queue.act(current_user, action, posts, reason, minutes)
    for message in queue.outcome_messages(outcome):
        flash(message, "success")
    for message in outcome.errors:
        flash(message, "error")
    return redirect(next_url)


# --- the author's view -----------------------------------------------------------------------


@bp.route("/mine")
@login_required
def mine():
    page = paginate(queue.my_posts(current_user, visible_space_ids()), queue.PER_PAGE)
    return render_template("moderation/queue_mine.html", page=page)


# --- slots -----------------------------------------------------------------------------------


def _nav_count() -> int:
    from flask import g

    if "moderation_nav_count" not in g:
        g.moderation_nav_count = sum(queue.counts(moderated_space_ids()).values())
    return g.moderation_nav_count


def slot(slot: str, context: dict[str, Any]):
    if not current_user.is_authenticated:
        return None
    if slot == "nav":
        if not moderated_space_ids():
            return None
        n = _nav_count()
        current = (request.endpoint or "") == "moderation.index"
        return Markup('<li><a class="moderation-nav" href="%s"%s aria-label="%s">%s</a></li>') % (
            url_for("moderation.index"),
            Markup(' aria-current="page"') if current else "",
            _("Moderation, %(num)d waiting", num=n),
            _("Moderation (%(num)d)", num=n),
        )
    if slot == "post.footer":
        post, topic = context.get("post"), context.get("topic")
        if post is None or topic is None:
            return None
        mine, counts = flags.flags_on_topic(topic.id, current_user)
        open_flags = counts.get(post.id, 0)
        moderator = bool(open_flags) and can("space.moderate", topic.space)
        may_flag = post.id not in mine and flags.may_flag(current_user, post)
        flagged = post.id in mine and post.author_id != current_user.id
        own_review = (
            post.author_id == current_user.id
            and post.held_at is not None
            and post.deleted_at is None
        )
        if not (may_flag or flagged or moderator or own_review):
            return None
        return render_template(
            "moderation/queue_footer.html",
            post=post,
            topic=topic,
            may_flag=may_flag,
            flagged=flagged,
            open_flags=open_flags if moderator else 0,
            own_review=own_review,
        )
    return None
