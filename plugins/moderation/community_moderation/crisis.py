"""Crisis mode: when a space (with the spaces inside it) or the whole site is flooded.

- **slow**: a member may post once per ``slow_minutes`` in that scope;
- **read_only**: no new topics, answers, replies, comments or votes by members;
- **premoderate**: every new post by a member waits for a moderator's approval.

Staff, global moderators and moderators of the space are not affected. One switch per scope
(the ``scope`` column is unique); every switch is in the audit log with the modes before and
after. The crises in force are read once per request.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import g
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from community.dbtypes import utcnow
from community.errors import Refused
from community.extensions import db
from community.permissions import all_spaces, ancestor_ids
from community.plugins import Hold, audit
from community_moderation.common import is_staffish, moderated_space_ids
from community_moderation.limits import humanize_wait
from community_moderation.models import CRISIS_MODES, Crisis

SITE = "site"
CREATE_ACTIONS = ("topic.create", "post.create", "comment.create")
MAX_SLOW_MINUTES = 24 * 60
MESSAGE_LENGTH = 300


def mode_labels() -> dict[str, str]:
    return {
        "slow": _("Slow mode"),
        "read_only": _("Read-only"),
        "premoderate": _("Pre-moderate everything"),
    }


def all_crises() -> dict[str, Crisis]:
    """Every crisis in force, by scope: one query per request."""
    if "moderation_crises" not in g:
        g.moderation_crises = {row.scope: row for row in db.session.scalars(select(Crisis))}
    return g.moderation_crises


def _forget() -> None:
    g.pop("moderation_crises", None)


def scope_of(space: Any) -> str:
    return SITE if space is None else str(space.id)


def crises_for(space: Any) -> list[Crisis]:
    """The crises that apply in ``space`` (its own, its ancestors', the site's), the
    nearest first; outside any space only the site's."""
    crises = all_crises()
    if not crises:
        return []
    found = []
    if space is not None:
        spaces = all_spaces()
        chain = []
        current = space.id
        seen: set[int] = set()
        while current is not None and current not in seen:
            seen.add(current)
            chain.append(current)
            row = spaces.get(current)
            current = row.parent_id if row is not None else None
        found = [crises[str(sid)] for sid in chain if str(sid) in crises]
    if SITE in crises:
        found.append(crises[SITE])
    return found


