"""Usernames, safe redirects and signed single-use tokens."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from flask import current_app, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

USERNAME_MIN = 3
USERNAME_MAX = 32
_ALLOWED_PUNCTUATION = {"_", "-", "."}
# Scripts that mix with any other without looking alike: digits and our punctuation are
# "Common". Every letter must come from one script, so "pаypal" (Cyrillic а) is refused.
_HAN_COMPANIONS = {"CJK", "HIRAGANA", "KATAKANA"}


def normalize_username(name: str) -> str:
    """The key uniqueness is checked on: NFKC, case folded, NFKC again (Unicode's
    recommended identifier caseless match)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def _script_of(char: str) -> str:
    """Approximate Unicode script of a letter from its character name (enough to tell Latin,
    Cyrillic, Greek, Arabic, CJK... apart, which is what look-alike checks need)."""
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    if first in ("CJK", "HIRAGANA", "KATAKANA"):
        return "CJK"
    return first or "UNKNOWN"


def username_problem(name: str) -> str | None:
    """Why a username is refused, or None when it is acceptable. Messages are msgids."""
    if name != name.strip():
        return "Usernames cannot start or end with spaces."
    name_nfc = unicodedata.normalize("NFC", name)
    if not USERNAME_MIN <= len(name_nfc) <= USERNAME_MAX:
        return "Usernames are 3 to 32 characters long."
    scripts = set()
    for char in name_nfc:
        category = unicodedata.category(char)
        if category in ("Cf", "Cc", "Co", "Cs", "Cn", "Zl", "Zp") or char.isspace():
            # Format characters include zero-width joiners and bidi overrides.
            return "Usernames cannot contain invisible or control characters."
        if char in _ALLOWED_PUNCTUATION or category == "Nd":
            if category == "Nd" and not char.isascii():
                return "Usernames use the digits 0-9."
            continue
        if category.startswith("L") or category == "Mn":
            if category != "Mn":
                scripts.add(_script_of(char))
            continue
        return "Usernames may contain letters, digits, '_', '-' and '.' only."
    if not scripts:
        return "Usernames need at least one letter."
    if len(scripts) > 1:
        return "Usernames cannot mix letters from different alphabets."
    if name_nfc[0] in _ALLOWED_PUNCTUATION or name_nfc[-1] in _ALLOWED_PUNCTUATION:
        return "Usernames start and end with a letter or digit."
    return None


_SCHEME_OR_NETLOC = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def safe_next_url(target: str | None, fallback: str = "/") -> str:
    """Return ``target`` when it is a path on this site, else ``fallback``.

    Browsers strip tabs and newlines and treat backslashes as slashes, so ``/\\evil`` and
    ``/\\t/evil`` are ``//evil``: a different host. Only a single leading slash followed by
    something other than a slash or backslash is a local path.
    """
    if not target:
        return fallback
    cleaned = "".join(ch for ch in target if ch not in "\t\r\n").replace("\\", "/")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in cleaned):
        return fallback
    if not cleaned.startswith("/") or cleaned.startswith("//"):
        return fallback
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or _SCHEME_OR_NETLOC.match(cleaned):
        return fallback
    return cleaned


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"community.{purpose}")


def make_token(user, purpose: str) -> str:
    return _serializer(purpose).dumps({"u": user.id, "s": user.token_state(purpose)})


def read_token(token: str, purpose: str, max_age: int):
    """The user a token was made for, or None when it is forged, expired or already used."""
    from community.accounts.models import User
    from community.extensions import db

    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or user.token_state(purpose) != data.get("s"):
        return None
    return user


def client_ip() -> str:
    return request.remote_addr or "unknown"
