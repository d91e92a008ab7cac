"""Sanctions: a warning, a silence (read-only) or a suspension of a member.

- A **warning** is a notification to the member (kind ``moderation_warning``) and a row.
- A **silence** makes the member read-only until it ends or is lifted: the post and vote
  gates refuse, and the permission answer denies writing (so the page hides the forms).
- A **suspension** goes through core's ``suspend_user`` (the member cannot sign in) and a
  row remembers the reason and the end; the sign-in page says both.

Silences and suspensions with an end are lifted by a periodic task (every minute); an
expired silence counts as lifted at once, before the task runs.

Audit log: core's ``suspend_user``/``reinstate_user`` announce ``user.suspend`` and
``user.reinstate`` themselves; the plugin does not announce those twice. Instead, while it
calls them, it hands the end of the suspension to its own audit recorder (``audit_details``),
which adds it to core's entry. Warnings, silences and lifting a silence are the plugin's own
actions: ``sanction.warning``, ``sanction.silence``, ``sanction.lift``.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from flask import g
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from community.accounts.models import User
from community.dbtypes import utcnow
from community.errors import Refused
from community.extensions import db
from community.notifications import NotificationKind
from community.plugins import audit
from community.tasks import crontab, periodic_task
from community_moderation.common import is_staffish, moderated_space_ids
from community_moderation.models import Sanction

KINDS = ("warning", "silence", "suspend")
# The durations the form offers, in minutes (None: until lifted by hand).
DURATIONS: dict[str, int | None] = {
    "1h": 60,
    "1d": 60 * 24,
    "3d": 60 * 24 * 3,
    "7d": 60 * 24 * 7,
    "30d": 60 * 24 * 30,
    "forever": None,
}
# Writing actions a silenced member is denied (the permission answer).
SILENCED_ACTIONS = frozenset({"space.create_topic", "topic.reply", "topic.comment", "post.vote"})
MAX_MINUTES = 60 * 24 * 366 * 10


def duration_labels() -> list[tuple[str, str]]:
    return [
        ("1h", _("1 hour")),
        ("1d", _("1 day")),
        ("3d", _("3 days")),
        ("7d", _("7 days")),
        ("30d", _("30 days")),
        ("forever", _("Until lifted")),
    ]


def _describe_warning(notification: Any, count: int) -> str:
    data = notification.data or {}
    reason = data.get("reason") or ""
    if count > 1:
        return ngettext("A moderator warned you.", "Moderators warned you %(num)d times.", count)
    if reason:
        return _("A moderator warned you: %(reason)s", reason=reason)
    return _("A moderator warned you.")


NOTIFICATION_KINDS = [
    NotificationKind(
        "moderation_warning",
        _l("Warnings from moderators"),
        _describe_warning,
        default="email",
        description=_l("A moderator tells you that something you wrote breaks the rules."),
    )
]


# --- who may sanction whom -------------------------------------------------------------------


def refusal(actor: Any, user: User) -> str | None:
    """Why ``actor`` may not sanction ``user``, or None when they may.

    Admins and global moderators may sanction anyone but admins; a space moderator only
    members who neither are staff nor moderate any space; nobody sanctions themselves.
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        return _("Only moderators can do this.")
    if actor.id == user.id:
        return _("You cannot sanction yourself.")
    if user.is_admin:
        return _("Administrators cannot be sanctioned.")
    if actor.is_admin or actor.is_global_moderator:
        return None
    if not moderated_space_ids(actor):
        return _("Only moderators can do this.")
    if is_staffish(user) or moderated_space_ids(user):
        return _("Only global moderators and administrators can sanction staff and moderators.")
    return None


def may_sanction(actor: Any, user: User) -> bool:
    return refusal(actor, user) is None


def lift_refusal(actor: Any, sanction: Sanction) -> str | None:
    """Why ``actor`` may not lift ``sanction``, or None: those who may sanction the member,
    except that a space moderator does not undo what a site moderator or an admin decided."""
    if sanction.user is None:
        return _("This member no longer exists.")
    problem = refusal(actor, sanction.user)
    if problem:
        return problem
    creator = sanction.created_by
    if not actor.is_global_moderator and (creator is None or creator.is_global_moderator):
        return _("Only global moderators and administrators can lift this sanction.")
    return None


def may_lift(actor: Any, sanction: Sanction) -> bool:
    return lift_refusal(actor, sanction) is None


# --- reading ---------------------------------------------------------------------------------


def _is_live(sanction: Sanction, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return sanction.lifted_at is None and (sanction.ends_at is None or sanction.ends_at > now)


def _active_clause(now: datetime):
    return (
        Sanction.lifted_at.is_(None),
        or_(Sanction.ends_at.is_(None), Sanction.ends_at > now),
    )


def active_sanctions(user_id: int) -> dict[str, Sanction]:
    """The user's live silence and suspension (by kind), one query per request and user."""
    cache = g.setdefault("moderation_sanctions", {})
    if user_id not in cache:
        rows = db.session.scalars(
            select(Sanction)
            .where(
                Sanction.user_id == user_id,
                Sanction.kind.in_(("silence", "suspend")),
                *_active_clause(utcnow()),
            )
            .order_by(Sanction.created_at)
        )
        # The latest of each kind wins.
        cache[user_id] = {row.kind: row for row in rows}
    return cache[user_id]


def active_silence(user: Any) -> Sanction | None:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "id", None):
        return None
    silence = active_sanctions(user.id).get("silence")
    return silence if silence is not None and _is_live(silence) else None


def _forget(user_id: int) -> None:
    g.get("moderation_sanctions", {}).pop(user_id, None)


def when(moment: datetime) -> str:
    """A date and time as people read it in the current language."""
    return format_datetime(moment, "medium")


def silenced_sentence(silence: Sanction) -> str:
    if silence.ends_at is not None:
        if silence.reason:
            return _(
                "You are silenced until %(date)s: %(reason)s",
                date=when(silence.ends_at),
                reason=silence.reason,
            )
        return _("You are silenced until %(date)s.", date=when(silence.ends_at))
    if silence.reason:
        return _("You are silenced until a moderator lifts it: %(reason)s", reason=silence.reason)
    return _("You are silenced until a moderator lifts it.")


def banner_sentence(silence: Sanction) -> str:
    if silence.ends_at is not None:
        return _(
            "You can read but not post until %(date)s: %(reason)s",
            date=when(silence.ends_at),
            reason=silence.reason,
        )
    return _(
        "You can read but not post until a moderator lifts it: %(reason)s",
        reason=silence.reason,
    )


# --- hooks -----------------------------------------------------------------------------------


def post_gate(user, action, **_kw) -> str | None:
    silence = active_silence(user)
    return silenced_sentence(silence) if silence is not None else None


def vote_gate(user, post) -> str | None:
    silence = active_silence(user)
    return silenced_sentence(silence) if silence is not None else None


def permission(user, action, obj) -> bool | None:
    if action not in SILENCED_ACTIONS:
        return None
    return False if active_silence(user) is not None else None


def suspended_message(message, user) -> str | None:
    suspension = active_sanctions(user.id).get("suspend")
    if suspension is None or not _is_live(suspension):
        return None
    if suspension.ends_at is not None:
        if suspension.reason:
            extra = _(
                "Suspended until %(date)s: %(reason)s.",
                date=when(suspension.ends_at),
                reason=suspension.reason.rstrip("."),
            )
        else:
            extra = _("Suspended until %(date)s.", date=when(suspension.ends_at))
    elif suspension.reason:
        extra = _("Reason: %(reason)s.", reason=suspension.reason.rstrip("."))
    else:
        return None
    return f"{message} {extra}"


# --- the audit details handed to core's user.suspend entry ----------------------------------

_details: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "moderation_audit_details", default=None
)


@contextmanager
def _audit_details(**details: Any):
    token = _details.set(details)
    try:
        yield
    finally:
        _details.reset(token)


def audit_details() -> dict[str, Any] | None:
    """What the plugin adds to the audit entry core writes while it suspends someone."""
    return _details.get()


# --- changing ------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="minutes") if moment is not None else None


