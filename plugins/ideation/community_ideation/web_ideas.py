"""The idea's own page gains the official response (under its title), its timeline, and for
the product team a form to change its status: ``POST /ideas/<topic_id>/status``."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from community.errors import Refused
from community.extensions import db
from community.permissions import can
from community.topics.models import Topic
from community.web.helpers import show_refusal
from community.web.limits import write_limit
from community_ideation import changes, duplicates, importance, notes
from community_ideation.models import Release, StaffNote

bp = Blueprint("ideation", __name__, url_prefix="/ideas")


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Staff note"),
        id="ideation-note",
        validators=[DataRequired(), Length(max=notes.NOTE_MAX)],
        description=_l("Only staff, this space's moderators and its product team read it."),
    )


class DuplicateForm(FlaskForm):
    original = StringField(
        _l("The original idea"),
        id="ideation-original",
        validators=[DataRequired(), Length(max=500)],
        description=_l("Its address, or its number (the 42 of /t/42)."),
    )
    response = TextAreaField(
        _l("Official response"),
        id="ideation-duplicate-response",
        validators=[Length(max=changes.RESPONSE_MAX)],
        description=_l("Leave it empty to say that it duplicates the original, with a link."),
    )


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), id="ideation-status", validate_choice=False)
    response = TextAreaField(
        _l("Official response"),
        id="ideation-response",
        validators=[Length(max=changes.RESPONSE_MAX)],
        description=_l("Shown on the idea and sent to its author, voters and followers."),
    )
    release = SelectField(_l("Shipped in release"), id="ideation-release", validate_choice=False)


def status_form(topic: Any, form: StatusForm | None = None) -> StatusForm:
    form = form or StatusForm()
    flow = changes.current_workflow()
    form.status.choices = [(s.key, s.label) for s in flow.next_statuses(topic.status)]
    releases = db.session.scalars(select(Release).order_by(Release.released_on.desc()).limit(50))
    form.release.choices = [("", _("No release"))] + [(str(r.id), r.name) for r in releases]
    return form


def _topic_url(topic: Any) -> str:
    return url_for("topics.topic", topic_id=topic.id, slug=topic.slug)


def sidebar(topic: Any, form: StatusForm | None = None) -> str | None:
    """The ``topic.sidebar`` fragment of an idea: how much it matters to its voters (and the
    viewer's choice, if they voted), its timeline, its staff notes for those who may read them,
    and the status form for those who may change it."""
    if not topic.is_idea:
        return None
    user = current_user._get_current_object()
    may_change = user.is_authenticated and can("topic.set_status", topic)
    voted = user.is_authenticated and importance.has_voted(user, topic)
    staff = user.is_authenticated and notes.may_read(user, topic)
    return render_template(
        "ideation/idea_sidebar.html",
        topic=topic,
        form=status_form(topic, form) if may_change else None,
        may_mark_duplicate=may_change and topic.status != duplicates.STATUS,
        timeline=changes.timeline(topic),
        flow=changes.current_workflow(),
        levels=importance.LEVELS,
        importance=importance.counts([topic.id]).get(topic.id, {}),
        my_level=importance.level_of(user, topic) if voted else None,
        voted=voted,
        closed=topic.status in changes.current_workflow().closed_keys,
        staff_notes=notes.notes(topic) if staff else None,
        note_form=NoteForm() if staff else None,
        duplicates=duplicates.visible_duplicates(topic, user),
    )


def header(topic: Any) -> str | None:
    """The ``topic.header`` fragment: the idea it duplicates, and the latest official
    response, prominently."""
    if not topic.is_idea:
        return None
    latest = changes.latest_response(topic)
    original = duplicates.visible_original(topic, current_user._get_current_object())
    if latest is None and original is None:
        return None
    return render_template(
        "ideation/idea_header.html",
        topic=topic,
        change=latest,
        original=original,
        flow=changes.current_workflow(),
    )


def _idea_or_404(topic_id: int) -> Any:
    topic = db.session.get(Topic, topic_id)
    if topic is None or not topic.is_idea or not can("topic.view", topic):
        abort(404)
    return topic


@bp.route("/<id:topic_id>/status", methods=["GET", "POST"])
@login_required
@write_limit
def change_status(topic_id: int):
    """The form on a page of its own (also where a refused change comes back, with what was
    typed and the reason, answering 400)."""
    topic = _idea_or_404(topic_id)
    if not can("topic.set_status", topic):
        abort(403)
    form = status_form(topic)
    if form.validate_on_submit():
        release = None
        if form.release.data:
            raw = form.release.data
            release = (
                db.session.get(Release, int(raw))
                if raw.isascii() and raw.isdigit() and len(raw) < 10
                else None
            )
            if release is None:
                form.release.errors = [_("There is no such release.")]
        if not form.release.errors:
            try:
                changes.change_status(
                    current_user._get_current_object(),
                    topic,
                    form.status.data,
                    form.response.data or "",
                    release,
                )
            except Refused as refusal:
                show_refusal(form, refusal, "status")
            else:
                flash(_("The status of the idea was changed."), "success")
                return redirect(_topic_url(topic))
    status = 400 if form.errors else 200
    return render_template(
        "ideation/status_page.html", topic=topic, form=form, flow=changes.current_workflow()
    ), status


@bp.route("/<id:topic_id>/duplicate", methods=["GET", "POST"])
@login_required
@write_limit
def mark_duplicate(topic_id: int):
    """Mark the idea as a duplicate of another: its votes and followers go to the original."""
    topic = _idea_or_404(topic_id)
    if not can("topic.set_status", topic):
        abort(403)
    form = DuplicateForm()
    if form.validate_on_submit():
        original = duplicates.find_idea(form.original.data)
        try:
            moved = duplicates.mark_duplicate(
                current_user._get_current_object(), topic, original, form.response.data or ""
            )
        except Refused as refusal:
            show_refusal(form, refusal, "original")
        else:
            flash(
                ngettext(
                    "Marked as a duplicate; %(num)d vote went to the original.",
                    "Marked as a duplicate; %(num)d votes went to the original.",
                    moved,
                ),
                "success",
            )
            return redirect(_topic_url(original))
    status = 400 if form.errors else 200
    return render_template("ideation/duplicate_page.html", topic=topic, form=form), status


@bp.route("/<id:topic_id>/importance", methods=["POST"])
@login_required
@write_limit
def set_importance(topic_id: int):
    topic = _idea_or_404(topic_id)
    level = request.form.get("level", "")  # core's CSRFProtect checked the token
    if level and level not in importance.LEVELS:
        abort(400)
    try:
        importance.set_level(current_user._get_current_object(), topic, level)
    except Refused as refusal:
        flash(refusal.message, "error")
        return redirect(_topic_url(topic))
    flash(_("Thank you: the product team sees how much it matters."), "success")
    return redirect(_topic_url(topic))


@bp.route("/<id:topic_id>/notes", methods=["POST"])
@login_required
@write_limit
def add_note(topic_id: int):
    topic = _idea_or_404(topic_id)
    if not notes.may_read(current_user, topic):
        abort(403)
    form = NoteForm()
    if form.validate_on_submit():
        notes.add_note(current_user._get_current_object(), topic, form.body.data)
        flash(_("The note was added."), "success")
        return redirect(_topic_url(topic) + "#ideation-notes")
    return render_template("ideation/note_page.html", topic=topic, form=form), 400


@bp.route("/notes/<id:note_id>/delete", methods=["POST"])
@login_required
@write_limit
def delete_note(note_id: int):
    note = db.session.get(StaffNote, note_id)
    topic = db.session.get(Topic, note.topic_id) if note is not None else None
    if topic is None or not can("topic.view", topic) or not notes.may_read(current_user, topic):
        abort(404)
    try:
        notes.delete_note(current_user._get_current_object(), note)
    except Refused:
        abort(403)
    flash(_("The note was deleted."), "success")
    return redirect(_topic_url(topic) + "#ideation-notes")


@bp.route("/statuses.css")
def statuses_stylesheet():
    """The statuses' colours (see :func:`community_ideation.display.statuses_css`)."""
    from community_ideation import display

    response = make_response(display.statuses_css(changes.current_workflow()))
    response.mimetype = "text/css"
    if request.args.get("v") == display.statuses_version():
        response.cache_control.public = True
        response.cache_control.max_age = 86400 * 30
    return response
