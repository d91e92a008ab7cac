"""Changing an idea's status, with the official response shown on the idea: the workflow's
rules first, then core's ``set_idea_status`` (which checks the permission, stores the status
and announces it), then the idea's timeline."""

from __future__ import annotations

from typing import Any

from flask import g
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
PENDING = "ideation_pending_releases"  # topic id -> release id (or None), on flask.g


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
                current=current.label if current else topic.status or "—",
                new=target.label,
            ),
            "status",
        )
    response = (response or "").strip()
    if len(response) > RESPONSE_MAX:
        raise Refused(_("At most %(max)d characters.", max=RESPONSE_MAX), "response")
    if not response and response_required(status):
        raise Refused(
            _("Moving an idea to %(status)s needs an official response.", status=target.label),
            "response",
        )
    if release is not None and status != "shipped":
        raise Refused(_("Only an idea that ships is linked to a release."), "release")
    # Core checks the permission, stores the status and fires community_idea_status_changed
    # with the response as its note (quoted in the followers' emails); record() below writes
    # the timeline row, with the release.
    pending = g.setdefault(PENDING, {})
    pending[topic.id] = release.id if release is not None else None
    try:
        set_idea_status(actor, topic, status, note=response)
    finally:
        pending.pop(topic.id, None)
    change = db.session.scalar(
        select(Change)
        .where(Change.topic_id == topic.id, Change.to_status == status)
        .order_by(Change.id.desc())
        .limit(1)
    )
    assert change is not None  # record() wrote it
    return change


def record(topic: Any, actor: Any, previous_status: str | None, note: str = "") -> Change:
    """The ``community_idea_status_changed`` hook: the timeline row of every change of status,
    with its note as the official response (whoever changed it: this plugin's form, another
    plugin or a script through core), and the release :func:`change_status` shipped it in."""
    response = (note or "").strip()[:RESPONSE_MAX]
    release_id = g.get(PENDING, {}).get(topic.id)
    change = Change(
        topic_id=topic.id,
        actor_id=actor.id if actor is not None else None,
        from_status=previous_status,
        to_status=topic.status,
        response_source=response,
        response_html=render_markdown(response) if response else "",
        release_id=release_id,
    )
    db.session.add(change)
    shipped = db.session.get(ShippedIn, topic.id)
    if shipped is not None and topic.status != "shipped":
        db.session.delete(shipped)  # back in the works: the release did not ship it after all
    elif release_id is not None and shipped is None:
        db.session.add(ShippedIn(topic_id=topic.id, release_id=release_id))
    db.session.commit()
    return change


def timeline(topic: Any) -> list[Change]:
    return list(
        db.session.scalars(
            select(Change).where(Change.topic_id == topic.id).order_by(Change.created_at, Change.id)
        )
    )


def latest_response(topic: Any) -> Change | None:
    """The official response of the idea's latest change of status, if it had one (an
    earlier status's response would describe a decision no longer in force)."""
    latest = db.session.scalar(
        select(Change)
        .where(Change.topic_id == topic.id)
        .order_by(Change.created_at.desc(), Change.id.desc())
        .limit(1)
    )
    if latest is None or not latest.response_source or latest.to_status != topic.status:
        return None
    return latest
