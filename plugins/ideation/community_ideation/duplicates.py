"""Marking an idea as a duplicate of another: its votes and followers go to the original
(core's ``transfer_idea_votes``: a member who voted both keeps one vote), it takes the status
``duplicate`` with an official response linking the original, and stays readable."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from community.errors import Refused
from community.extensions import db
from community.permissions import all_spaces, ancestor_ids, can
from community.topics.services import transfer_idea_votes
from community_ideation import changes
from community_ideation.models import Duplicate

STATUS = "duplicate"
REFERENCE_RE = re.compile(r"^(?:.*?/t/(\d+)(?:[/?#].*)?|#?(\d+))$")


def mark_duplicate(actor: Any, source: Any, target: Any, response: str = "") -> int:
    """Returns how many votes moved. Everything that could refuse the change is checked before
    a vote moves: raises :class:`Refused` (with the field concerned), and nothing changes."""
    flow = changes.current_workflow()
    if flow.status(STATUS) is None:
        raise Refused(_("The workflow has no “duplicate” status."), "status")
    if source.status == STATUS or db.session.get(Duplicate, source.id) is not None:
        raise Refused(_("This idea is already a duplicate."), "target")
    if not flow.allowed(source.status, STATUS):
        raise Refused(_("This idea cannot be marked as a duplicate now."), "status")
    if target is None or not target.is_idea or not can("topic.view", target, actor):
        raise Refused(_("There is no such idea."), "target")
    if target.id == source.id:
        raise Refused(_("An idea cannot be a duplicate of itself."), "target")
    if target.status == STATUS or db.session.get(Duplicate, target.id) is not None:
        raise Refused(_("That idea is itself a duplicate: choose the one it duplicates."), "target")
    if target.held_at is not None or target.deleted_at is not None:
        raise Refused(_("That idea is not published."), "target")
    if not _seen_by_all_who_see(target, source):
        # The response links the original, and the voters follow it there.
        raise Refused(
            _("Choose an idea everyone who sees this one may see (not one in a narrower space)."),
            "target",
        )
    response = (response or "").strip()
    if len(response) > changes.RESPONSE_MAX:
        raise Refused(_("At most %(max)d characters.", max=changes.RESPONSE_MAX), "response")
    if not can("topic.set_status", source, actor):
        raise Refused(_("Only staff or moderators of this space can change the status."))
    if not can("topic.set_status", target, actor):
        raise Refused(_("You may not change the idea it duplicates."), "target")
    moved = transfer_idea_votes(actor, source, target)
    db.session.add(Duplicate(source_id=source.id, target_id=target.id, actor_id=actor.id))
    db.session.commit()
    link = f"[{target.title}](/t/{target.id}/{target.slug})"
    text = response or _("This idea is a duplicate of %(link)s.", link=link)
    changes.change_status(actor, source, STATUS, text)
    return moved


_LEVELS = {"public": 0, "members": 1, "staff": 2}


def _audience(space_id: int) -> int:
    """How narrow a space's audience is: everyone (0), members (1), staff and its moderators
    (2), through the spaces it is inside."""
    spaces = all_spaces()
    return max(
        (_LEVELS.get(spaces[sid].visibility, 2) for sid in ancestor_ids(space_id, spaces)),
        default=0,
    )


def _seen_by_all_who_see(target: Any, source: Any) -> bool:
    if target.space_id == source.space_id:
        return True
    wanted = _audience(target.space_id)
    # A staff-only space is also seen by its own moderators: only the same space will do.
    return wanted < 2 and wanted <= _audience(source.space_id)


def find_idea(reference: str) -> Any:
    """The idea a moderator means by ``reference``: its address (``https://…/t/42/slug``,
    ``/t/42``), ``#42`` or ``42``; None if there is no such topic."""
    from community.topics.models import Topic

    reference = (reference or "").strip()
    match = REFERENCE_RE.search(reference)
    if match is None:
        return None
    number = int(match.group(1) or match.group(2))
    topic = db.session.get(Topic, number) if number < 2**31 else None
    return topic if topic is not None and topic.is_idea and topic.merged_into_id is None else None


def original_of(topic: Any) -> Any:
    from community.topics.models import Topic

    row = db.session.get(Duplicate, topic.id)
    return db.session.get(Topic, row.target_id) if row is not None else None


def duplicates_of(topic: Any) -> list[int]:
    return list(
        db.session.scalars(select(Duplicate.source_id).where(Duplicate.target_id == topic.id))
    )


def visible_original(topic: Any, viewer: Any) -> Any:
    """The idea ``topic`` duplicates, if ``viewer`` may see it."""
    original = original_of(topic)
    return original if original is not None and can("topic.view", original, viewer) else None


def visible_duplicates(topic: Any, viewer: Any) -> list[Any]:
    """The ideas marked as duplicates of ``topic`` that ``viewer`` may see."""
    from community.topics.models import Topic

    ids = duplicates_of(topic)
    if not ids:
        return []
    found = db.session.scalars(select(Topic).where(Topic.id.in_(ids)).order_by(Topic.id))
    return [t for t in found if can("topic.view", t, viewer)]
