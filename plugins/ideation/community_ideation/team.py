"""Each space's product team: the members who may change the status of its ideas (with
staff and the space's moderators, whom core already allows)."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from community.errors import Refused
from community.extensions import db
from community.permissions import all_spaces, ancestor_ids, can
from community.plugins import audit
from community_ideation.models import ProductTeam

CACHE = "ideation_team_spaces"


def team_space_ids(user: Any) -> frozenset[int]:
    """The spaces whose ideas ``user`` may move, as a member of their product team or of the
    team of a space they are inside. One query per request and user."""
    if not getattr(user, "is_authenticated", False) or not user.active:
        return frozenset()
    if not user.is_confirmed:  # as core asks of staff and moderators before any write
        return frozenset()
    cache = g.setdefault(CACHE, {})
    if user.id not in cache:
        own = set(
            db.session.scalars(select(ProductTeam.space_id).where(ProductTeam.user_id == user.id))
        )
        spaces = all_spaces() if own else {}
        cache[user.id] = frozenset(
            sid for sid in spaces if ancestor_ids(sid, spaces) & own
        ) | frozenset(own)
    return cache[user.id]


def permission(user: Any, action: str, obj: Any) -> bool | None:
    """The ``community_permission`` hook: the product team may change the status of the
    ideas of its spaces (if it may see them); no opinion otherwise."""
    if action != "topic.set_status" or obj is None or not getattr(obj, "is_idea", False):
        return None
    if obj.space_id in team_space_ids(user) and can("topic.view", obj, user):
        return True
    return None


def members(space: Any) -> list[ProductTeam]:
    return list(
        db.session.scalars(
            select(ProductTeam).where(ProductTeam.space_id == space.id).order_by(ProductTeam.id)
        )
    )


def _check_actor(actor: Any, space: Any) -> None:
    if not (actor.is_admin or can("space.moderate", space, actor)):
        raise Refused(_("Only administrators and this space's moderators can do that."))


def add_member(actor: Any, space: Any, user: Any) -> ProductTeam:
    _check_actor(actor, space)
    if user is None or not user.active:
        raise Refused(_("There is no active member with this username."), "username")
    if not can("space.view", space, user):
        raise Refused(
            _("%(name)s may not see %(space)s.", name=user.username, space=space.title),
            "username",
        )
    row = ProductTeam(space_id=space.id, user_id=user.id, added_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise Refused(
            _("%(name)s is already on the product team.", name=user.username), "username"
        ) from None
    db.session.commit()
    g.pop(CACHE, None)
    audit(actor, "ideation.team_add", user, after={"space": space.title, "team": True})
    return row


def remove_member(actor: Any, space: Any, user: Any) -> bool:
    _check_actor(actor, space)
    row = db.session.scalar(
        select(ProductTeam).where(ProductTeam.space_id == space.id, ProductTeam.user_id == user.id)
    )
    if row is None:
        return False
    db.session.delete(row)
    db.session.commit()
    g.pop(CACHE, None)
    audit(actor, "ideation.team_remove", user, before={"space": space.title, "team": True})
    return True


def members_with_users(space: Any) -> list[Any]:
    """The space's own product team (active members), by username, in one query."""
    from community.accounts.models import User

    return list(
        db.session.scalars(
            select(User)
            .join(ProductTeam, ProductTeam.user_id == User.id)
            .where(ProductTeam.space_id == space.id, User.active.is_(True))
            .order_by(User.username)
        )
    )


def may_manage(user: Any, space: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and (user.is_admin or can("space.moderate", space, user))
    )
