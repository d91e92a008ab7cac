"""The gamification plugin's tables. Core's tables are only read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import User
from community.dbtypes import UTCDateTime, utcnow
from community.extensions import Base


class LedgerEntry(Base):
    """One change of a member's points. Never updated or deleted: a reversal is a new row
    with the opposite amount. The points a cause (``key``) gives a member are the sum of
    that member's rows with that key, so the ledger can always be checked against the
    points recomputed from core's data (``community gamification rebuild``)."""

    __tablename__ = "gamification_ledger"
    __table_args__ = (
        Index("ix_gamification_ledger_key_user", "key", "user_id"),
        Index("ix_gamification_ledger_user_created", "user_id", "created_at"),
        Index("ix_gamification_ledger_created", "created_at"),
        Index("ix_gamification_ledger_space_created", "space_id", "created_at"),
        # Moderators' actions on a topic or post (delete, move, merge) find its rows.
        Index("ix_gamification_ledger_object", "object_type", "object_id"),
        # A space's all-time board sums its rows by member from the index alone.
        Index("ix_gamification_ledger_space_user", "space_id", "user_id", "amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    amount: Mapped[int]
    # The rule, e.g. "answer_accepted", "answer_upvoted", "manual".
    reason: Mapped[str] = mapped_column(String(32))
    # The cause, unique per rule and object, e.g. "vote:812:author", "accept:77".
    key: Mapped[str] = mapped_column(String(64))
    # What it is about (a post or a topic), for the member's history.
    object_type: Mapped[str] = mapped_column(String(8), default="", server_default="")
    object_id: Mapped[int | None] = mapped_column()
    # The space of that object, for per-space leaderboards (None: site-wide, e.g. manual).
    space_id: Mapped[int | None] = mapped_column()
    # When what earned the points happened (the vote, the acceptance).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the row was written; leaderboards of a week or month count by this.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class Total(Base):
    """A member's points: the sum of their ledger rows, changed in SQL with each row."""

    __tablename__ = "gamification_totals"
    __table_args__ = (Index("ix_gamification_totals_points", "points"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    points: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BadgeDefinition(Base):
    """A badge an administrator made, granted by hand (built-in badges are in code)."""

    __tablename__ = "gamification_badge_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Award(Base):
    """A member holds a badge (built-in or manual). Once per member and badge."""

    __tablename__ = "gamification_awards"
    __table_args__ = (
        UniqueConstraint("user_id", "badge"),
        Index("ix_gamification_awards_badge", "badge", "awarded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The built-in rule's name (e.g. "first_answer") or "manual:<slug>".
    badge: Mapped[str] = mapped_column(String(48))
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Manual badges: who granted it and why.
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # What earned it, when there is one thing (the answer, the idea).
    object_id: Mapped[int | None] = mapped_column()

    user: Mapped[User] = relationship(foreign_keys=[user_id])
