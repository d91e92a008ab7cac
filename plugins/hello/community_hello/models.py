"""The hello plugin's table. Its name starts with the plugin's name, as every plugin table's
must, so that `community plugins revision hello` knows it belongs to this plugin."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import User
from community.dbtypes import UTCDateTime, utcnow
from community.extensions import Base
from community.topics.models import Topic


class Newcomer(Base):
    """A member's first topic."""

    __tablename__ = "hello_newcomers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    user: Mapped[User] = relationship()
    topic: Mapped[Topic] = relationship()