def impose(
    actor: Any,
    user: User,
    kind: str,
    reason: str,
    minutes: int | None = None,
    post: Any = None,
) -> Sanction:
    """Warn, silence or suspend ``user``. ``minutes`` None: until lifted (warnings ignore
    it). Raises :class:`community.errors.Refused` when ``actor`` may not, or the input is
    wrong (an unknown kind, no reason for a silence or suspension, a bad duration)."""
    if kind not in KINDS:
        raise Refused(_("Choose a warning, a silence or a suspension."))
    problem = refusal(actor, user)
    if problem:
        raise Refused(problem)
    reason = " ".join((reason or "").split())[:500]
    if kind != "warning" and not reason:
        raise Refused(_("Please give a reason: the member will read it."))
    if kind == "warning" and not reason:
        raise Refused(_("Please write the warning: the member will read it."))
    if minutes is not None and (not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES):
        raise Refused(_("Choose how long it lasts."))
    now = utcnow()
    ends_at = now + timedelta(minutes=minutes) if minutes and kind != "warning" else None
    previous = None
    was_active = bool(user.active)
    if kind != "warning":
        # One live sanction of a kind at a time: a new one replaces the old.
        previous = db.session.scalars(
            select(Sanction).where(
                Sanction.user_id == user.id, Sanction.kind == kind, *_active_clause(now)
            )
        ).all()
        for old in previous:
            old.lifted_at = now
            old.lifted_by_id = actor.id
    sanction = Sanction(
        user_id=user.id,
        kind=kind,
        reason=reason,
        created_at=now,
        created_by_id=actor.id,
        ends_at=ends_at,
        post_id=getattr(post, "id", None),
        # A suspension replacing the plugin's own keeps its promise; one added to an account
        # suspended by other means must not end that other suspension.
        reinstates=previous[-1].reinstates if previous else was_active,
    )
    db.session.add(sanction)
    db.session.commit()
    _forget(user.id)

    before_until = _iso(previous[-1].ends_at) if previous else None
    if kind == "warning":
        from community.notifications import notify

        notify(
            [user],
            "moderation_warning",
            actor=actor,
            key=f"moderation_warning:{sanction.id}",
            data={"reason": reason},
            url=f"/u/{user.username}",
        )
        audit(actor, "sanction.warning", user, reason=reason, before={}, after={"warned": True})
    elif kind == "silence":
        audit(
            actor,
            "sanction.silence",
            user,
            reason=reason,
            before={"silenced": bool(previous), "until": before_until},
            after={"silenced": True, "until": _iso(ends_at) or "lifted by hand"},
        )
    else:
        from community.accounts.services import suspend_user

        with _audit_details(until=_iso(ends_at) or "lifted by hand", sanction=sanction.id):
            changed = suspend_user(user, actor, reason)
        if not changed:
            # Already suspended: core announced nothing, so the plugin records the new end.
            audit(
                actor,
                "sanction.suspend",
                user,
                reason=reason,
                before={"until": before_until},
                after={"until": _iso(ends_at) or "lifted by hand"},
            )
    return sanction


def lift(actor: Any, sanction: Sanction) -> bool:
    """End a silence or suspension now. ``actor`` None: it ran out. Returns False when it
    was not live (already lifted or ended). Raises Refused when ``actor`` may not."""
    if actor is not None:
        problem = lift_refusal(actor, sanction)
        if problem:
            raise Refused(problem)
    if sanction.kind == "warning" or sanction.lifted_at is not None:
        return False
    now = utcnow()
    expired = sanction.ends_at is not None and sanction.ends_at <= now
    if expired and actor is not None:
        return False
    sanction.lifted_at = now
    sanction.lifted_by_id = actor.id if actor is not None else None
    user = sanction.user
    db.session.commit()
    _forget(sanction.user_id)
    if sanction.kind == "suspend":
        still = db.session.scalar(
            select(Sanction.id).where(
                Sanction.user_id == user.id, Sanction.kind == "suspend", *_active_clause(now)
            )
        )
        if still is None and sanction.reinstates:
            from community.accounts.services import reinstate_user

            reinstate_user(user, actor)
    else:
        audit(
            actor,
            "sanction.lift",
            user,
            reason=None,
            before={"silenced": True, "until": _iso(sanction.ends_at) or "lifted by hand"},
            after={"silenced": False},
        )
    return True


def lift_expired() -> int:
    """Lift every silence and suspension whose end has passed; returns how many."""
    now = utcnow()
    rows = db.session.scalars(
        select(Sanction).where(
            Sanction.lifted_at.is_(None),
            Sanction.kind.in_(("silence", "suspend")),
            Sanction.ends_at.is_not(None),
            Sanction.ends_at <= now,
        )
    ).all()
    lifted = 0
    for sanction in rows:
        if lift(None, sanction):
            lifted += 1
    return lifted


@periodic_task(crontab(minute="*"))
def lift_expired_sanctions() -> None:
    """Every minute: lift what ran out (only while the plugin is enabled)."""
    from community.plugins import is_enabled

    if is_enabled("moderation"):
        lift_expired()


def history(user: User) -> list[Sanction]:
    return list(
        db.session.scalars(
            select(Sanction)
            .where(Sanction.user_id == user.id)
            .order_by(Sanction.created_at.desc(), Sanction.id.desc())
        )
    )


def is_live(sanction: Sanction) -> bool:
    return sanction.kind != "warning" and _is_live(sanction)


def parse_duration(value: str) -> tuple[bool, int | None]:
    """(valid, minutes) for a duration the form sent."""
    if value in DURATIONS:
        return True, DURATIONS[value]
    return False, None
