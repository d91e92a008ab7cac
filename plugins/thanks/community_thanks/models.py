"""The thanks plugin's table. The plugin's migrations manage the tables its models define;
like every table of the plugin, its name starts with "thanks_"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import User
from community.dbtypes import UTCDateTime, utcnow
from community.extensions import Base
from community.topics.models import Post


class ThanksNote(Base):
    """A member thanked the author of an answer."""

    __tablename__ = "thanks_notes"
    # Once per member and answer: the database decides, even when two clicks arrive at once.
    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # True when the plugin recorded it because the asker accepted the answer.
    on_accept: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    post: Mapped[Post] = relationship()
    user: Mapped[User] = relationship()
