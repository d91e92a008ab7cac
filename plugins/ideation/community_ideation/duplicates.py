"""Marking an idea as a duplicate of another: its votes and followers go to the original
(core's ``transfer_idea_votes``: a member who voted both keeps one vote), it takes the status
``duplicate`` with an official response linking the original, and stays readable."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from community.errors import Refused
from community.extensions import db
from community.topics.services import transfer_idea_votes
from community_ideation import changes
from community_ideation.models import Duplicate

STATUS = "duplicate"


def mark_duplicate(actor: Any, source: Any, target: Any, response: str = "") -> int:
    """Returns how many votes moved. Raises :class:`Refused` when the workflow or core refuses
    it (nothing changes then)."""
    flow = changes.current_workflow()
    if flow.status(STATUS) is None:
        raise Refused(_("The workflow has no “duplicate” status."), "status")
    if not flow.allowed(source.status, STATUS):
        raise Refused(_("This idea cannot be marked as a duplicate now."), "status")
    if db.session.get(Duplicate, source.id) is not None:
        raise Refused(_("This idea is already a duplicate."), "target")
    if db.session.get(Duplicate, target.id) is not None:
        raise Refused(_("That idea is itself a duplicate: choose the one it duplicates."), "target")
    moved = transfer_idea_votes(actor, source, target)
    link = f"[{target.title}](/t/{target.id}/{target.slug})"
    text = (response or "").strip() or _("This idea is a duplicate of %(link)s.", link=link)
    db.session.add(Duplicate(source_id=source.id, target_id=target.id, actor_id=actor.id))
    db.session.commit()
    changes.change_status(actor, source, STATUS, text)
    return moved


def original_of(topic: Any) -> Any:
    from community.topics.models import Topic

    row = db.session.get(Duplicate, topic.id)
    return db.session.get(Topic, row.target_id) if row is not None else None


def duplicates_of(topic: Any) -> list[int]:
    return list(
        db.session.scalars(select(Duplicate.source_id).where(Duplicate.target_id == topic.id))
    )
