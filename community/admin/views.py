from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from wtforms.fields.choices import SelectChoice

from community.accounts import services as account_services
from community.accounts.models import User
from community.admin.forms import ModeratorForm, SiteSettingsForm, SpaceForm, UserRoleForm
from community.errors import Refused
from community.extensions import db
from community.permissions import require
from community.plugins import audit, prefetch_badges
from community.settings.service import save_settings, site_settings
from community.spaces import services as space_services
from community.spaces.models import Space
from community.themes import available_themes
from community.topics.forms import ActionForm
from community.web.helpers import paginate, show_refusal
from community.web.limits import write_limit

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only():
    require("admin.access")


@bp.route("/")
def index():
    counts = {
        "users": db.session.scalar(select(db.func.count()).select_from(User)),
        "spaces": db.session.scalar(select(db.func.count()).select_from(Space)),
    }
    from community.mail import mail_status

    return render_template(
        "admin/index.html", counts=counts, search=_search_health(), mail=mail_status(limit=1)
    )


def _search_health() -> dict:
    """What the admin should know about search: is the index complete, is the worker keeping
    up, how many questions the suggestions answered before they were asked."""
    from datetime import timedelta

    from community.dbtypes import utcnow
    from community.search import search_backend
    from community.search.models import SearchDeflection, SearchQueue

    oldest = db.session.scalar(
        select(db.func.min(SearchQueue.queued_at)).where(SearchQueue.attempts == 0)
    )
    since = utcnow() - timedelta(days=30)
    backend = search_backend()
    try:
        documents: int | None = backend.count()
    except Exception:  # a broken index must not take the admin page down
        documents = None
    return {
        "backend": backend.name,
        "documents": documents,
        "waiting": db.session.scalar(
            select(db.func.count(SearchQueue.topic_id.distinct())).where(SearchQueue.attempts == 0)
        ),
        "failing": db.session.scalar(
            select(db.func.count(SearchQueue.topic_id.distinct())).where(SearchQueue.attempts > 0)
        ),
        "stalled": oldest is not None and oldest < utcnow() - timedelta(minutes=5),
        "deflections": db.session.scalar(
            select(db.func.count())
            .select_from(SearchDeflection)
            .where(SearchDeflection.created_at >= since)
        ),
    }


# --- spaces ----------------------------------------------------------------------------------


@bp.route("/spaces")
def spaces():
    tree = space_services.space_tree([s.id for s in db.session.scalars(select(Space))])
    return render_template("admin/spaces.html", tree=tree, action_form=ActionForm())


def _parent_choices(exclude: Space | None = None):
    tree = space_services.space_tree([s.id for s in db.session.scalars(select(Space))])
    choices = [SelectChoice(0, _("— top level —"))]
    for space, depth in tree:
        if exclude is not None and space.id == exclude.id:
            continue
        choices.append(SelectChoice(space.id, "\u2003" * depth + space.title))
    return choices


@bp.route("/spaces/new", methods=["GET", "POST"])
@bp.route("/spaces/<id:space_id>", methods=["GET", "POST"])
@write_limit
def edit_space(space_id: int | None = None):
    space = db.session.get(Space, space_id) if space_id else Space()
    if space is None:
        abort(404)
    form = SpaceForm(obj=space if request.method == "GET" and space_id else None)
    form.parent_id.choices = _parent_choices(space if space_id else None)
    if request.method == "GET" and space_id:
        form.parent_id.data = space.parent_id or 0
    if form.validate_on_submit():
        before = _space_state(space) if space_id else {}
        try:
            space_services.save_space(
                space,
                title=form.title.data.strip(),
                slug=form.slug.data.strip().lower(),
                description=form.description.data or "",
                parent_id=form.parent_id.data or None,
                visibility=form.visibility.data,
                default_kind=form.default_kind.data,
            )
        except Refused as refusal:
            db.session.rollback()
            show_refusal(form, refusal, "title")
        else:
            after = _space_state(space)
            if before != after:
                audit(
                    current_user,
                    "space.edit" if space_id else "space.create",
                    space,
                    before={k: v for k, v in before.items() if after.get(k) != v},
                    after={k: v for k, v in after.items() if before.get(k) != v},
                )
            flash(_("The space “%(title)s” is saved.", title=space.title), "success")
            return redirect(url_for("admin.edit_space", space_id=space.id))
    moderators = space_services.moderators_of(space) if space_id else []
    prefetch_badges(moderators)
    return render_template(
        "admin/space_form.html",
        form=form,
        space=space if space_id else None,
        moderators=moderators,
        moderator_form=ModeratorForm(),
        action_form=ActionForm(),
    ), 400 if form.errors else 200


