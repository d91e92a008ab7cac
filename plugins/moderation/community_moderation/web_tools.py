"""Moderators' tools: a member's sanctions, the active sanctions, crisis mode, the audit log.

Every page needs a signed-in moderator (of some space, or of the whole site); everyone else
gets 404, so members do not learn the pages exist. Forms work without JavaScript, carry a
CSRF token, and come back with what was typed and the reason when something is wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from community.accounts.models import User
from community.dbtypes import utcnow
from community.errors import Refused
from community.extensions import db
from community.permissions import all_spaces
from community.web.helpers import paginate
from community_moderation import audit, crisis, sanctions
from community_moderation.common import require_moderator
from community_moderation.models import AuditEntry, Sanction

bp = Blueprint("moderation_tools", __name__, url_prefix="/moderation")

LOG_PER_PAGE = 50
SANCTIONS_PER_PAGE = 50


@bp.before_request
@login_required
def _moderators_only():
    require_moderator()


def _user_or_404(username: str) -> User:
    from community.accounts.services import find_user_by_username

    user = find_user_by_username(username)
    if user is None:
        abort(404)
    return user


# --- a member's sanctions ----------------------------------------------------------------------


def _render_user(user: User, form: dict | None = None, errors: dict | None = None, status=200):
    actor = current_user._get_current_object()
    history = sanctions.history(user)
    return (
        render_template(
            "moderation/tools_user.html",
            member=user,
            history=history,
            refusal=sanctions.refusal(actor, user),
            durations=sanctions.duration_labels(),
            form=form or {"kind": "warning", "duration": "1d", "reason": ""},
            errors=errors or {},
            is_live=sanctions.is_live,
            may_lift=sanctions.may_lift,
            now=utcnow(),
        ),
        status,
    )


@bp.route("/users/<username>", methods=["GET", "POST"])
def user(username: str):
    member = _user_or_404(username)
    if request.method == "GET":
        return _render_user(member)
    actor = current_user._get_current_object()
    problem = sanctions.refusal(actor, member)
    if problem:
        abort(403, description=problem)
    form = {
        "kind": request.form.get("kind", ""),
        "duration": request.form.get("duration", ""),
        "reason": request.form.get("reason", "")[:2000],
    }
    errors = {}
    if form["kind"] not in sanctions.KINDS:
        errors["kind"] = _("Choose a warning, a silence or a suspension.")
    minutes = None
    if form["kind"] != "warning":
        valid, minutes = sanctions.parse_duration(form["duration"])
        if not valid:
            errors["duration"] = _("Choose how long it lasts.")
    if not " ".join(form["reason"].split()):
        errors["reason"] = (
            _("Please write the warning: the member will read it.")
            if form["kind"] == "warning"
            else _("Please give a reason: the member will read it.")
        )
    elif len(" ".join(form["reason"].split())) > 500:
        errors["reason"] = _("The reason can be at most %(max)d characters long.", max=500)
    if errors:
        return _render_user(member, form, errors, 400)
    try:
        sanctions.impose(actor, member, form["kind"], form["reason"], minutes=minutes)
    except Refused as refused:
        return _render_user(member, form, {"reason": refused.message}, 400)
    messages = {
        "warning": _("%(name)s was warned.", name=member.username),
        "silence": _("%(name)s is silenced.", name=member.username),
        "suspend": _("%(name)s is suspended.", name=member.username),
    }
    flash(messages[form["kind"]], "success")
    return redirect(url_for(".user", username=member.username))


@bp.route("/sanctions/<id:sanction_id>/lift", methods=["POST"])
def lift(sanction_id: int):
    sanction = db.session.get(Sanction, sanction_id)
    if sanction is None or sanction.user is None:
        abort(404)
    member = sanction.user
    try:
        lifted = sanctions.lift(current_user._get_current_object(), sanction)
    except Refused as refused:
        abort(403, description=refused.message)
    if lifted:
        flash(_("The sanction on %(name)s is lifted.", name=member.username), "success")
    else:
        flash(_("This sanction had already ended."), "info")
    if request.form.get("back") == "list":
        return redirect(url_for(".active_sanctions"))
    return redirect(url_for(".user", username=member.username))


@bp.route("/sanctions")
def active_sanctions():
    now = utcnow()
    stmt = (
        select(Sanction)
        .join(User, User.id == Sanction.user_id)
        .where(
            Sanction.kind.in_(("silence", "suspend")),
            Sanction.lifted_at.is_(None),
            or_(Sanction.ends_at.is_(None), Sanction.ends_at > now),
        )
        .order_by(Sanction.created_at.desc(), Sanction.id.desc())
    )
    from sqlalchemy.orm import joinedload

    stmt = stmt.options(joinedload(Sanction.user), joinedload(Sanction.created_by))
    page = paginate(stmt, SANCTIONS_PER_PAGE)
    actor = current_user._get_current_object()
    return render_template(
        "moderation/tools_sanctions.html",
        page=page,
        may_lift={s.id: sanctions.may_lift(actor, s) for s in page.items},
    )


# --- crisis mode -------------------------------------------------------------------------------


def _crisis_rows() -> list[dict]:
    """One row per scope the moderator may switch: the site first (global moderators), then
    their spaces in tree order."""
    actor = current_user._get_current_object()
    crises = crisis.all_crises()
    rows = []
    if crisis.may_switch(actor, None):
        rows.append({"scope": crisis.SITE, "space": None, "crisis": crises.get(crisis.SITE)})
    spaces = all_spaces()
    from community_moderation.common import moderated_space_ids

    mine = moderated_space_ids(actor)

    def depth(space) -> int:
        level, current, seen = 0, space.parent_id, set()
        while current is not None and current not in seen:
            seen.add(current)
            level += 1
            current = spaces[current].parent_id if current in spaces else None
        return level

    for space in sorted(spaces.values(), key=lambda s: (s.title.casefold(), s.id)):
        if space.id in mine:
            inherited = [c for c in crisis.crises_for(space) if c.scope != str(space.id)]
            rows.append(
                {
                    "scope": str(space.id),
                    "space": space,
                    "crisis": crises.get(str(space.id)),
                    "inherited": inherited[0] if inherited else None,
                    "depth": depth(space),
                }
            )
    return rows


def _render_crisis(form: dict | None = None, errors: dict | None = None, status: int = 200):
    return (
        render_template(
            "moderation/tools_crisis.html",
            rows=_crisis_rows(),
            labels=crisis.mode_labels(),
            form=form or {},
            errors=errors or {},
            max_minutes=crisis.MAX_SLOW_MINUTES,
            message_length=crisis.MESSAGE_LENGTH,
        ),
        status,
    )


@bp.route("/crisis", methods=["GET", "POST"])
def crisis_mode():
    if request.method == "GET":
        return _render_crisis()
    actor = current_user._get_current_object()
    scope = request.form.get("scope", "")
    if scope == crisis.SITE:
        space = None
    elif scope.isascii() and scope.isdigit() and int(scope) in all_spaces():
        space = all_spaces()[int(scope)]
    else:
        abort(404)
    if not crisis.may_switch(actor, space):
        abort(403)
    mode = request.form.get("mode", "")
    form = {
        "scope": scope,
        "mode": mode,
        "minutes": request.form.get("minutes", "10").strip(),
        "message": request.form.get("message", "")[:2000],
    }
    if mode != "off" and mode not in crisis.mode_labels():
        return _render_crisis(
            form, {"mode": _("Choose slow mode, read-only or pre-moderation.")}, 400
        )
    minutes = 10
    if mode == "slow":
        raw = form["minutes"] or "10"
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= crisis.MAX_SLOW_MINUTES:
            message = _(
                "Slow mode needs a number of minutes from 1 to %(max)d.",
                max=crisis.MAX_SLOW_MINUTES,
            )
            return _render_crisis(form, {"minutes": message}, 400)
        minutes = int(raw)
    try:
        crisis.switch(actor, space, None if mode == "off" else mode, minutes, form["message"])
    except Refused as refused:
        return _render_crisis(form, {refused.field or "mode": refused.message}, 400)
    where = space.title if space is not None else _("the whole site")
    if mode == "off":
        flash(_("Crisis mode ended in %(where)s.", where=where), "success")
    else:
        flash(
            _("%(mode)s is on in %(where)s.", mode=crisis.mode_labels()[mode], where=where),
            "success",
        )
    return redirect(url_for(".crisis_mode"))


# --- the audit log -----------------------------------------------------------------------------


def _parse_day(raw: str) -> datetime | None:
    return datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)  # noqa: DTZ007


@bp.route("/log")
def log():
    actor = current_user._get_current_object()
    mine = require_moderator()
    sees_all = actor.is_global_moderator or actor.is_admin
    spaces = all_spaces()
    q = request.args.get("q", "").strip()[:100]
    action = request.args.get("action", "").strip()[:40]
    space_arg = request.args.get("space", "").strip()
    start_raw = request.args.get("from", "").strip()
    end_raw = request.args.get("to", "").strip()
    errors: dict[str, str] = {}

    stmt = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if not sees_all:
        # A space moderator: the entries of their spaces, and their own doing.
        stmt = stmt.where(
            or_(AuditEntry.space_id.in_(sorted(mine)), AuditEntry.actor_id == actor.id)
        )
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                AuditEntry.actor_name.ilike(pattern, escape="\\"),
                AuditEntry.target_label.ilike(pattern, escape="\\"),
                AuditEntry.reason.ilike(pattern, escape="\\"),
                AuditEntry.action.ilike(pattern, escape="\\"),
            )
        )
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    space_id = None
    if space_arg:
        if space_arg.isascii() and space_arg.isdigit() and int(space_arg) in spaces:
            space_id = int(space_arg)
            if not sees_all and space_id not in mine:
                errors["space"] = _("You do not moderate this space.")
            else:
                stmt = stmt.where(AuditEntry.space_id == space_id)
        else:
            errors["space"] = _("There is no such space.")
    for key, raw in (("from", start_raw), ("to", end_raw)):
        if not raw:
            continue
        try:
            day = _parse_day(raw)
            if key == "to":
                day += timedelta(days=1)
        except (ValueError, OverflowError):
            errors[key] = _("Write the date as YYYY-MM-DD, e.g. 2026-03-31.")
            continue
        if key == "from":
            stmt = stmt.where(AuditEntry.created_at >= day)
        else:
            stmt = stmt.where(AuditEntry.created_at < day)
    page = paginate(stmt, LOG_PER_PAGE)
    known_actions = sorted(
        set(db.session.scalars(select(AuditEntry.action).distinct().limit(200))) | {action} - {""}
    )
    space_choices = [
        s
        for s in sorted(spaces.values(), key=lambda s: s.title.casefold())
        if sees_all or s.id in mine
    ]
    return (
        render_template(
            "moderation/tools_log.html",
            page=page,
            q=q,
            action=action,
            actions=known_actions,
            space_id=space_id,
            space_arg=space_arg,
            space_choices=space_choices,
            spaces=spaces,
            start=start_raw,
            end=end_raw,
            errors=errors,
            changes=audit.changes,
            show_value=audit.show_value,
            min_time=time.min,
        ),
        400 if errors else 200,
    )


# --- slots -------------------------------------------------------------------------------------


def slot(slot: str, context: dict):
    if slot == "banner":
        return _banner(context.get("space"))
    if slot == "user.card":
        member = context.get("user")
        if member is None or not current_user.is_authenticated:
            return None
        from community_moderation.common import moderated_space_ids

        if not moderated_space_ids() or member.id == current_user.id:
            return None
        return render_template("moderation/tools_user_card.html", member=member)
    return None


def _banner(space):
    parts = []
    if current_user.is_authenticated:
        silence = sanctions.active_silence(current_user._get_current_object())
        if silence is not None:
            parts.append(
                render_template(
                    "moderation/tools_banner.html",
                    kind="silence",
                    sentence=sanctions.banner_sentence(silence),
                    message="",
                )
            )
    found = crisis.crises_for(space)
    if found:
        current = found[0]
        parts.append(
            render_template(
                "moderation/tools_banner.html",
                kind="crisis",
                sentence=crisis.banner_sentence(current),
                message=current.message,
            )
        )
    return "\n".join(parts) if parts else None
