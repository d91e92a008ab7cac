"""Pytest fixtures for Community and for plugin authors.

Installing Community registers this module as a pytest plugin (entry point ``pytest11``), so a
plugin's test suite has these fixtures without importing anything: ``app``, ``client``,
``runner``, ``create_user``, ``create_space``, ``create_topic``, ``create_post``,
``enable_plugin``, ``run_tasks``, ``outbox``, ``smtp_server`` and ``count_queries``; and
:func:`community_cli`, to run the command line in a process of its own.

Mail is sent by the background worker, never inside a request: after the action that sends a
message, call ``run_tasks()``, then look in ``outbox`` (the ``memory`` backend the tests use).
To see it go through SMTP, point the app at ``smtp_server``, a real SMTP server on 127.0.0.1::

    @pytest.fixture
    def app_config(smtp_server):
        return smtp_server.settings

    def test_welcome_mail(client, run_tasks, smtp_server):
        ...
        run_tasks()
        [message] = smtp_server.wait_for(1)
        assert message["Subject"] == "Welcome"

The suite runs on SQLite by default and on PostgreSQL when ``COMMUNITY_TEST_DATABASE_URL`` is
set. The schema is created once per test session; every test gets a new app on an empty
database (tables are emptied after each test).
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text

from community import create_app
from community.extensions import db

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
DEFAULT_PASSWORD = "correct horse battery"  # noqa: S105


def _database_url_for_tests(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("COMMUNITY_TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.getbasetemp() / "community-test.db")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = _database_url_for_tests(tmp_path_factory)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
        }
    )
    with app.app_context():
        drop_every_table()
        db.create_all()
        _stamp_plugin_migrations()
        _CREATED_TABLES.update(table.name for table in db.metadata.sorted_tables)
        db.engine.dispose()
    yield url
    with app.app_context():
        drop_every_table()
        db.engine.dispose()


# Tables made at the start of the session: models imported later (a test that installs a plugin
# into a database of its own) have no table here to empty.
_CREATED_TABLES: set[str] = set()


def _stamp_plugin_migrations() -> None:
    """create_all() made every installed plugin's tables too: record them as migrated, so
    that enabling a plugin in a test does not create them again."""
    from alembic import command

    from community.plugins.migrations import alembic_config, migrated_plugins

    for info in migrated_plugins():
        command.stamp(alembic_config(info), "heads")


def drop_every_table() -> None:
    """Drop every table of the app's database, also those no model describes (version tables,
    tables of plugins installed by an earlier run), so that a test session (or a benchmark)
    starts clean."""
    from sqlalchemy import MetaData

    existing = MetaData()
    existing.reflect(db.engine)
    # Not sorted: the reflected tables refer to each other in cycles (topics <-> posts).
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            for name in existing.tables:
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
        else:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for name in existing.tables:
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.commit()


def make_test_config(database_url: str, instance_path: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": instance_path,
        "MAIL_BACKEND": "memory",
        # Tasks wait in the process until a test runs them (the run_tasks fixture).
        "TASKS_URL": "memory://",
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "community.test",
        # Cheap scrypt parameters: the suite creates hundreds of accounts.
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        # A loaded CI machine may pause a search for longer than a visitor would wait: the
        # tests check which hits are found, not how fast.
        "SEARCH_TIME_LIMIT": 30.0,
    }


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path, app_config: dict[str, Any]) -> Iterator[Flask]:
    config = make_test_config(database_url, str(tmp_path / "instance"))
    config.update(app_config)
    app = create_app(config)
    with app.app_context():
        yield app
        db.session.remove()
        empty_tables()
        db.engine.dispose()


def empty_tables() -> None:
    """Delete every row of every table (the schema stays). Ends the session's transaction
    first: on PostgreSQL, TRUNCATE waits for every open transaction on the tables."""
    db.session.remove()
    tables = [t.name for t in db.metadata.sorted_tables if t.name in _CREATED_TABLES]
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            # Rows refer to each other (topics <-> posts, space trees): no key checks while
            # everything goes.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for name in reversed(tables):
                conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - names from metadata
            conn.commit()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.commit()


def community_cli(database_url: str, instance_path: str, **settings: str) -> Callable[..., str]:
    """A function that runs ``community ARGS`` in a process of its own against the given
    database and instance folder (extra ``settings`` become ``COMMUNITY_*`` variables), fails
    the test when the command fails, and returns what it printed. Use it to act as another
    worker of the site, or as an administrator at the command line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMUNITY_", "FLASK_"))}
    env.update(COMMUNITY_DATABASE_URL=database_url, COMMUNITY_INSTANCE_PATH=instance_path)
    env.update({f"COMMUNITY_{key}": value for key, value in settings.items()})

    def run(*args: str) -> str:
        result = subprocess.run(  # noqa: S603 - our own command line
            [sys.executable, "-m", "community", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (
            f"community {' '.join(args)}:\n{result.stdout}{result.stderr}"
        )
        return result.stdout

    run.env = env  # type: ignore[attr-defined]
    return run


class CommunityClient(FlaskClient):
    """A test client that fills in the CSRF token of the page it last saw."""

    def csrf_token(self) -> str:
        page = self.get("/reset").get_data(as_text=True)
        match = CSRF_RE.search(page)
        assert match, "no CSRF token on /reset"
        return match.group(1)

    def submit(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)

    def login(self, username: str, password: str = DEFAULT_PASSWORD):
        response = self.submit("/login", {"login": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response

    def logout(self):
        return self.submit("/logout")


@pytest.fixture
def client(app: Flask) -> CommunityClient:
    app.test_client_class = CommunityClient
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def create_user(app: Flask):
    """Factory: ``create_user("ann", role="admin", staff=True, confirmed=True)``."""
    from community.accounts.services import register_user

    counter = iter(range(1, 1_000_000))

    def factory(
        username: str | None = None,
        *,
        role: str = "member",
        staff: bool = False,
        confirmed: bool = True,
        password: str = DEFAULT_PASSWORD,
        email: str | None = None,
        locale: str | None = None,
    ):
        username = username or f"user{next(counter)}"
        return register_user(
            username,
            email or f"{username.lower()}@example.com",
            password,
            role=role,
            is_staff=staff,
            confirmed=confirmed,
            locale=locale,
            send_confirmation=False,
        )

    return factory


@pytest.fixture
def create_space(app: Flask):
    """Factory: ``create_space("routers", visibility="members", parent=other)``."""
    from community.spaces.models import Space
    from community.spaces.services import save_space

    def factory(
        slug: str = "general",
        *,
        title: str | None = None,
        visibility: str = "public",
        parent: Any = None,
        default_kind: str = "question",
        moderators=(),
    ):
        from community.spaces.services import add_moderator

        space = save_space(
            Space(),
            slug=slug,
            title=title or slug.replace("-", " ").title(),
            description=f"About {slug}",
            visibility=visibility,
            parent_id=parent.id if parent is not None else None,
            default_kind=default_kind,
        )
        for user in moderators:
            add_moderator(space, user)
        return space

    return factory


@pytest.fixture
def create_topic(app: Flask):
    """Factory: ``create_topic(author, space, kind="question", title=..., body=...)``."""
    from community.topics.services import create_topic as create

    counter = iter(range(1, 1_000_000))

    def factory(
        author,
        space,
        kind: str = "question",
        title: str | None = None,
        body: str = "Some details about it.",
        tags: str = "",
    ):
        n = next(counter)
        return create(author, space, kind, title or f"How do I do thing number {n}?", body, tags)

    return factory


@pytest.fixture
def create_post(app: Flask):
    from community.topics.services import create_post as create

    def factory(author, topic, body: str = "Try turning it off and on again.", parent=None):
        return create(author, topic, body, parent=parent)

    return factory


@pytest.fixture
def run_tasks(app: Flask) -> Callable[[], int]:
    """Run the background tasks waiting in the queue, as ``community worker`` would, and
    return how many ran: ``create_topic(...); run_tasks()`` puts the topic in the search
    index, and sends the mail queued meanwhile."""
    from community.tasks import task_queue

    return task_queue(app).run_pending


@pytest.fixture
def enable_plugin(app: Flask):
    """Factory: ``enable_plugin("hello")`` upgrades the plugin's tables and enables it, as the
    admin's Enable button does. Plugins found through entry points start disabled."""
    from community.plugins.services import enable_plugin as enable

    def factory(name: str) -> None:
        enable(name)

    return factory


@pytest.fixture
def outbox(app: Flask) -> list:
    """The messages the ``memory`` mail backend sent: those the worker sent, so call
    ``run_tasks()`` first."""
    from community.mail import outbox as get_outbox

    return get_outbox(app)


class SMTPServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread of the test process) that keeps
    what it receives.

    - ``settings``: the configuration that sends mail to it (for ``app_config``, or as
      ``COMMUNITY_*`` variables of a worker process);
    - ``messages``: the messages received, parsed, oldest first; ``envelopes`` their SMTP
      sender and recipients;
    - ``wait_for(count, timeout=30)``: wait until ``count`` messages have arrived (fails the
      test after ``timeout`` seconds) and return them;
    - ``refuse(reply, times=1, at="DATA")``: answer the next ``times`` messages with ``reply``
      instead of accepting them, e.g. ``"451 4.3.0 Try again later"`` (temporary) or, with
      ``at="RCPT"``, ``"550 5.1.1 No such user"`` (permanent); ``refused`` counts them.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refused = 0
        self._refusals: list[tuple[str, str]] = []
        self._changed = threading.Condition()

    @property
    def settings(self) -> dict[str, Any]:
        return {"MAIL_BACKEND": "smtp", "MAIL_SMTP_HOST": self.host, "MAIL_SMTP_PORT": self.port}

    def refuse(self, reply: str, times: int = 1, at: str = "DATA") -> None:
        if at not in ("RCPT", "DATA"):
            raise ValueError("refuse at RCPT or DATA")
        with self._changed:
            self._refusals.extend([(at, reply)] * times)

    def _refusal(self, stage: str) -> str | None:
        with self._changed:
            if self._refusals and self._refusals[0][0] == stage:
                self.refused += 1
                return self._refusals.pop(0)[1]
        return None

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.messages) >= count, timeout)
            assert arrived, f"{len(self.messages)} of {count} messages arrived in {timeout} s"
            return list(self.messages)

    # aiosmtpd's handler interface
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        reply = self._refusal("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        reply = self._refusal("DATA")
        if reply:
            return reply
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._changed:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._changed.notify_all()
        return "250 OK"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A real SMTP server on 127.0.0.1 for the test (see :class:`SMTPServer`). Needs
    aiosmtpd (in Community's ``test`` extras)."""
    from aiosmtpd.controller import Controller

    server = SMTPServer()
    controller = Controller(server, hostname=server.host, port=free_port(server.host))
    controller.start()
    server.port = controller.port
    try:
        yield server
    finally:
        controller.stop()


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __len__(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask):
    """Context manager counting SQL statements: ``with count_queries() as q: ...; len(q)``."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def before(conn, cursor, statement, parameters, context, executemany):
            counter.statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting
