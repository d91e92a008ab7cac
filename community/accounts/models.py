from __future__ import annotations

import enum
import hashlib
import re
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from community.dbtypes import UTCDateTime, utcnow
from community.extensions import Base


class Role(enum.StrEnum):
    """Site-wide roles, in increasing power. Staff is a separate flag (an employee can be a
    plain member, a moderator or an admin)."""

    MEMBER = "member"
    MODERATOR = "moderator"
    ADMIN = "admin"


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'moderator', 'admin')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # As the user typed it (NFC); shown everywhere.
    username: Mapped[str] = mapped_column(String(32))
    # NFKC + casefold of the username: what uniqueness and look-ups use.
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER, server_default="member")
    is_staff: Mapped[bool] = mapped_column(default=False, server_default="0")
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None: follow the browser's Accept-Language.
    locale: Mapped[str | None] = mapped_column(String(8))
    bio: Mapped[str] = mapped_column(Text, default="", server_default="")
    # False: the account is suspended and cannot log in.
    active: Mapped[bool] = mapped_column(default=True, server_default="1")

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_global_moderator(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"] if current_app else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def token_state(self, purpose: str) -> str:
        """A fingerprint of the state a token may act on: once the action is done the state
        changes and the token stops working (single use without a tokens table)."""
        if purpose == "confirm":
            state = f"{self.email}|{self.email_confirmed_at}"
        else:
            state = self.password_hash
        return hashlib.sha256(f"{purpose}|{self.id}|{state}".encode()).hexdigest()[:24]

    @property
    def initials(self) -> str:
        """Up to two letters for the avatar: the first letter of each word of the name
        ("giulia.rossi" gives GR, "alex_878" gives A)."""
        words = [w for w in re.split(r"[\W_\d]+", self.username) if w]
        letters = "".join(w[0] for w in words[:2])
        return (letters or self.username[:1]).upper()

    @property
    def avatar_color(self) -> int:
        """One of 12 colours for the initials avatar, stable per user."""
        return (
            int(hashlib.md5(self.username_key.encode(), usedforsecurity=False).hexdigest()[:4], 16)
            % 12
        )

    def __repr__(self) -> str:
        return f"<User {self.username!r}>"


class AnonymousUser:
    """The visitor. Same attribute names as User so permission code needs no special cases."""

    id = None
    is_authenticated = False
    is_active = False
    is_anonymous = True
    is_confirmed = False
    is_admin = False
    is_global_moderator = False
    is_staff = False
    locale = None
    username = ""

    def get_id(self) -> None:
        return None
