"""Releases: the list (``/releases/``), a release with the ideas it shipped
(``/releases/<slug>``) and the administrators' form (``/releases/new``)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from community.errors import Refused
from community.web.helpers import paginate, show_refusal
from community.web.limits import write_limit
from community_ideation import releases

bp = Blueprint("ideation_releases", __name__, url_prefix="/releases")

PER_PAGE = 30
IDEAS_PER_PAGE = 50


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ReleaseForm(FlaskForm):
    name = StringField(
        _l("Name"),
        id="ideation-release-name",
        validators=[
            DataRequired(message=_l("Give the release a name.")),
            Length(max=releases.NAME_MAX, message=_l("At most %(max)d characters.")),
        ],
        filters=[_strip],
    )
    released_on = DateField(
        _l("Release date"),
        id="ideation-release-date",
        validators=[InputRequired(message=_l("Give the date of the release."))],
        description=_l("As YYYY-MM-DD."),
    )
    notes = TextAreaField(
        _l("Release notes"),
        id="ideation-release-notes",
        validators=[Length(max=releases.NOTES_MAX, message=_l("At most %(max)d characters."))],
        description=_l("Markdown."),
    )


def _admin_or_403() -> None:
    if not current_user.is_admin:
        abort(403)


@bp.route("/")
def index():
    page = paginate(releases.releases_statement(), PER_PAGE)
    return render_template("ideation/releases_index.html", page=page, format_date=format_date)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@write_limit
def new():
    _admin_or_403()
    form = ReleaseForm()
    if form.validate_on_submit():
        try:
            release = releases.create_release(
                current_user, form.name.data, form.released_on.data, form.notes.data or ""
            )
        except Refused as refusal:
            show_refusal(form, refusal, "name")
        else:
            flash(_("Release %(name)s added.", name=release.name), "success")
            return redirect(url_for("ideation_releases.release", slug=release.slug))
    status = 400 if form.is_submitted() else 200
    return render_template("ideation/releases_new.html", form=form), status


@bp.route("/<slug>")
def release(slug: str):
    found = releases.by_slug(slug)
    if found is None:
        abort(404)
    page = paginate(releases.shipped_statement(found), IDEAS_PER_PAGE)
    return render_template(
        "ideation/releases_show.html", release=found, page=page, format_date=format_date
    )
