"""Default configuration.

Values are read in this order, later ones winning: these defaults, ``instance/config.py``
(or ``instance/config.toml``), environment variables prefixed with ``COMMUNITY_``, and
finally the ``config`` mapping given to :func:`community.create_app`.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import tomllib
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    # Signs sessions and emailed links. Unset: a random key is created once in
    # instance/secret_key and shared by every worker of this instance.
    "SECRET_KEY": None,
    # None means SQLite at instance/community.db (filled in by create_app).
    "DATABASE_URL": None,
    # Where themes live; each theme is a folder with templates/ and static/.
    "THEMES_PATH": str(PROJECT_ROOT / "themes"),
    # Mail, sent by the background worker (community worker): "smtp" sends it, "console" logs
    # it, "file" writes .eml files to MAIL_FILE_PATH (default instance/mail/), "memory" keeps
    # it in app.extensions (tests); or "package.module:ClassName", a MailBackend subclass.
    "MAIL_BACKEND": "console",
    "MAIL_FILE_PATH": None,
    "MAIL_FROM": "Community <noreply@localhost>",
    "MAIL_SMTP_HOST": "localhost",
    "MAIL_SMTP_PORT": 25,
    # STARTTLS after connecting (usually port 587)...
    "MAIL_SMTP_TLS": False,
    # ...or TLS from the start (SMTPS, usually port 465); not both.
    "MAIL_SMTP_SSL": False,
    "MAIL_SMTP_USERNAME": None,
    "MAIL_SMTP_PASSWORD": None,
    # Seconds to wait for the SMTP server before the attempt counts as failed.
    "MAIL_SMTP_TIMEOUT": 30,
    # A message whose attempts all failed temporarily is given up after this many
    # (`community mail retry` starts it over); a permanent refusal (5xx) fails at once.
    "MAIL_MAX_ATTEMPTS": 10,
    # Seconds before the second attempt, doubling after each failure, at most the maximum.
    "MAIL_RETRY_DELAY": 30,
    "MAIL_RETRY_MAX_DELAY": 3600,
    # Sent messages stay in the queue table this many days (for `community mail status`).
    "MAIL_KEEP_SENT_DAYS": 7,
    # Werkzeug hash method for new passwords; "scrypt" uses its strong defaults (n=2**15).
    "PASSWORD_HASH_METHOD": "scrypt",
    # Lifetimes of emailed links, in seconds.
    "CONFIRM_TOKEN_MAX_AGE": 3 * 24 * 3600,
    "RESET_TOKEN_MAX_AGE": 2 * 3600,
    # Largest Markdown source accepted for a post, in characters (checked before rendering).
    "MAX_POST_LENGTH": 50_000,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # Page sizes of listings.
    "TOPICS_PER_PAGE": 20,
    "POSTS_PER_PAGE": 50,
    "USERS_PER_PAGE": 50,
    # Rate limits on writes (Flask-Limiter syntax). Storage is in-process memory unless
    # RATELIMIT_STORAGE_URI names e.g. redis://127.0.0.1:6379 so that workers share counts.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_WRITE": "20/minute;300/hour",
    "RATELIMIT_VOTE": "60/minute;600/hour",
    "RATELIMIT_AUTH": "10/minute;50/hour",
    # Languages offered; the first is the fallback.
    "LANGUAGES": ["en", "it"],
    "BABEL_DEFAULT_LOCALE": "en",
    # Plugins named here are registered in addition to those found through entry points
    # (dotted module paths). Used by tests and by deployments that vendor a plugin.
    "PLUGINS": [],
    # Background tasks (community worker): sqlite:///tasks.db (a file in the instance folder),
    # redis://127.0.0.1:6379/0 for workers on several hosts, or memory:// (tests).
    "TASKS_URL": "sqlite:///tasks.db",
    # The site's address as visitors see it, e.g. https://community.example.com: links in
    # emails the worker sends are made with it (web requests know their own address). Unset:
    # http://SERVER_NAME when that is set, else http://localhost:5000.
    "SITE_URL": None,
    # Notification digests: daily ones at this hour (UTC), weekly ones on this weekday
    # (0 = Monday) at the same hour.
    "NOTIFICATION_DIGEST_HOUR": 7,
    "NOTIFICATION_DIGEST_WEEKDAY": 0,
    "NOTIFICATIONS_PER_PAGE": 30,
    # Search: "whoosh" (an index in SEARCH_WHOOSH_PATH, default instance/search/whoosh) or
    # "postgresql" (full-text search in the site's PostgreSQL database; for several app
    # servers). Run `community search reindex` after switching.
    "SEARCH_BACKEND": "whoosh",
    "SEARCH_WHOOSH_PATH": None,
    "SEARCH_RESULTS_PER_PAGE": 20,
    # Seconds a Whoosh search may take; then the best hits found so far are shown, with a
    # message asking for more precise words.
    "SEARCH_TIME_LIMIT": 0.5,
    # PostgreSQL search: words in up to SEARCH_EXACT_LIMIT documents (the planner's estimate),
    # or in fewer than it would take to read to find SEARCH_CANDIDATES matches among the
    # newest topics, are ranked and counted exactly; commoner words rank the
    # SEARCH_CANDIDATES newest matches, found by reading at most SEARCH_MAX_WINDOW topics.
    "SEARCH_EXACT_LIMIT": 2000,
    "SEARCH_CANDIDATES": 200,
    "SEARCH_MAX_WINDOW": 10000,
    # Searches deeper than this many pages are refused (nobody reads them; bots do).
    "SEARCH_MAX_PAGES": 50,
    "RATELIMIT_SEARCH": "30/minute;500/hour",
    # Username suggestions of the @mention autocomplete (a request per pause in typing).
    "RATELIMIT_SUGGEST": "60/minute;1000/hour",
    # How many similar topics the ask form suggests under the title.
    "SEARCH_SIMILAR_COUNT": 5,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
}

ENV_PREFIX = "COMMUNITY_"


def _parse_env_value(raw: str) -> Any:
    """Environment values are JSON when they parse as JSON (numbers, booleans, lists)."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    app.config.update(DEFAULTS)
    instance = Path(app.instance_path)
    app.config.from_pyfile(str(instance / "config.py"), silent=True)
    toml_file = instance / "config.toml"
    if toml_file.exists():
        with toml_file.open("rb") as fh:
            app.config.update({k.upper(): v for k, v in tomllib.load(fh).items()})
    for key, raw in os.environ.items():
        if key.startswith(ENV_PREFIX) and not key.startswith(ENV_PREFIX + "TEST_"):
            app.config[key[len(ENV_PREFIX) :]] = _parse_env_value(raw)
    if overrides:
        app.config.update(overrides)

    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = "sqlite:///" + str(instance / "community.db")
    url = app.config["DATABASE_URL"]
    if url.startswith(("postgres://", "postgresql://")):
        # psycopg 3 is the driver we ship; plain URLs would pick psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if url.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {"timeout": 30})
    else:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)

    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret_key(instance)


def instance_secret_key(instance: Path) -> str:
    """The key in ``instance/secret_key``, created on first start. Several workers may start
    at once: the file is created exclusively and whoever loses the race reads the winner's."""
    path = instance / "secret_key"
    instance.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    for _attempt in range(50):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)  # the winner has created the file but not yet written it
    raise RuntimeError(f"{path} is empty: delete it or set SECRET_KEY")
