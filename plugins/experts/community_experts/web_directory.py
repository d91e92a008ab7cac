"""The expert directory (``/experts/``): the spaces with their experts and response times,
each space's directory with its response metrics, the tags' experts, and the space
moderators' forms (grant and revoke the expert badge, the space's routing).

Pages work without JavaScript; every POST carries a CSRF token (FlaskForm, and core checks
it). A space the visitor may not see answers 404 everywhere, its metrics included; a visitor
who may see it but not moderate it gets 403 from the forms. Suspended members are never
listed as experts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from community.accounts.models import User
from community.errors import Refused
from community.extensions import db
from community.permissions import all_spaces, can, visible_space_ids
from community.plugins import prefetch_badges
from community.topics.models import Tag
from community.web.helpers import Page, page_number, paginate, show_refusal
from community.web.limits import write_limit
from community_experts import expertise, grants, metrics, routing
from community_experts.models import SPACE, TAG, Availability, Grant, Standing
from community_experts.settings import ROUTING_MODES

bp = Blueprint("experts", __name__, url_prefix="/experts")

EXPERTS_PER_PAGE = 30
SPACES_PER_PAGE = 50
TAGS_PER_PAGE = 50
TAGS_ON_INDEX = 30
# Experts of each space the directory's space is inside, shown under it (the rest on the
# parent's own directory).
PARENT_EXPERTS_SHOWN = 10
REASON_MAX = grants.REASON_MAX


def _strip(value):
    return value.strip() if isinstance(value, str) else value


# --- forms -----------------------------------------------------------------------------------


class GrantForm(FlaskForm):
    username = StringField(
        _l("Username"),
        id="experts-grant-username",
        validators=[
            DataRequired(message=_l("Give the username of the member.")),
            Length(max=64, message=_l("There is no member with this username.")),
        ],
        filters=[_strip],
    )
    reason = TextAreaField(
        _l("Reason"),
        id="experts-grant-reason",
        validators=[
            DataRequired(message=_l("Give a reason.")),
            Length(max=REASON_MAX, message=_l("At most %(max)d characters.")),
        ],
        filters=[_strip],
        description=_l(
            "Shown to the space's moderators and kept in the audit log; the member is told "
            "they were made an expert."
        ),
    )


class RevokeForm(FlaskForm):
    reason = StringField(
        _l("Reason"),
        validators=[
            DataRequired(message=_l("Give a reason.")),
            Length(max=REASON_MAX, message=_l("At most %(max)d characters.")),
        ],
        filters=[_strip],
    )


class RoutingForm(FlaskForm):
    enabled = BooleanField(
        _l("Offer unanswered questions of this space to its experts"),
        id="experts-routing-enabled",
    )
    after_minutes = IntegerField(
        _l("Minutes without an answer before a question is offered"),
        id="experts-routing-after",
        validators=[
            InputRequired(message=_l("Enter a whole number from 1 to 10080.")),
            NumberRange(min=1, max=10080, message=_l("Enter a whole number from 1 to 10080.")),
        ],
        description=_l("From 1 minute to 10080 (a week)."),
    )
    mode = SelectField(
        _l("How experts are chosen"),
        id="experts-routing-mode",
        choices=[SelectChoice(key, label) for key, label in ROUTING_MODES],
        validate_choice=True,
    )
    per_round = IntegerField(
        _l("Experts asked at a time"),
        id="experts-routing-per-round",
        validators=[
            InputRequired(message=_l("Enter a whole number from 1 to 20.")),
            NumberRange(min=1, max=20, message=_l("Enter a whole number from 1 to 20.")),
        ],
    )


# --- helpers ---------------------------------------------------------------------------------


def format_duration(value: timedelta | None) -> str:
    """A duration in words, to its two largest units: "2 hours 5 minutes", "3 days 4 hours",
    "12 minutes", "40 seconds"; "—" for None."""
    if value is None:
        return "—"
    seconds = max(0, int(round(value.total_seconds())))
    if seconds < 60:
        return format_timedelta(timedelta(seconds=seconds), threshold=max(seconds, 1))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [
        format_timedelta(delta, threshold=count)
        for count, delta in (
            (days, timedelta(days=days)),
            (hours, timedelta(hours=hours)),
            (minutes, timedelta(minutes=minutes)),
        )
        if count
    ][:2]
    if len(parts) == 1:
        return parts[0]
    return _("%(larger)s %(smaller)s", larger=parts[0], smaller=parts[1])


def percentages(*shares: float) -> list[int]:
    """Shares (0–1) as whole percentages adding up to 100 (largest remainders), or all 0."""
    if not any(shares):
        return [0 for _share in shares]
    exact = [share * 100 for share in shares]
    whole = [int(value) for value in exact]
    order = sorted(range(len(exact)), key=lambda i: exact[i] - whole[i], reverse=True)
    for i in order[: max(0, 100 - sum(whole))]:
        whole[i] += 1
    return whole


def _space_or_404(slug: str) -> Any:
    space = next((s for s in all_spaces().values() if s.slug == slug), None)
    if space is None or not can("space.view", space):
        abort(404)
    return space


def _may_moderate(space: Any) -> bool:
    return bool(current_user.is_authenticated and can("space.moderate", space))


def _moderator_or_403(space: Any) -> None:
    if not _may_moderate(space):
        abort(403)


def _tree_key(space_id: int, spaces: dict[int, Any]) -> list[tuple[int, str]]:
    chain = list(reversed(expertise.covering(space_id)))
    return [(spaces[sid].position, spaces[sid].title.lower()) for sid in chain if sid in spaces]


def _path(space: Any, spaces: dict[int, Any]) -> list[Any]:
    """The spaces ``space`` is inside, outermost first."""
    return [spaces[sid] for sid in reversed(expertise.covering(space.id)[1:]) if sid in spaces]


def _experts_statement(space_id: int, exclude_space_id: int | None = None) -> Any:
    """The experts of a space itself (earned or granted, active accounts), most accepted
    answers first: rows of (user, standing or None, grant or None, granted_by or None)."""
    granter = aliased(User)
    stmt = (
        select(User, Standing, Grant, granter)
        .outerjoin(
            Standing,
            and_(
                Standing.user_id == User.id,
                Standing.scope == SPACE,
                Standing.scope_id == space_id,
                Standing.is_expert.is_(True),
            ),
        )
        .outerjoin(Grant, and_(Grant.user_id == User.id, Grant.space_id == space_id))
        .outerjoin(granter, granter.id == Grant.granted_by_id)
        .where(User.active.is_(True), or_(Standing.id.is_not(None), Grant.id.is_not(None)))
        .order_by(func.coalesce(Standing.accepted, 0).desc(), User.username_key, User.id)
    )
    if exclude_space_id is not None:
        here = select(Standing.user_id).where(
            Standing.scope == SPACE,
            Standing.scope_id == exclude_space_id,
            Standing.is_expert.is_(True),
        )
        granted_here = select(Grant.user_id).where(Grant.space_id == exclude_space_id)
        stmt = stmt.where(User.id.not_in(here), User.id.not_in(granted_here))
    return stmt


def _away_ids(user_ids: list[int]) -> set[int]:
    if not user_ids:
        return set()
    from community.dbtypes import utcnow

    now = utcnow()
    return set(
        db.session.scalars(
            select(Availability.user_id).where(
                Availability.user_id.in_(user_ids),
                or_(Availability.until.is_(None), Availability.until > now),
            )
        )
    )


def _expert_entry(row: Any) -> dict[str, Any]:
    user, standing, grant, granter = row
    return {
        "user": user,
        "earned": standing is not None,
        "grant": grant,
        "granted_by": granter,
    }


# --- pages -----------------------------------------------------------------------------------


@bp.route("/")
def index():
    spaces = all_spaces()
    visible = sorted(
        (sid for sid in visible_space_ids() if sid in spaces),
        key=lambda sid: _tree_key(sid, spaces),
    )
    number = page_number()
    start = (number - 1) * SPACES_PER_PAGE
    shown = visible[start : start + SPACES_PER_PAGE]
    if number > 1 and not shown:
        abort(404)
    page = Page(
        [spaces[sid] for sid in shown], number, SPACES_PER_PAGE, len(visible) > start + len(shown)
    )
    counts = {sid: len(users) for sid, users in expertise.experts_in(shown).items()}
    medians = metrics.first_answer_medians(shown, viewer=current_user)
    tags = _tag_counts().limit(TAGS_ON_INDEX + 1) if number == 1 else None
    tag_rows = db.session.execute(tags).all() if tags is not None else []
    return render_template(
        "experts/directory_index.html",
        page=page,
        paths={sid: _path(spaces[sid], spaces) for sid in shown},
        counts=counts,
        medians=medians,
        tags=tag_rows[:TAGS_ON_INDEX],
        more_tags=len(tag_rows) > TAGS_ON_INDEX,
        days=metrics.window_days(),
        duration=format_duration,
    )


def _tag_counts() -> Any:
    experts = func.count(Standing.user_id).label("experts")
    return (
        select(Tag.name, experts)
        .join(Standing, and_(Standing.scope == TAG, Standing.scope_id == Tag.id))
        .join(User, User.id == Standing.user_id)
        .where(Standing.is_expert.is_(True), User.active.is_(True))
        .group_by(Tag.id, Tag.name)
        .order_by(experts.desc(), Tag.name)
    )


@bp.route("/tags")
def tags():
    page = paginate(_tag_counts(), TAGS_PER_PAGE, scalars=False)
    return render_template("experts/directory_tags.html", page=page)


@bp.route("/tag/<name>")
def tag(name: str):
    found = None
    if len(name) <= 64:
        found = db.session.scalar(select(Tag).where(Tag.name == name.strip().lower()))
    if found is None:
        abort(404)
    stmt = (
        select(User, Standing)
        .join(Standing, Standing.user_id == User.id)
        .where(
            Standing.scope == TAG,
            Standing.scope_id == found.id,
            Standing.is_expert.is_(True),
            User.active.is_(True),
        )
        .order_by(Standing.score.desc(), Standing.accepted.desc(), User.username_key, User.id)
    )
    page = paginate(stmt, EXPERTS_PER_PAGE, scalars=False)
    prefetch_badges([user for user, _standing in page.items])
    return render_template("experts/directory_tag.html", tag=found, page=page)


@bp.route("/s/<slug>")
def space(slug: str):
    return _render_directory(_space_or_404(slug))


@bp.route("/s/<slug>/metrics.json")
def space_metrics_json(slug: str):
    return jsonify(metrics.space_metrics_json(_space_or_404(slug), viewer=current_user))


def _render_directory(
    space: Any,
    *,
    grant_form: GrantForm | None = None,
    routing_form: RoutingForm | None = None,
    revoke_errors: dict[int, list[str]] | None = None,
    revoke_values: dict[int, str] | None = None,
    status: int = 200,
):
    spaces = all_spaces()
    moderator = _may_moderate(space)
    found = metrics.space_metrics(space, viewer=current_user)
    page = paginate(_experts_statement(space.id), EXPERTS_PER_PAGE, scalars=False)
    experts = [_expert_entry(row) for row in page.items]

    # Experts of the spaces this one is inside, nearest first (on the first page only).
    parents: list[tuple[Any, list[dict[str, Any]], bool]] = []
    if page.number == 1:
        for parent_id in expertise.covering(space.id)[1:]:
            parent = spaces.get(parent_id)
            if parent is None or not can("space.view", parent):
                continue
            rows = db.session.execute(
                _experts_statement(parent.id, exclude_space_id=space.id).limit(
                    PARENT_EXPERTS_SHOWN + 1
                )
            ).all()
            parents.append(
                (
                    parent,
                    [_expert_entry(row) for row in rows[:PARENT_EXPERTS_SHOWN]],
                    len(rows) > PARENT_EXPERTS_SHOWN,
                )
            )
    users = [entry["user"] for entry in experts] + [
        entry["user"] for _parent, entries, _more in parents for entry in entries
    ]
    ids = [user.id for user in users]
    prefetch_badges(users, space=space)
    stats = metrics.expert_response_times(space, ids, viewer=current_user)
    away = _away_ids(ids)

    if moderator:
        if grant_form is None:
            grant_form = GrantForm(formdata=None)
        if routing_form is None:
            routing_form = RoutingForm(formdata=None, obj=routing.space_routing(space))
    shares = percentages(found.share_experts, found.share_staff, found.share_peers)
    return (
        render_template(
            "experts/directory_space.html",
            space=space,
            path=_path(space, spaces),
            metrics=found,
            shares=dict(zip(("experts", "staff", "peers"), shares, strict=True)),
            page=page,
            experts=experts,
            parents=parents,
            stats=stats,
            away=away,
            moderator=moderator,
            grant_form=grant_form,
            routing_form=routing_form,
            revoke_errors=revoke_errors or {},
            revoke_values=revoke_values or {},
            reason_max=REASON_MAX,
            duration=format_duration,
        ),
        status,
    )


def _back(space: Any):
    return redirect(url_for("experts.space", slug=space.slug))


@bp.route("/s/<slug>/grant", methods=["POST"])
@login_required
@write_limit
def grant(slug: str):
    from community.accounts.services import find_user_by_username

    space = _space_or_404(slug)
    _moderator_or_403(space)
    form = GrantForm()
    if not form.validate_on_submit():
        return _render_directory(space, grant_form=form, status=400)
    member = find_user_by_username(form.username.data)
    actor = current_user._get_current_object()
    try:
        grants.grant(actor, member, space, form.reason.data)
    except grants.Forbidden:
        abort(403)
    except grants.AlreadyGranted as refusal:
        flash(refusal.message, "info")
        return _back(space)
    except Refused as refusal:
        show_refusal(form, refusal, "username")
        return _render_directory(space, grant_form=form, status=400)
    flash(
        _("%(name)s is now an expert in %(space)s.", name=member.username, space=space.title),
        "success",
    )
    return _back(space)


@bp.route("/s/<slug>/revoke/<id:user_id>", methods=["POST"])
@login_required
@write_limit
def revoke(slug: str, user_id: int):
    space = _space_or_404(slug)
    _moderator_or_403(space)
    member = db.session.get(User, user_id)
    if member is None:
        abort(404)
    form = RevokeForm()
    if not form.validate_on_submit():
        return _render_directory(
            space,
            revoke_errors={member.id: [str(error) for error in form.reason.errors]},
            revoke_values={member.id: form.reason.data or ""},
            status=400,
        )
    try:
        done = grants.revoke(current_user._get_current_object(), member, space, form.reason.data)
    except grants.Forbidden:
        abort(403)
    except Refused as refusal:
        return _render_directory(
            space,
            revoke_errors={member.id: [refusal.message]},
            revoke_values={member.id: form.reason.data or ""},
            status=400,
        )
    if done:
        flash(
            _(
                "%(name)s is no longer an expert by grant in %(space)s.",
                name=member.username,
                space=space.title,
            ),
            "success",
        )
    else:
        flash(
            _("%(name)s had no granted expert badge here.", name=member.username),
            "info",
        )
    return _back(space)


@bp.route("/s/<slug>/routing", methods=["POST"])
@login_required
@write_limit
def routing_settings(slug: str):
    space = _space_or_404(slug)
    _moderator_or_403(space)
    form = RoutingForm()
    if not form.validate_on_submit():
        return _render_directory(space, routing_form=form, status=400)
    try:
        routing.save_space_routing(
            current_user._get_current_object(),
            space,
            enabled=form.enabled.data,
            after_minutes=form.after_minutes.data,
            mode=form.mode.data,
            per_round=form.per_round.data,
        )
    except Refused as refusal:
        show_refusal(form, refusal, "after_minutes")
        return _render_directory(space, routing_form=form, status=400)
    flash(_("The routing of %(space)s was saved.", space=space.title), "success")
    return _back(space)
