"""Releases (made by admins) and the ideas they shipped, each credited to its author."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from community.errors import Refused
from community.extensions import db
from community.markdown import render_markdown
from community.permissions import visible_space_ids
from community.topics.models import Topic
from community.topics.services import slugify
from community_ideation.models import Release, ShippedIn

NAME_MAX = 120
NOTES_MAX = 20_000
RESERVED_SLUGS = frozenset({"new"})


def _free_slug(name: str) -> str:
    base = slugify(name, max_len=56) or "release"
    if base in RESERVED_SLUGS:
        base = f"{base}-release"
    taken = set(
        db.session.scalars(
            select(Release.slug).where(Release.slug.like(f"{base}%"))  # few releases share one
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def create_release(actor: Any, name: str, released_on: date, notes: str = "") -> Release:
    """A new release; admins only. ``notes`` is Markdown, stored with its sanitized HTML.
    Raises :class:`Refused` (with the field concerned) otherwise."""
    if not (getattr(actor, "is_authenticated", False) and actor.is_admin):
        raise Refused(_("Only administrators can add releases."))
    name = (name or "").strip()
    notes = (notes or "").strip()
    if not name:
        raise Refused(_("Give the release a name."), "name")
    if len(name) > NAME_MAX:
        raise Refused(_("At most %(max)d characters.", max=NAME_MAX), "name")
    if not isinstance(released_on, date):
        raise Refused(_("Give the date of the release."), "released_on")
    if len(notes) > NOTES_MAX:
        raise Refused(_("At most %(max)d characters.", max=NOTES_MAX), "notes")
    release = Release(
        slug=_free_slug(name),
        name=name,
        released_on=released_on,
        notes_source=notes,
        notes_html=render_markdown(notes) if notes else "",
        created_by_id=actor.id,
    )
    db.session.add(release)
    try:
        db.session.commit()
    except IntegrityError:  # the same name at the same moment
        db.session.rollback()
        raise Refused(_("A release with this name was just added; try again."), "name") from None
    return release


def ship_in(topic: Any, release: Release) -> ShippedIn:
    """Record that the idea shipped in ``release``: once per idea (again with the same release
    is harmless; with another one, :class:`Refused`)."""
    if not topic.is_idea:
        raise Refused(_("Only ideas ship in a release."))
    existing = db.session.get(ShippedIn, topic.id)
    if existing is not None:
        if existing.release_id == release.id:
            return existing
        raise Refused(_("This idea already shipped in another release."))
    row = ShippedIn(topic_id=topic.id, release_id=release.id)
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Refused(_("This idea already shipped in another release.")) from None
    return row


def by_slug(slug: str) -> Release | None:
    return db.session.scalar(select(Release).where(Release.slug == slug))


def releases_statement() -> Any:
    """Every release, newest first."""
    return select(Release).order_by(Release.released_on.desc(), Release.id.desc())


def shipped_ideas(release: Release, user: Any = None) -> list[Topic]:
    """The ideas ``release`` shipped that ``user`` may see, most voted first: one query after
    the viewer's visible spaces."""
    return list(db.session.scalars(shipped_statement(release, user)).unique())


def shipped_statement(release: Release, user: Any = None) -> Any:
    """The statement of :func:`shipped_ideas` (for a page of them)."""
    space_ids = visible_space_ids(user)
    return (
        select(Topic)
        .join(ShippedIn, ShippedIn.topic_id == Topic.id)
        .where(
            ShippedIn.release_id == release.id,
            Topic.kind == "idea",
            Topic.space_id.in_(space_ids),
            Topic.deleted_at.is_(None),
            Topic.held_at.is_(None),
            Topic.merged_into_id.is_(None),
        )
        .order_by(Topic.score.desc(), Topic.id)
    )
