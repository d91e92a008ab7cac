"""The idea's own page gains the official response (under its title), its timeline, and for
the product team a form to change its status: ``POST /ideas/<topic_id>/status``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, TextAreaField
from wtforms.validators import Length

from community.errors import Refused
from community.extensions import db
from community.permissions import can
from community.topics.models import Topic
from community.web.helpers import show_refusal
from community.web.limits import write_limit
from community_ideation import changes
from community_ideation.models import Release

bp = Blueprint("ideation", __name__, url_prefix="/ideas")


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
    form.status.choices = [(s.key, s.name) for s in flow.next_statuses(topic.status)]
    releases = db.session.scalars(select(Release).order_by(Release.released_on.desc()).limit(50))
    form.release.choices = [("", _("No release"))] + [(str(r.id), r.name) for r in releases]
    return form


def sidebar(topic: Any, form: StatusForm | None = None) -> str | None:
    """The ``topic.sidebar`` fragment of an idea: its timeline, and the status form for those
    who may change it."""
    if not topic.is_idea:
        return None
    may_change = current_user.is_authenticated and can("topic.set_status", topic)
    return render_template(
        "ideation/idea_sidebar.html",
        topic=topic,
        form=status_form(topic, form) if may_change else None,
        timeline=changes.timeline(topic),
        flow=changes.current_workflow(),
    )


def header(topic: Any) -> str | None:
    """The ``topic.header`` fragment: the latest official response, prominently."""
    if not topic.is_idea:
        return None
    latest = changes.latest_response(topic)
    if latest is None:
        return None
    return render_template(
        "ideation/idea_header.html",
        topic=topic,
        change=latest,
        flow=changes.current_workflow(),
    )


@bp.route("/<id:topic_id>/status", methods=["GET", "POST"])
@login_required
@write_limit
def change_status(topic_id: int):
    """The form on a page of its own (also where a refused change comes back, with what was
    typed and the reason, answering 400)."""
    topic = db.session.get(Topic, topic_id)
    if topic is None or not topic.is_idea or not can("topic.view", topic):
        abort(404)
    if not can("topic.set_status", topic):
        abort(403)
    form = status_form(topic)
    if form.validate_on_submit():
        release = None
        if form.release.data:
            release = (
                db.session.get(Release, int(form.release.data))
                if form.release.data.isdigit()
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
                return redirect(url_for("topics.topic", topic_id=topic.id, slug=topic.slug))
    status = 400 if form.errors else 200
    return render_template(
        "ideation/status_page.html", topic=topic, form=form, flow=changes.current_workflow()
    ), status
