from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from community.dbtypes import UTCDateTime, utcnow
from community.extensions import Base


class MailState:
    PENDING = "pending"  # waiting for the worker (for its next attempt after a failure)
    SENDING = "sending"  # a worker claimed it and is handing it over
    SENT = "sent"
    FAILED = "failed"  # refused for good, or MAIL_MAX_ATTEMPTS attempts failed

    ALL = (PENDING, SENDING, SENT, FAILED)


class MailQueue(Base):
    """One outgoing message, from the transaction that wanted it sent until it was sent.

    The message is built once, when it is queued, with its Message-ID and Date: every attempt
    sends the same bytes. A worker claims the row (``pending`` -> ``sending``) in a statement
    of its own before it talks to the mail server, so that only one worker sends it.
    """

    __tablename__ = "mail_queue"
    # The sweep looks for pending rows whose next attempt is overdue.
    __table_args__ = (Index("ix_mail_queue_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    # The complete RFC 5322 message, as it goes to the server.
    message: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(10), default=MailState.PENDING)
    # Attempts made (counted when a worker claims the row).
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
