"""Tables of notifications: what people follow, how they want to hear, what they were told."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import User
from community.dbtypes import UTCDateTime, utcnow
from community.extensions import Base
from community.topics.models import Post, Topic

# What a user can follow.
FOLLOW_TARGETS = ("topic", "space", "tag")
# How a user wants to hear about one kind of notification: not at all, in the inbox only, in
# the inbox and by email at once, or in the inbox and in a daily or weekly email digest.
DELIVERIES = ("off", "app", "email", "daily", "weekly")


class Follow(Base):
    """A user follows a topic, a space or a tag. ``active`` False records an unfollow, so
    that automatic follows (asking, answering, voting an idea) do not come back."""

    __tablename__ = "follows"
    __table_args__ = (
        CheckConstraint("target_type IN ('topic', 'space', 'tag')", name="target_known"),
        Index("ix_follows_target", "target_type", "target_id", "active"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    target_type: Mapped[str] = mapped_column(String(8), primary_key=True)
    target_id: Mapped[int] = mapped_column(primary_key=True)
    active: Mapped[bool] = mapped_column(default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationSetting(Base):
    """A user's choice for one kind of notification (kinds without a row use the kind's
    default)."""

    __tablename__ = "notification_settings"
    __table_args__ = (
        CheckConstraint(
            "delivery IN ('off', 'app', 'email', 'daily', 'weekly')", name="delivery_known"
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(8))


class Notification(Base):
    """One thing one user is told about. ``key`` makes it unique per user and kind (the same
    answer is never announced twice, however often the work is retried); ``group_key`` is what
    the inbox gathers unread notifications by ("3 new answers in …")."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "key"),
        CheckConstraint("delivery IN ('app', 'email', 'daily', 'weekly')", name="delivery_known"),
        Index("ix_notifications_inbox", "user_id", "read_at", "created_at"),
        Index("ix_notifications_email", "delivery", "emailed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(96))
    group_key: Mapped[str] = mapped_column(String(96))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    topic_id: Mapped[int | None] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    # A plugin's own values for its wording (plain JSON), and its target when the
    # notification is about neither a topic nor a post (a path on this site).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    url: Mapped[str | None] = mapped_column(String(500))
    # The user's choice for this kind when it was made.
    delivery: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its email (alone or in a digest) was queued, or it was dropped from one.
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    topic: Mapped[Topic | None] = relationship()
    post: Mapped[Post | None] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"


class NotificationEvent(Base):
    """Something that happened and may notify people, waiting for the worker: written after
    the change committed, deleted in the transaction that writes its notifications."""

    __tablename__ = "notification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500))
