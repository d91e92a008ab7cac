"""A space's product team (``/product-team/<space_slug>``): who answers for its ideas, for
everyone who may see the space; administrators and the space's moderators add and remove
members there."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from community.accounts.models import User
from community.errors import Refused
from community.extensions import db
from community.permissions import can
from community.web.helpers import show_refusal
from community.web.limits import write_limit
from community_ideation import roadmap, team

bp = Blueprint("ideation_team", __name__, url_prefix="/product-team")


class AddForm(FlaskForm):
    username = StringField(
        _l("Username"), id="ideation-team-username", validators=[DataRequired(), Length(max=64)]
    )


def _space_or_404(slug: str):
    space = roadmap.space_by_slug(slug)
    if space is None or not can("space.view", space):
        abort(404)
    return space


def _user_named(name: str) -> User | None:
    return db.session.scalar(
        select(User).where(func.lower(User.username) == (name or "").strip().lower())
    )


def _page(space, form, status: int = 200):
    return render_template(
        "ideation/team.html",
        space=space,
        members=team.members_with_users(space),
        form=form if team.may_manage(current_user, space) else None,
    ), status


@bp.route("/<space_slug>")
def space(space_slug: str):
    found = _space_or_404(space_slug)
    return _page(found, AddForm(formdata=None))


@bp.route("/<space_slug>/add", methods=["POST"])
@login_required
@write_limit
def add(space_slug: str):
    found = _space_or_404(space_slug)
    if not team.may_manage(current_user, found):
        abort(403)
    form = AddForm()
    if form.validate_on_submit():
        user = _user_named(form.username.data)
        try:
            team.add_member(current_user._get_current_object(), found, user)
        except Refused as refusal:
            show_refusal(form, refusal, "username")
        else:
            flash(
                _("%(name)s is now on the product team.", name=user.username),  # type: ignore[union-attr]
                "success",
            )
            return redirect(url_for("ideation_team.space", space_slug=found.slug))
    return _page(found, form, 400)


@bp.route("/<space_slug>/remove/<id:user_id>", methods=["POST"])
@login_required
@write_limit
def remove(space_slug: str, user_id: int):
    found = _space_or_404(space_slug)
    if not team.may_manage(current_user, found):
        abort(403)
    user = db.session.get(User, user_id)
    if user is None or not team.remove_member(current_user._get_current_object(), found, user):
        abort(404)
    flash(_("%(name)s left the product team.", name=user.username), "success")
    return redirect(url_for("ideation_team.space", space_slug=found.slug))