def _exempt(user: Any, space: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if is_staffish(user):
        return True
    return space is not None and space.id in moderated_space_ids(user)


def scope_space_ids(crisis: Crisis) -> list[int] | None:
    """The spaces a crisis covers (None: all of them)."""
    if crisis.space_id is None:
        return None
    spaces = all_spaces()
    return [sid for sid in spaces if crisis.space_id in ancestor_ids(sid, spaces)]


def _slow_wait(user: Any, crisis: Crisis) -> int | None:
    """Seconds until ``user`` may post again in the crisis's scope, or None."""
    from community.topics.models import Post, Topic

    since = utcnow() - timedelta(minutes=crisis.slow_minutes)
    stmt = select(func.max(Post.created_at)).where(
        Post.author_id == user.id, Post.created_at > since, Post.deleted_at.is_(None)
    )
    space_ids = scope_space_ids(crisis)
    if space_ids is not None:
        stmt = stmt.join(Topic, Topic.id == Post.topic_id).where(Topic.space_id.in_(space_ids))
    last = db.session.scalar(stmt)
    if last is None:
        return None
    wait = (last + timedelta(minutes=crisis.slow_minutes) - utcnow()).total_seconds()
    return int(wait) + 1 if wait > 0 else None


def read_only_sentence(crisis: Crisis) -> str:
    if crisis.space_id is None:
        return _("The site is read-only for now: moderators have paused new posts and votes.")
    return _("This space is read-only for now: moderators have paused new posts and votes.")


def post_gate(user, action, space=None, **_kw) -> str | Hold | None:
    if action not in CREATE_ACTIONS:
        return None
    crises = crises_for(space)
    if not crises or _exempt(user, space):
        return None
    for crisis in crises:
        if crisis.mode == "read_only":
            return read_only_sentence(crisis)
    for crisis in crises:
        if crisis.mode == "slow":
            wait = _slow_wait(user, crisis)
            if wait is not None:
                return _(
                    "Slow mode is on here: you can post again in %(wait)s.",
                    wait=humanize_wait(wait),
                )
    if any(crisis.mode == "premoderate" for crisis in crises):
        return Hold(_("Crisis mode: new posts here wait for a moderator's approval."))
    return None


def vote_gate(user, post) -> str | None:
    space = post.topic.space
    crises = crises_for(space)
    if not crises or _exempt(user, space):
        return None
    for crisis in crises:
        if crisis.mode == "read_only":
            return read_only_sentence(crisis)
    return None


def banner_sentence(crisis: Crisis) -> str:
    if crisis.mode == "read_only":
        return (
            _("Crisis mode: this space is read-only for now.")
            if crisis.space_id
            else _("Crisis mode: the site is read-only for now.")
        )
    if crisis.mode == "premoderate":
        return _("Crisis mode: new posts here wait for a moderator's approval.")
    return ngettext(
        "Crisis mode: slow mode is on, one post every minute per member.",
        "Crisis mode: slow mode is on, one post every %(num)d minutes per member.",
        crisis.slow_minutes,
    )


# --- switching ---------------------------------------------------------------------------------


def may_switch(user: Any, space: Any) -> bool:
    if space is None:
        return bool(user.is_authenticated and user.is_global_moderator)
    return space.id in moderated_space_ids(user)


def switch(actor: Any, space: Any, mode: str | None, minutes: int = 10, message: str = "") -> None:
    """Put ``space`` (None: the whole site) in ``mode``, or end its crisis (``mode`` None).
    Raises Refused for a mode or duration that does not exist; the caller checks that
    ``actor`` may (:func:`may_switch`)."""
    if mode is not None and mode not in CRISIS_MODES:
        raise Refused(_("Choose slow mode, read-only or pre-moderation."), "mode")
    if mode == "slow" and not (isinstance(minutes, int) and 1 <= minutes <= MAX_SLOW_MINUTES):
        raise Refused(
            _("Slow mode needs a number of minutes from 1 to %(max)d.", max=MAX_SLOW_MINUTES),
            "minutes",
        )
    message = " ".join((message or "").split())
    if len(message) > MESSAGE_LENGTH:
        raise Refused(
            _("The message can be at most %(max)d characters long.", max=MESSAGE_LENGTH),
            "message",
        )
    scope = scope_of(space)
    row = db.session.scalar(select(Crisis).where(Crisis.scope == scope))
    before = _state(row)
    if mode is None:
        if row is None:
            return
        db.session.delete(row)
        db.session.commit()
    else:
        if row is None:
            row = Crisis(scope=scope, space_id=space.id if space is not None else None)
            db.session.add(row)
        row.mode = mode
        row.slow_minutes = minutes if mode == "slow" else row.slow_minutes or 10
        row.message = message
        row.started_at = utcnow()
        row.started_by_id = actor.id
        try:
            db.session.commit()
        except IntegrityError:
            # Another moderator switched the same scope at the same moment: theirs stands.
            db.session.rollback()
            _forget()
            return
    after = _state(row) if mode is not None else {"mode": None}
    _forget()
    if before == after:
        return
    action = (
        "crisis.end"
        if mode is None
        else "crisis.start"
        if before["mode"] is None
        else "crisis.change"
    )
    audit(actor, action, space if space is not None else None, before=before, after=after)


def _state(row: Crisis | None) -> dict[str, Any]:
    if row is None:
        return {"mode": None}
    state: dict[str, Any] = {"mode": row.mode}
    if row.mode == "slow":
        state["minutes"] = row.slow_minutes
    if row.message:
        state["message"] = row.message
    return state
