from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import User
from community.dbtypes import UTCDateTime, utcnow
from community.extensions import Base
from community.spaces.models import Space

# The status every new idea starts in; the workflow around it belongs to a plugin.
DEFAULT_IDEA_STATUS = "new"


class TopicTag(Base):
    __tablename__ = "topic_tags"

    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class Topic(Base):
    __tablename__ = "topics"
    __table_args__ = (
        CheckConstraint("kind IN ('question', 'idea', 'discussion')", name="kind_known"),
        # Listing indexes: a space's topics by activity, pinned first; ideas by votes; every
        # topic by activity (the home page); a member's topics (the profile). Each ends with
        # the columns every listing filters on, so that the rows of the pages before a deep
        # page are skipped in the index (see web.helpers.paginate).
        Index(
            "ix_topics_space_activity",
            "space_id", "is_pinned", "last_activity_at", "id", "deleted_at", "held_at",
        ),
        Index("ix_topics_space_kind_score", "space_id", "kind", "score", "id", "deleted_at",
              "held_at"),
        Index("ix_topics_activity", "last_activity_at", "id", "space_id", "deleted_at", "held_at"),
        Index(
            "ix_topics_author_created",
            "author_id", "created_at", "id", "space_id", "deleted_at", "held_at", "kind",
        ),
        # The home page's count of unanswered questions, read from the index alone (on a
        # million posts: 120 ms reading topics, under 1 ms from this index).
        Index("ix_topics_unanswered", "kind", "reply_count", "space_id", "deleted_at", "held_at"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="RESTRICT"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_pinned: Mapped[bool] = mapped_column(default=False, server_default="0")
    is_locked: Mapped[bool] = mapped_column(default=False, server_default="0")
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a moderator merged this topic into another: its posts moved there, it is
    # hidden like a deleted topic (``deleted_at`` is set too) and its address leads there.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("topics.id", ondelete="SET NULL"), index=True
    )
    # Set while the opening post waits for a moderator's review (a plugin's gate held it):
    # only its author and the space's moderators see the topic, and it counts nowhere.
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Ideas only; other kinds keep None.
    status: Mapped[str | None] = mapped_column(String(32))
    accepted_answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL", use_alter=True)
    )
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_answer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Denormalized, changed in SQL: replies (answers) not deleted, and the opening post's score.
    reply_count: Mapped[int] = mapped_column(default=0, server_default="0")
    score: Mapped[int] = mapped_column(default=0, server_default="0")

    space: Mapped[Space] = relationship(lazy="joined", innerjoin=True)
    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    tags: Mapped[list[Tag]] = relationship(secondary="topic_tags", order_by="Tag.name")

    @property
    def is_question(self) -> bool:
        return self.kind == "question"

    @property
    def is_idea(self) -> bool:
        return self.kind == "idea"

    @property
    def is_solved(self) -> bool:
        return self.accepted_answer_id is not None

    def __repr__(self) -> str:
        return f"<Topic {self.id} {self.kind}>"


class Post(Base):
    """The opening post of a topic, an answer/reply, or a comment on one of those."""

    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_topic_order", "topic_id", "parent_id", "score", "created_at"),
        # The comments under a page of answers (and the cascade when a post is deleted).
        Index("ix_posts_parent", "parent_id", "created_at"),
        # A member's answers and their count on the profile, from the index alone.
        Index(
            "ix_posts_author_answers",
            "author_id", "is_opening", "parent_id", "deleted_at", "held_at", "topic_id",
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # Set for comments: the post commented on.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    is_opening: Mapped[bool] = mapped_column(default=False, server_default="0")
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set while the post waits for a moderator's review, with the reason a plugin's gate
    # gave: only its author and the space's moderators see it, and it counts nowhere.
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_reason: Mapped[str | None] = mapped_column(String(300))
    # Set, together with ``held_at``, when a *published* post was hidden (by a moderator or
    # a plugin's rule, e.g. after flags): it is held like a post waiting for review, and
    # publishing it again brings it back rather than announcing it as new.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Denormalized, changed in SQL by the vote service.
    score: Mapped[int] = mapped_column(default=0, server_default="0")
    upvotes: Mapped[int] = mapped_column(default=0, server_default="0")
    downvotes: Mapped[int] = mapped_column(default=0, server_default="0")

    topic: Mapped[Topic] = relationship(foreign_keys=[topic_id])
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined", innerjoin=True)

    @property
    def is_comment(self) -> bool:
        return self.parent_id is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    def __repr__(self) -> str:
        return f"<Post {self.id} topic={self.topic_id}>"


class PostRevision(Base):
    """The text of a post before an edit: the edit history."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # Title of the topic at that time, for opening posts.
    title: Mapped[str | None] = mapped_column(String(200))
    body_source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    editor: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class Vote(Base):
    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("post_id", "user_id"),
        CheckConstraint("value IN (-1, 1)", name="value_is_up_or_down"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    value: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
