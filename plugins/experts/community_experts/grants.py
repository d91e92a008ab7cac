"""Granted expertise: an admin, a global moderator or a space's moderator gives a member the
expert badge in a space (a product engineer, say), with a reason; it stays, whatever the
member earns or loses, until someone allowed to revoke it does.

- :func:`grant` ``(actor, user, space, reason) -> Grant``
- :func:`revoke` ``(actor, user, space, reason) -> bool``

Who may: whoever ``can("space.moderate", space, user=actor)`` (core's one permission check:
admins, global moderators and the moderators of that space or of a space it is inside). A
moderator of Routers may not grant in Billing. Both raise :class:`Forbidden` (the pages answer
403) when the actor may not, and ``community.errors.Refused`` with the field concerned for
what the actor should correct (the pages answer 400 and keep what was typed). Both announce
the change to ``community_audited`` after the commit; a grant notifies the member.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from community.accounts.models import User
from community.errors import Refused
from community.extensions import db
from community.notifications.service import notify
from community.permissions import can
from community.plugins import audit
from community_experts.models import Grant
from community_experts.notifications import GRANTED

REASON_MAX = 300


class Forbidden(Refused):
    """The actor may not grant or revoke the expert badge in this space (403)."""


class AlreadyGranted(Refused):
    """The member already holds a granted expert badge in this space."""


def may_grant(actor: User, space) -> bool:
    """Whether ``actor`` may grant and revoke the expert badge in ``space``."""
    return bool(actor is not None and can("space.moderate", space, user=actor))


def _check_actor(actor: User, space) -> None:
    if not may_grant(actor, space):
        raise Forbidden(
            _("Only administrators and the moderators of %(name)s can do this.", name=space.title)
        )


def clean_reason(reason: str | None, *, required: bool = True) -> str:
    """The reason, stripped; :class:`Refused` (field ``reason``) when empty or too long."""
    text = (reason or "").strip()
    if required and not text:
        raise Refused(_("Give a reason."), field="reason")
    if len(text) > REASON_MAX:
        raise Refused(_("At most %(max)d characters.", max=REASON_MAX), field="reason")
    return text


def find_grant(user_id: int, space_id: int) -> Grant | None:
    return db.session.scalar(
        select(Grant).where(Grant.user_id == user_id, Grant.space_id == space_id)
    )


def grant(actor: User, user: User, space, reason: str) -> Grant:
    """Give ``user`` the expert badge in ``space``. Commits, audits (``experts.grant``) and
    notifies the member (kind ``experts_granted``)."""
    _check_actor(actor, space)
    if user is None:
        raise Refused(_("There is no member with this username."), field="username")
    if not user.active:
        raise Refused(_("%(name)s's account is suspended.", name=user.username), field="username")
    if not can("space.view", space, user=user):
        raise Refused(
            _("%(name)s may not see %(space)s.", name=user.username, space=space.title),
            field="username",
        )
    text = clean_reason(reason)
    already = _(
        "%(name)s is already an expert by grant in %(space)s.",
        name=user.username,
        space=space.title,
    )
    if find_grant(user.id, space.id) is not None:
        raise AlreadyGranted(already, field="username")
    row = Grant(user_id=user.id, space_id=space.id, granted_by_id=actor.id, reason=text)
    try:
        # Two moderators at once: the unique constraint refuses the second row, and only
        # this savepoint is undone.
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise AlreadyGranted(already, field="username") from None
    db.session.commit()
    audit(
        actor,
        "experts.grant",
        user,
        reason=text,
        before={"space": space.title, "space_id": space.id, "granted": False},
        after={"space": space.title, "space_id": space.id, "granted": True},
    )
    notify(
        [user],
        GRANTED,
        actor=actor,
        key=f"granted:{row.id}",
        data={"name": space.title},
        url=f"/experts/s/{space.slug}",
    )
    return row


def revoke(actor: User, user: User, space, reason: str) -> bool:
    """Take back the expert badge granted to ``user`` in ``space`` (what they earned stays
    theirs). False when there was no grant. Commits and audits (``experts.revoke``)."""
    _check_actor(actor, space)
    text = clean_reason(reason)
    row = find_grant(user.id, space.id)
    if row is None:
        return False
    before = {
        "space": space.title,
        "space_id": space.id,
        "granted": True,
        "granted_at": row.created_at.isoformat() if row.created_at else None,
        "granted_reason": row.reason,
    }
    # By the row's key: a grant revoked twice at once is deleted once.
    deleted = db.session.execute(delete(Grant).where(Grant.id == row.id)).rowcount
    db.session.commit()
    if not deleted:
        return False
    audit(
        actor,
        "experts.revoke",
        user,
        reason=text,
        before=before,
        after={"space": space.title, "space_id": space.id, "granted": False},
    )
    return True
