"""The moderation plugin's tables. Core's tables are only read here; changes to posts and
accounts go through core's public services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import User
from community.dbtypes import UTCDateTime, utcnow
from community.extensions import Base
from community.spaces.models import Space
from community.topics.models import Post

FLAG_REASONS = ("spam", "abusive", "off_topic", "staff", "other")
SANCTION_KINDS = ("warning", "silence", "suspend")
CRISIS_MODES = ("slow", "read_only", "premoderate")


class Flag(Base):
    """A member flagged a post. One per member and post, ever: the database decides."""

    __tablename__ = "moderation_flags"
    __table_args__ = (
        UniqueConstraint("post_id", "user_id"),
        CheckConstraint(
            "reason IN ('spam', 'abusive', 'off_topic', 'staff', 'other')", name="reason_known"
        ),
        # The queue: open flags by post.
        Index("ix_moderation_flags_open", "resolved_at", "post_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    # What the member wrote ("other" needs it; optional for the rest).
    text: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # The flagger's weight when they flagged (1.0 unless a plugin rates trust).
    weight: Mapped[float] = mapped_column(default=1.0, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when a moderator decided (kept, hidden, deleted, approved...).
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    post: Mapped[Post] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Sanction(Base):
    """A warning, a silence (read-only) or a suspension of a member, with its reason and
    end; lifted automatically when ``ends_at`` passes (``None``: until lifted by hand)."""

    __tablename__ = "moderation_sanctions"
    __table_args__ = (
        CheckConstraint("kind IN ('warning', 'silence', 'suspend')", name="kind_known"),
        Index("ix_moderation_sanctions_active", "user_id", "lifted_at"),
        Index("ix_moderation_sanctions_ends", "lifted_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The post that led to it, if any.
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    # Suspensions: whether the account is made active again when this one ends. False when
    # the account was already suspended by other means (e.g. an admin, indefinitely) when
    # the plugin's suspension began: only the suspension that ran out may end.
    reinstates: Mapped[bool] = mapped_column(default=True, server_default="1")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class Crisis(Base):
    """Crisis mode in one space (with the spaces inside it) or site-wide (``space_id`` None,
    ``scope`` "site"): one row per scope while it is on."""

    __tablename__ = "moderation_crises"
    __table_args__ = (
        CheckConstraint("mode IN ('slow', 'read_only', 'premoderate')", name="mode_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "site" or the space's id as text: unique, so a scope has one crisis at a time.
    scope: Mapped[str] = mapped_column(String(16), unique=True)
    space_id: Mapped[int | None] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(16))
    # Slow mode: one post per this many minutes per member.
    slow_minutes: Mapped[int] = mapped_column(default=10, server_default="10")
    message: Mapped[str] = mapped_column(String(300), default="", server_default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    space: Mapped[Space | None] = relationship()


class AuditEntry(Base):
    """One moderator's or admin's action. Written once, never changed: no page or route
    edits or deletes these rows."""

    __tablename__ = "moderation_audit"
    __table_args__ = (
        Index("ix_moderation_audit_created", "created_at"),
        Index("ix_moderation_audit_space", "space_id", "created_at"),
        Index("ix_moderation_audit_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as written: the log still reads right if the account is renamed or removed.
    actor_name: Mapped[str] = mapped_column(String(64), default="", server_default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str] = mapped_column(String(16), default="", server_default="")
    target_id: Mapped[int | None] = mapped_column()
    target_label: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The space the target is in, so that space moderators see their spaces' entries.
    space_id: Mapped[int | None] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