@bp.route("/spaces/<id:space_id>/move/<any(up, down):direction>", methods=["POST"])
def move_space(space_id: int, direction: str):
    space = db.session.get(Space, space_id) or abort(404)
    if ActionForm().validate_on_submit():
        space_services.move_space(space, -1 if direction == "up" else 1)
    return redirect(url_for("admin.spaces"))


@bp.route("/spaces/<id:space_id>/moderators", methods=["POST"])
@write_limit
def add_moderator(space_id: int):
    space = db.session.get(Space, space_id) or abort(404)
    form = ModeratorForm()
    if form.validate_on_submit():
        user = account_services.find_user_by_username(form.username.data)
        if user is None:
            flash(_("No user is called %(name)s.", name=form.username.data), "error")
        else:
            space_services.add_moderator(space, user)
            audit(current_user, "space.moderator_add", space, after={"moderator": user.username})
            flash(_("%(name)s now moderates this space.", name=user.username), "success")
    return redirect(url_for("admin.edit_space", space_id=space.id))


@bp.route("/spaces/<id:space_id>/moderators/<id:user_id>/remove", methods=["POST"])
def remove_moderator(space_id: int, user_id: int):
    space = db.session.get(Space, space_id) or abort(404)
    if ActionForm().validate_on_submit():
        removed = db.session.get(User, user_id)
        space_services.remove_moderator(space, user_id)
        audit(
            current_user,
            "space.moderator_remove",
            space,
            before={"moderator": removed.username if removed else user_id},
        )
        flash(_("The moderator was removed."), "info")
    return redirect(url_for("admin.edit_space", space_id=space.id))


def _space_state(space: Space) -> dict:
    return {
        "title": space.title,
        "slug": space.slug,
        "parent_id": space.parent_id,
        "visibility": space.visibility,
        "default_kind": space.default_kind,
        "description": space.description,
    }


# --- users -----------------------------------------------------------------------------------


@bp.route("/users")
def users():
    q = request.args.get("q", "").strip()[:64]
    stmt = select(User).order_by(User.username_key)
    if q:
        pattern = (
            "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(
            or_(User.username_key.like(pattern, escape="\\"), User.email.like(pattern, escape="\\"))
        )
    page = paginate(stmt, current_app.config["USERS_PER_PAGE"])
    return render_template("admin/users.html", page=page, q=q)


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@write_limit
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserRoleForm(obj=user)
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
            form.role.errors.append(_("You cannot remove your own admin role or suspend yourself."))
        else:
            actor = current_user._get_current_object()
            account_services.set_role(user, form.role.data, form.is_staff.data, actor=actor)
            if form.active.data:
                account_services.reinstate_user(user, actor)
            else:
                account_services.suspend_user(user, actor)
            flash(_("%(name)s is saved.", name=user.username), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=user), (
        400 if form.errors else 200
    )


# --- settings --------------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@write_limit
def settings():
    form = SiteSettingsForm(data=site_settings() if request.method == "GET" else None)
    form.theme.choices = [SelectChoice(t, t) for t in available_themes(current_app)]
    if form.validate_on_submit():
        before = dict(site_settings())
        try:
            save_settings(
                {
                    name: (form[name].data or "")
                    for name in ("site_name", "logo_text", "tagline", "theme", "default_locale")
                }
            )
        except ValueError as exc:
            for name, message in exc.args[0].items():
                form[name].errors.append(message)
        else:
            after = dict(site_settings())
            changed = sorted(k for k in after if after.get(k) != before.get(k))
            if changed:
                audit(
                    current_user,
                    "settings.edit",
                    None,
                    before={k: before.get(k) for k in changed},
                    after={k: after[k] for k in changed},
                )
            flash(_("Site settings are saved."), "success")
            return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form), 400 if form.errors else 200
