from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.dbtypes import UTCDateTime, utcnow
from community.extensions import Base


class Visibility(enum.StrEnum):
    PUBLIC = "public"  # anyone, visitors included
    MEMBERS = "members"  # signed-in members
    STAFF = "staff"  # staff, moderators of the space, global moderators and admins


class TopicKind(enum.StrEnum):
    QUESTION = "question"
    IDEA = "idea"
    DISCUSSION = "discussion"


class Space(Base):
    __tablename__ = "spaces"
    __table_args__ = (
        CheckConstraint("visibility IN ('public', 'members', 'staff')", name="visibility_known"),
        CheckConstraint(
            "default_kind IN ('question', 'idea', 'discussion')", name="default_kind_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="RESTRICT"), index=True
    )
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    visibility: Mapped[str] = mapped_column(
        String(16), default=Visibility.PUBLIC, server_default="public"
    )
    default_kind: Mapped[str] = mapped_column(
        String(16), default=TopicKind.QUESTION, server_default="question"
    )
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Denormalized, changed in SQL by the topic services; visible topics/posts only.
    topic_count: Mapped[int] = mapped_column(default=0, server_default="0")
    post_count: Mapped[int] = mapped_column(default=0, server_default="0")

    parent: Mapped[Space | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Space]] = relationship(
        back_populates="parent", order_by="Space.position, Space.id"
    )

    def __repr__(self) -> str:
        return f"<Space {self.slug!r}>"


class SpaceModerator(Base):
    __tablename__ = "space_moderators"

    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User", lazy="joined")
