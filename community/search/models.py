from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from community.dbtypes import UTCDateTime, utcnow
from community.extensions import Base


class SearchQueue(Base):
    """Topics whose search document must be written again.

    A row is added in the same transaction as the change (so a change can never commit without
    it), and deleted by the worker once the index holds the new document. A row that keeps
    failing stays, with its error, for ``community search status`` to show.
    """

    __tablename__ = "search_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the row must outlive a deleted topic, whose document then goes.
    topic_id: Mapped[int] = mapped_column(index=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500))


class TSVector(TypeDecorator[str]):
    """PostgreSQL's ``tsvector``; plain text elsewhere (the table is used on PostgreSQL only)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TSVECTOR())
        return dialect.type_descriptor(Text())


class SearchDocumentRow(Base):
    """The PostgreSQL backend's index: one row per published topic, its text as a weighted
    ``tsvector`` (title A, opening post B, replies C; English and Italian stems). Filters and
    sorting use the ``topics`` row itself, so they are never behind."""

    __tablename__ = "search_documents"
    # fastupdate off: new entries go straight into the GIN index rather than a pending list
    # that the planner distrusts (after a bulk update it would scan the table instead).
    __table_args__ = (
        Index(
            "ix_search_documents_document",
            "document",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
    )

    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[str] = mapped_column(TSVector)
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchDeflection(Base):
    """A member who was about to ask, saw a similar topic among the suggestions and went to
    read it instead (see ``community_search_deflected``)."""

    __tablename__ = "search_deflections"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    space_id: Mapped[int | None] = mapped_column(ForeignKey("spaces.id", ondelete="SET NULL"))
    # What the member had typed as a title.
    query: Mapped[str] = mapped_column(String(200))
    # The signed link's nonce: one click, one row, however often it is followed.
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
