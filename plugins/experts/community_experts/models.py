"""The experts plugin's tables. Core's tables are only read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import User
from community.dbtypes import UTCDateTime, utcnow
from community.extensions import Base

SPACE = "space"
TAG = "tag"


class Standing(Base):
    """What a member earned in one space or tag over the window: accepted answers and the
    votes on their answers. Worked out again from core's data whenever something that counts
    changes (and when the oldest thing counted leaves the window), never added to by hand."""

    __tablename__ = "experts_standings"
    __table_args__ = (
        UniqueConstraint("user_id", "scope", "scope_id"),
        Index("ix_experts_standings_scope", "scope", "scope_id", "is_expert"),
        Index("ix_experts_standings_changes_at", "changes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # "space" (scope_id: a space's id) or "tag" (scope_id: a tag's id).
    scope: Mapped[str] = mapped_column(String(8))
    scope_id: Mapped[int]
    accepted: Mapped[int] = mapped_column(default=0, server_default="0")
    votes: Mapped[int] = mapped_column(default=0, server_default="0")
    score: Mapped[int] = mapped_column(default=0, server_default="0")
    is_expert: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Since when the member is an expert here without a break (None: not an expert).
    expert_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the oldest thing counted leaves the window: worked out again then.
    changes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class Grant(Base):
    """An expert badge an admin or a space's moderator gave a member in a space, whatever they
    earned; it stays until revoked."""

    __tablename__ = "experts_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "space_id"),
        Index("ix_experts_grants_space", "space_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])


class Availability(Base):
    """An expert who said they are away: no question is offered to them until ``until``
    (or until they come back, when it is None)."""

    __tablename__ = "experts_availability"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    away_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")


class SpaceRouting(Base):
    """A space's routing settings, set by its moderators (the plugin's settings are the
    defaults of spaces without a row)."""

    __tablename__ = "experts_space_routing"

    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(default=True, server_default="1")
    # A question with no answer this many minutes after it was asked is offered to experts.
    after_minutes: Mapped[int] = mapped_column(default=60, server_default="60")
    # "round_robin" (who was asked longest ago first) or "availability" (fewest open offers).
    mode: Mapped[str] = mapped_column(String(16), default="round_robin")
    # Experts asked each round.
    per_round: Mapped[int] = mapped_column(default=2, server_default="2")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


OPEN = "open"
ANSWERED = "answered"  # someone answered: the expert is not asked any more
PASSED = "passed"  # the expert said they can't help; someone else is asked
WITHDRAWN = "withdrawn"  # the expert went away, lost sight of it, or the question closed


class Offer(Base):
    """A question offered to an expert. Once per question and expert."""

    __tablename__ = "experts_offers"
    __table_args__ = (
        UniqueConstraint("topic_id", "user_id"),
        Index("ix_experts_offers_user_state", "user_id", "state", "offered_at"),
        Index("ix_experts_offers_state_offered", "state", "offered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    round: Mapped[int] = mapped_column(default=1, server_default="1")
    state: Mapped[str] = mapped_column(String(12), default=OPEN, server_default=OPEN)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whether this expert gave the first answer after the offer.
    answered_by_them: Mapped[bool] = mapped_column(default=False, server_default="0")

    user: Mapped[User] = relationship()
