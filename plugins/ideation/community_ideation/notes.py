"""Staff notes on ideas: for staff, the space's moderators and its product team, never shown
to members (effort estimates, links to the backlog, why an idea waits)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from community.accounts.models import User
from community.errors import Refused
from community.extensions import db
from community_ideation.models import StaffNote
from community_ideation.roadmap import may_read_staff_notes

NOTE_MAX = 2000


def may_read(user: Any, topic: Any) -> bool:
    return bool(topic.is_idea) and may_read_staff_notes(user, topic.space)


def notes(topic: Any) -> list[tuple[StaffNote, Any]]:
    """The idea's notes with their authors (or None), oldest first. Check :func:`may_read`."""
    return list(
        db.session.execute(
            select(StaffNote, User)
            .outerjoin(User, User.id == StaffNote.author_id)
            .where(StaffNote.topic_id == topic.id)
            .order_by(StaffNote.created_at, StaffNote.id)
        )
    )


def add_note(actor: Any, topic: Any, body: str) -> StaffNote:
    if not may_read(actor, topic):
        raise Refused(_("Only staff and the product team can write staff notes."))
    body = (body or "").strip()
    if not body:
        raise Refused(_("Write the note."), "body")
    if len(body) > NOTE_MAX:
        raise Refused(_("At most %(max)d characters.", max=NOTE_MAX), "body")
    note = StaffNote(topic_id=topic.id, author_id=actor.id, body=body)
    db.session.add(note)
    db.session.commit()
    return note


def delete_note(actor: Any, note: StaffNote) -> None:
    """Its author, or an administrator, may delete a note."""
    from community.topics.models import Topic

    topic = db.session.get(Topic, note.topic_id)
    if topic is None or not may_read(actor, topic):
        raise Refused(_("Only staff and the product team can write staff notes."))
    if note.author_id != actor.id and not actor.is_admin:
        raise Refused(_("Only its author or an administrator can delete a note."))
    db.session.delete(note)
    db.session.commit()
