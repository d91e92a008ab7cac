"""The badges' pages: the public catalogue and each badge's holders (``/badges/``), and the
administrators' pages for manual badges (``/admin/plugins/gamification/pages/badges``).

Pages work without JavaScript; every POST carries a CSRF token (core checks it). Suspended
members are listed only for staff and moderators, as on their profiles. No page shows posts or
topics, so nothing of a private space can appear here.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from community.accounts.models import User
from community.extensions import db
from community.plugins import admin_blueprint, prefetch_badges
from community.web.helpers import paginate
from community_gamification import badges
from community_gamification.models import Award, BadgeDefinition

bp = Blueprint("gamification_badges", __name__, url_prefix="/badges")
admin_bp = admin_blueprint("gamification", __name__)

HOLDERS_PER_PAGE = 30


def _strip(value):
    return value.strip() if isinstance(value, str) else value


REASON_MAX = 300


@bp.record_once
def _register_admin_pages(state) -> None:
    # The admin pages come with the public ones (views.register registers this blueprint).
    if admin_bp.name not in state.app.blueprints:
        state.app.register_blueprint(admin_bp)


def _sees_suspended() -> bool:
    """Staff and moderators see suspended members, as core's ``user.view`` lets them."""
    user = current_user
    return bool(user.is_authenticated and (user.is_staff or user.is_global_moderator))


# --- public pages ----------------------------------------------------------------------------


@bp.route("/")
def index():
    catalog = badges.badge_catalog()
    counts = badges.holder_counts(include_inactive=_sees_suspended())
    tiers = {
        "bronze": _("Bronze"),
        "silver": _("Silver"),
        "gold": _("Gold"),
        badges.MANUAL_TIER: _("Special"),
    }
    return render_template(
        "gamification/badges_index.html",
        catalog=catalog,
        counts=counts,
        tiers=tiers,
    )


@bp.route("/<slug>")
def badge(slug: str):
    info = badges.find_badge(slug)
    if info is None:
        abort(404)
    stmt = (
        select(Award)
        .join(User, User.id == Award.user_id)
        .where(Award.badge == info.key)
        .options(joinedload(Award.user))
        .order_by(Award.awarded_at.desc(), Award.id.desc())
    )
    total_stmt = (
        select(func.count()).select_from(Award).join(User, User.id == Award.user_id)
    ).where(Award.badge == info.key)
    if not _sees_suspended():
        stmt = stmt.where(User.active.is_(True))
        total_stmt = total_stmt.where(User.active.is_(True))
    page = paginate(stmt, HOLDERS_PER_PAGE)
    prefetch_badges([award.user for award in page.items])
    return render_template(
        "gamification/badges_badge.html",
        badge=info,
        page=page,
        total=db.session.scalar(total_stmt) or 0,
        tier_label=_tier_label(info.tier),
    )


def _tier_label(tier: str) -> str:
    return {
        "bronze": _("Bronze"),
        "silver": _("Silver"),
        "gold": _("Gold"),
    }.get(tier, _("Special"))


# --- admin pages: manual badges --------------------------------------------------------------


class DefinitionForm(FlaskForm):
    slug = StringField(
        _l("Address"),
        validators=[DataRequired(), Length(max=40)],
        filters=[_strip],
        description=_l(
            "Shown in the badge's address, /badges/…: lowercase letters, digits, hyphens and "
            "underscores. It cannot be changed later."
        ),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)], filters=[_strip])
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=500)],
        filters=[_strip],
        description=_l("What the badge is given for; shown on the badges page."),
    )


class EditDefinitionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)], filters=[_strip])
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=500)],
        filters=[_strip],
        description=_l("What the badge is given for; shown on the badges page."),
    )


def _definition_or_404(badge_id: int) -> BadgeDefinition:
    definition = db.session.get(BadgeDefinition, badge_id)
    if definition is None:
        abort(404)
    return definition


@admin_bp.route("/badges", endpoint="badges")
def badges_list():
    definitions = list(db.session.scalars(select(BadgeDefinition).order_by(BadgeDefinition.name)))
    return render_template(
        "gamification/badges_admin_list.html",
        definitions=definitions,
        counts=badges.holder_counts(include_inactive=True),
        built_in=badges.BUILT_IN,
    )


