"""The experts' pages of routing: "Unanswered in your spaces" (the questions offered to the
member first, with a "Pass" button, then the other unanswered questions where they are an
expert) and the page where an expert says they are away or back."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, ValidationError

from community.dbtypes import utcnow
from community.errors import Refused
from community.extensions import db
from community.permissions import can, visible_space_ids
from community.topics.models import Topic
from community.web.helpers import paginate, refuse
from community.web.limits import write_limit
from community_experts import routing
from community_experts.models import OPEN

bp = Blueprint("experts_routing", __name__, url_prefix="/experts")

PER_PAGE = 20


# --- "Unanswered in your spaces" -------------------------------------------------------------


def offered_ago(moment: datetime) -> str:
    minutes = max(0, int((utcnow() - moment).total_seconds() // 60))
    if minutes < 1:
        return _("Offered just now")
    if minutes < 60:
        return ngettext("Offered %(num)d minute ago", "Offered %(num)d minutes ago", minutes)
    hours = minutes // 60
    if hours < 48:
        return ngettext("Offered %(num)d hour ago", "Offered %(num)d hours ago", hours)
    return ngettext("Offered %(num)d day ago", "Offered %(num)d days ago", hours // 24)


@bp.route("/unanswered")
@login_required
def unanswered():
    visible = visible_space_ids()
    offers = routing.offered_to(current_user, visible)
    scope = routing.expert_scope(current_user, visible)
    page = None
    if not scope.empty:
        stmt = routing.unanswered_statement(
            current_user, scope, visible, [topic.id for _offer, topic in offers]
        )
        page = paginate(stmt, PER_PAGE)
    elif request.args.get("page", "1") != "1":
        abort(404)
    return render_template(
        "experts/routing_unanswered.html",
        offers=offers,
        page=page,
        scope=scope,
        away=routing.away_status(current_user.id),
        offered_ago=offered_ago,
    )


@bp.route("/unanswered/<id:topic_id>/pass", methods=["POST"])
@login_required
@write_limit
def pass_offer(topic_id: int):
    topic = db.session.get(Topic, topic_id)
    if topic is None or not can("topic.view", topic):
        abort(404)
    back = url_for("experts_routing.unanswered")
    offer = routing.offer_of(current_user.id, topic.id)
    if offer is None:
        return refuse(_("This question was not offered to you."), 403, back)
    if offer.state != OPEN or not routing.pass_offer(current_user, topic):
        flash(_("This question is no longer waiting for you."), "info")
        return redirect(back)
    flash(
        _("You passed on “%(title)s”: another expert will be asked.", title=topic.title),
        "success",
    )
    return redirect(back)


# --- away ------------------------------------------------------------------------------------


def _parse_until(raw: str) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(_("Enter a date as YYYY-MM-DD, or leave it empty.")) from None
    return datetime.combine(day, time.min, tzinfo=UTC)


class AwayForm(FlaskForm):
    until = StringField(
        _l("Back on (optional)"),
        description=_l(
            "No question is offered to you until this date (UTC). "
            "Leave it empty to stay away until you come back."
        ),
    )
    note = StringField(
        _l("Note (optional)"),
        validators=[
            Length(max=routing.NOTE_MAX, message=_l("The note can be at most 200 characters long."))
        ],
        description=_l("Up to 200 characters, e.g. “On holiday until the 20th”."),
    )

    def validate_until(self, field):
        moment = _parse_until(field.data)
        if moment is not None and moment <= utcnow():
            raise ValidationError(_("Choose a date in the future, or none."))
        self.until_moment = moment


class BackForm(FlaskForm):
    pass


@bp.route("/away", methods=["GET", "POST"])
@login_required
@write_limit
def away():
    status = 200
    form = AwayForm()
    back_form = BackForm()
    if request.method == "POST":
        action = request.form.get("action", "away")
        if action == "back":
            if not back_form.validate_on_submit():
                abort(400)
            if routing.come_back(current_user):
                flash(_("Welcome back: questions will be offered to you again."), "success")
            return redirect(url_for("experts_routing.away"))
        if action != "away":
            return refuse(
                _("Choose whether you are away or back."),
                400,
                url_for("experts_routing.away"),
            )
        if form.validate_on_submit():
            try:
                routing.set_away(
                    current_user,
                    until=getattr(form, "until_moment", None),
                    note=form.note.data or "",
                )
            except Refused as refused:
                field = getattr(form, refused.field or "note", form.note)
                field.errors = [*field.errors, refused.message]
            else:
                flash(
                    _("You are away: no question will be offered to you meanwhile."),
                    "success",
                )
                return redirect(url_for("experts_routing.away"))
        status = 400
    current = routing.away_status(current_user.id)
    if request.method == "GET" and current is not None:
        form.note.data = current.note
        if current.until is not None:
            form.until.data = current.until.date().isoformat()
    return render_template(
        "experts/routing_away.html",
        form=form,
        back_form=back_form,
        current=current,
        open_count=routing.open_offer_count(current_user),
    ), status
