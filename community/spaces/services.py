"""Space rules: the tree, its order and its moderators."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from community.accounts.models import User
from community.errors import Refused
from community.extensions import db
from community.permissions import all_spaces, clear_cache
from community.spaces.models import Space, SpaceModerator

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def space_by_slug(slug: str) -> Space | None:
    return db.session.scalar(select(Space).where(Space.slug == slug))


def _check(space: Space, parent_id: int | None) -> None:
    if not SLUG_RE.match(space.slug or ""):
        raise Refused(_("Use lowercase letters, digits and dashes for the address."), "slug")
    if parent_id is not None:
        seen = {space.id} if space.id else set()
        current = db.session.get(Space, parent_id)
        if current is None:
            raise Refused(_("Unknown parent space."), "parent_id")
        while current is not None:
            if current.id in seen:
                raise Refused(_("A space cannot be inside itself."), "parent_id")
            seen.add(current.id)
            current = current.parent


def save_space(space: Space, **values) -> Space:
    for key, value in values.items():
        setattr(space, key, value)
    _check(space, space.parent_id)
    if space.id is None:
        space.position = (
            db.session.scalar(
                select(func.coalesce(func.max(Space.position), 0)).where(
                    Space.parent_id.is_(space.parent_id)
                    if space.parent_id is None
                    else Space.parent_id == space.parent_id
                )
            )
            + 1
        )
        db.session.add(space)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Refused(_("Another space already uses that address."), "slug") from None
    clear_cache()
    return space


def move_space(space: Space, direction: int) -> None:
    """Swap a space with its previous (-1) or next (+1) sibling."""
    siblings = list(
        db.session.scalars(
            select(Space)
            .where(
                Space.parent_id.is_(None)
                if space.parent_id is None
                else Space.parent_id == space.parent_id
            )
            .order_by(Space.position, Space.id)
        )
    )
    index = siblings.index(space)
    other = index + direction
    if not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings, start=1):
        sibling.position = position
    db.session.commit()


def add_moderator(space: Space, user: User) -> None:
    if db.session.get(SpaceModerator, (space.id, user.id)) is None:
        db.session.add(SpaceModerator(space_id=space.id, user_id=user.id))
        db.session.commit()
    clear_cache()


def remove_moderator(space: Space, user_id: int) -> None:
    row = db.session.get(SpaceModerator, (space.id, user_id))
    if row is not None:
        db.session.delete(row)
        db.session.commit()
    clear_cache()


def space_tree(space_ids: list[int]) -> list[tuple[Space, int]]:
    """Visible spaces in tree order with their depth. A child whose parent is hidden is not
    shown (it would be reachable only through its parent)."""
    rows = all_spaces()
    spaces = sorted(
        (rows[sid] for sid in space_ids if sid in rows), key=lambda s: (s.position, s.id)
    )
    children: dict[int | None, list[Space]] = {}
    for space in spaces:
        children.setdefault(space.parent_id, []).append(space)
    ordered: list[tuple[Space, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for child in children.get(parent_id, []):
            ordered.append((child, depth))
            walk(child.id, depth + 1)

    walk(None, 0)
    return ordered


def moderators_of(space: Space) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(SpaceModerator, SpaceModerator.user_id == User.id)
            .where(SpaceModerator.space_id == space.id)
            .order_by(User.username_key)
        )
    )