@admin_bp.route("/badges/new", methods=["GET", "POST"])
def badge_new():
    form = DefinitionForm()
    if form.validate_on_submit():
        slug = form.slug.data
        problem = badges.slug_problem(slug)
        if problem:
            form.slug.errors.append(problem)
        else:
            definition = BadgeDefinition(
                slug=slug, name=form.name.data, description=form.description.data or ""
            )
            db.session.add(definition)
            db.session.commit()
            flash(_("The badge “%(name)s” was created.", name=definition.name), "success")
            return redirect(url_for("gamification_admin.badge_detail", badge_id=definition.id))
    status = 400 if request.method == "POST" else 200
    return render_template("gamification/badges_admin_form.html", form=form), status


def _render_detail(definition, form=None, grant_form=None, errors=None, status=200):
    awards = list(
        db.session.scalars(
            select(Award)
            .where(Award.badge == badges.badge_key(definition.slug, True))
            .options(joinedload(Award.user))
            .order_by(Award.awarded_at.desc(), Award.id.desc())
        )
    )
    granted_by = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_({a.granted_by_id for a in awards if a.granted_by_id}))
        )
    }
    if form is None:
        form = EditDefinitionForm(obj=definition)
    return (
        render_template(
            "gamification/badges_admin_detail.html",
            definition=definition,
            form=form,
            awards=awards,
            granted_by=granted_by,
            grant=grant_form or {"username": "", "reason": ""},
            errors=errors or {},
            reason_max=REASON_MAX,
        ),
        status,
    )


@admin_bp.route("/badges/<id:badge_id>", methods=["GET", "POST"])
def badge_detail(badge_id: int):
    definition = _definition_or_404(badge_id)
    if request.method == "GET":
        return _render_detail(definition)
    form = EditDefinitionForm()
    if not form.validate_on_submit():
        return _render_detail(definition, form=form, status=400)
    definition.name = form.name.data
    definition.description = form.description.data or ""
    db.session.commit()
    flash(_("The badge “%(name)s” was saved.", name=definition.name), "success")
    return redirect(url_for("gamification_admin.badge_detail", badge_id=definition.id))


@admin_bp.route("/badges/<id:badge_id>/grant", methods=["POST"])
def badge_grant(badge_id: int):
    from community.accounts.services import find_user_by_username

    definition = _definition_or_404(badge_id)
    username = (request.form.get("username") or "").strip()
    reason = (request.form.get("reason") or "").strip()
    errors: dict[str, str] = {}
    member = find_user_by_username(username) if username and len(username) <= 64 else None
    if not username:
        errors["username"] = _("Give the username of the member.")
    elif member is None:
        errors["username"] = _("There is no member with this username.")
    elif not member.active:
        errors["username"] = _("This account is suspended.")
    if not reason:
        errors["reason"] = _("Say why the member gets the badge.")
    elif len(reason) > REASON_MAX:
        errors["reason"] = _("At most %(max)d characters.", max=REASON_MAX)
    if errors:
        return _render_detail(
            definition,
            grant_form={"username": username, "reason": reason},
            errors=errors,
            status=400,
        )
    actor = current_user._get_current_object()
    if badges.grant(actor, member, definition, reason) is None:
        flash(_("%(name)s already holds this badge.", name=member.username), "info")
    else:
        flash(
            _("%(name)s got the badge “%(badge)s”.", name=member.username, badge=definition.name),
            "success",
        )
    return redirect(url_for("gamification_admin.badge_detail", badge_id=definition.id))


@admin_bp.route("/badges/<id:badge_id>/revoke/<id:award_id>", methods=["POST"])
def badge_revoke(badge_id: int, award_id: int):
    definition = _definition_or_404(badge_id)
    award = db.session.get(Award, award_id)
    if award is None or award.badge != badges.badge_key(definition.slug, True):
        abort(404)
    reason = (request.form.get("reason") or "").strip()[:REASON_MAX]
    name = award.user.username
    badges.revoke(current_user._get_current_object(), award, reason)
    flash(
        _("%(name)s no longer holds the badge “%(badge)s”.", name=name, badge=definition.name),
        "success",
    )
    return redirect(url_for("gamification_admin.badge_detail", badge_id=definition.id))
