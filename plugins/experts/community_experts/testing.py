"""Helpers for tests of the experts plugin (and of plugins built on it): make an expert, and
let time pass for a question."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from community.extensions import db
from community.topics.models import Topic
from community_experts.models import Grant


def grant(user: Any, space: Any, reason: str = "x") -> None:
    """Make ``user`` an expert of ``space`` as a grant does (without the audit and the
    notification of :func:`community_experts.grants.grant`)."""
    db.session.add(Grant(user_id=user.id, space_id=space.id, reason=reason))
    db.session.commit()


def wait(topic: Any, minutes: int) -> None:
    """Make the question ``minutes`` older, as if it had waited that long."""
    created = db.session.scalar(select(Topic.created_at).where(Topic.id == topic.id))
    db.session.execute(
        update(Topic)
        .where(Topic.id == topic.id)
        .values(created_at=created - timedelta(minutes=minutes))
    )
    db.session.commit()
    db.session.expire_all()
