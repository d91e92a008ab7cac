"""Changing an idea's status, with the official response shown on the idea: the workflow's
rules first, then core's ``set_idea_status`` (which checks the permission, stores the status
and announces it), then the idea's timeline."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from community.errors import Refused
from community.extensions import db
from community.markdown import render_markdown
from community.topics.services import set_idea_status
from community_ideation.models import Change, Release, ShippedIn
from community_ideation.settings import settings
from community_ideation.workflow import Workflow, parse

RESPONSE_MAX = 5000


def current_workflow() -> Workflow:
    """The site's workflow (its statuses alone when the transitions setting is broken)."""
    values = settings()
    try:
        return parse(values["statuses"], values["transitions"])
    except ValueError:
        return parse(values["statuses"], "")


def response_required(status: str) -> bool:
    wanted = {s.strip() for s in settings()["response_required"].split(",")}
    return status in wanted


def change_status(
    actor: Any,
    topic: Any,
    status: str,
    response: str = "",
    release: Release | None = None,
) -> Change:
    """Move ``topic`` to ``status`` with an official ``response`` (Markdown). Raises
    :class:`Refused` (with the field it concerns) when the workflow or core refuses it."""
    flow = current_workflow()
    target = flow.status(status)
    if target is None:
        raise Refused(_("There is no such status."), "status")
    if status == topic.status:
        raise Refused(_("The idea already has this status."), "status")
    if not flow.allowed(topic.status, status):
        current = flow.status(topic.status)
        raise Refused(
            _(
                "An idea cannot go from %(current)s to %(new)s.",
                current=current.name if current else topic.status or "—",
                new=target.name,
            ),
            "status",
        )
    response = (response or "").strip()
    if len(response) > RESPONSE_MAX:
        raise Refused(_("At most %(max)d characters.", max=RESPONSE_MAX), "response")
    if not response and response_required(status):
        raise Refused(
            _("Moving an idea to %(status)s needs an official response.", status=target.name),
            "response",
        )
    previous = topic.status
    set_idea_status(actor, topic, status)  # permission, storage, event, audit
    change = Change(
        topic_id=topic.id,
        actor_id=actor.id,
        from_status=previous,
        to_status=status,
        response_source=response,
        response_html=render_markdown(response) if response else "",
        release_id=release.id if release is not None else None,
    )
    db.session.add(change)
    if release is not None and status == "shipped":
        shipped = db.session.get(ShippedIn, topic.id)
        if shipped is None:
            db.session.add(ShippedIn(topic_id=topic.id, release_id=release.id))
        else:
            shipped.release_id = release.id
    db.session.commit()
    return change


def timeline(topic: Any) -> list[Change]:
    return list(
        db.session.scalars(
            select(Change).where(Change.topic_id == topic.id).order_by(Change.created_at, Change.id)
        )
    )


def latest_response(topic: Any) -> Change | None:
    return db.session.scalar(
        select(Change)
        .where(Change.topic_id == topic.id, Change.response_source != "")
        .order_by(Change.created_at.desc(), Change.id.desc())
        .limit(1)
    )
