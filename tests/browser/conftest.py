"""Browser tests: a real Community server in a subprocess, driven by headless Chromium. A
``community worker`` runs beside it and sends the mail (to files the tests read).

The server runs on SQLite in a temporary folder, or on PostgreSQL when
``COMMUNITY_TEST_DATABASE_URL`` is set: then it gets a database of its own on that server
(created here, dropped at the end), because the regular suite empties and drops the tables of
the database named in that variable.

Test data comes from three places: the ``community`` command line (schema, the admin), the
browser itself (the flows under test), and the ``seed`` fixture, which calls the service layer
in this process through an app configured like the server (set-up that is not the flow under
test, such as members and spaces).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"
ADMIN = "admin"
STARTUP_TIMEOUT = 30.0
# The most the worker beside the server may take to send a mail (it takes well under a second).
MAIL_TIMEOUT = 30.0
# Every page of this site answers in well under a second; a missing element fails quickly.
ACTION_TIMEOUT_MS = 10_000
LINK_RE = re.compile(r"https?://\S+")
# The console script installed beside this Python by `pip install -e .`.
COMMUNITY = Path(sys.executable).with_name("community")

SERVER_KEY = pytest.StashKey["LiveServer"]()


# --- the server -------------------------------------------------------------------------------


@dataclass
class LiveServer:
    base_url: str
    env: dict[str, str]
    mail_dir: Path
    log_path: Path
    config: dict[str, Any]

    def cli(self, *args: str) -> str:
        """Run ``community ARGS`` against the server's instance and database."""
        if not COMMUNITY.exists():
            pytest.fail(f"{COMMUNITY} is missing: install the project with `pip install -e .`")
        result = subprocess.run(
            [str(COMMUNITY), *args], env=self.env, capture_output=True, text=True, check=False
        )
        if result.returncode:
            pytest.fail(f"`community {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def mails_to(self, address: str) -> list[EmailMessage]:
        """Messages sent to ``address``, oldest first (the file backend names them by time)."""
        found = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == address:
                found.append(message)
        return found

    def last_mail_to(self, address: str) -> EmailMessage:
        """The latest message to ``address``, waiting (with a deadline) for the first one:
        the worker beside the server sends mail a moment after the request that queued it."""
        deadline = time.monotonic() + MAIL_TIMEOUT
        while not (messages := self.mails_to(address)):
            assert time.monotonic() < deadline, f"no mail was sent to {address}"
            time.sleep(0.05)
        return messages[-1]

    def link_in_last_mail_to(self, address: str) -> str:
        text = self.last_mail_to(address).get_body(preferencelist=("plain",)).get_content()
        match = LINK_RE.search(text)
        assert match, f"no link in the mail to {address}:\n{text}"
        return match.group(0)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _database(folder: Path) -> Iterator[str]:
    """A database URL for the server: SQLite in ``folder``, or a new PostgreSQL database."""
    shared_url = os.environ.get("COMMUNITY_TEST_DATABASE_URL")
    if not shared_url:
        yield "sqlite:///" + str(folder / "community.db")
        return

    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    url = make_url(shared_url)
    maintenance = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"community_browser_{secrets.token_hex(4)}"
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _wait_until_ready(process: subprocess.Popen, server: LiveServer) -> None:
    """Poll /healthz until it answers, the server exits, or STARTUP_TIMEOUT passes."""
    # No proxy, whatever the environment says: the server is on the loopback interface.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with opener.open(server.base_url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        try:
            process.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"the server exited with status {process.returncode}:\n{server.log_tail()}")
    pytest.fail(f"the server did not answer /healthz in {STARTUP_TIMEOUT}s:\n{server.log_tail()}")


@contextmanager
def _serving(server: LiveServer, port: int) -> Iterator[None]:
    """``community run`` on ``port`` and ``community worker`` beside it (it sends the mail;
    same settings, so the same task queue in the instance folder), logging to
    ``server.log_path``, stopped on exit."""
    command = [str(COMMUNITY), "run", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--no-reload", "--no-debug", "--with-threads"]
    with server.log_path.open("ab") as log:
        worker = subprocess.Popen(
            [str(COMMUNITY), "worker"],
            env=server.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        try:
            process = subprocess.Popen(
                command, env=server.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
            try:
                _wait_until_ready(process, server)
                yield
            finally:
                _stop(process, signal.SIGTERM)
        finally:
            _stop(worker, signal.SIGINT)  # huey's graceful stop: running tasks finish


def _stop(process: subprocess.Popen, signum: int) -> None:
    process.send_signal(signum)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[LiveServer]:
    """The site, served by ``community run`` on a free port of 127.0.0.1, with an admin."""
    folder = tmp_path_factory.mktemp("browser-server")
    port = _free_port()
    with ExitStack() as stack:
        database_url = stack.enter_context(_database(folder))
        config = {
            "INSTANCE_PATH": str(folder / "instance"),
            "SECRET_KEY": secrets.token_urlsafe(32),
            "DATABASE_URL": database_url,
            # The worker makes the links in emails with it.
            "SITE_URL": f"http://127.0.0.1:{port}",
            "MAIL_BACKEND": "file",
            "MAIL_FILE_PATH": str(folder / "mail"),
            "RATELIMIT_ENABLED": False,
        }
        # Nothing of the developer's own COMMUNITY_* settings reaches the server.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMUNITY_", "FLASK_"))}
        # Values that are not strings are read back as JSON (see community.config).
        env.update(
            {
                f"COMMUNITY_{key}": value if isinstance(value, str) else json.dumps(value)
                for key, value in config.items()
            }
        )
        live = LiveServer(
            base_url=f"http://127.0.0.1:{port}",
            env=env,
            mail_dir=folder / "mail",
            log_path=folder / "server.log",
            config=config,
        )
        live.cli("db", "upgrade")
        admin = ["--username", ADMIN, "--email", "admin@example.com", "--password", PASSWORD]
        live.cli("users", "create", *admin, "--admin")
        stack.enter_context(_serving(live, port))
        pytestconfig.stash[SERVER_KEY] = live
        yield live
        del pytestconfig.stash[SERVER_KEY]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Attach the end of the server's log to a failed browser test: a 500 shows its cause."""
    report = yield
    live = item.config.stash.get(SERVER_KEY, None)
    if report.failed and live is not None and "server" in getattr(item, "fixturenames", ()):
        report.sections.append(("server log (last lines)", live.log_tail()))
    return report


# --- data set-up through the service layer ---------------------------------------------------


@dataclass(frozen=True)
class TopicRef:
    id: int
    title: str
    path: str


class Seed:
    """Set-up data written through community's services, as the server would write it."""

    password = PASSWORD

    def __init__(self, app: Flask) -> None:
        self.app = app

    @staticmethod
    def unique(prefix: str) -> str:
        return f"{prefix}{secrets.token_hex(3)}"

    def user(self, prefix: str = "member") -> str:
        """A confirmed member; returns the username (the password is ``PASSWORD``)."""
        from community.accounts.services import register_user

        username = self.unique(prefix)
        with self.app.app_context():
            register_user(
                username,
                f"{username}@example.com",
                PASSWORD,
                confirmed=True,
                send_confirmation=False,
            )
        return username

    def space(self, *, visibility: str = "public", title: str | None = None) -> str:
        from community.spaces.models import Space
        from community.spaces.services import save_space

        slug = self.unique("space-")
        with self.app.app_context():
            save_space(
                Space(),
                slug=slug,
                title=title or f"Space {slug}",
                description="",
                visibility=visibility,
                parent_id=None,
                default_kind="question",
            )
        return slug

    def topic(
        self,
        author: str,
        space: str,
        *,
        kind: str = "question",
        title: str | None = None,
        body: str = "Some details about it.",
    ) -> TopicRef:
        from community.accounts.services import find_user_by_username
        from community.spaces.services import space_by_slug
        from community.topics.services import create_topic

        title = title or f"How do I fix problem {self.unique('')}?"
        with self.app.app_context():
            topic = create_topic(
                find_user_by_username(author), space_by_slug(space), kind, title, body
            )
            return TopicRef(topic.id, topic.title, f"/t/{topic.id}/{topic.slug}")

    def answer(self, author: str, topic: TopicRef, body: str = "Restart it.") -> int:
        from community.accounts.services import find_user_by_username
        from community.extensions import db
        from community.topics.models import Topic
        from community.topics.services import create_post

        with self.app.app_context():
            post = create_post(find_user_by_username(author), db.session.get(Topic, topic.id), body)
            return post.id

    def vote(self, voter: str, post_id: int, value: int = 1) -> None:
        from community.accounts.services import find_user_by_username
        from community.extensions import db
        from community.topics.models import Post
        from community.topics.services import cast_vote

        with self.app.app_context():
            cast_vote(find_user_by_username(voter), db.session.get(Post, post_id), value)


@pytest.fixture(scope="session")
def seed(server: LiveServer) -> Iterator[Seed]:
    from community import create_app
    from community.extensions import db

    app = create_app(dict(server.config))
    yield Seed(app)
    with app.app_context():
        db.engine.dispose()


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need it. "
            "Install it with `apt-get install chromium` (the README's test command does)."
        )
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, server: LiveServer) -> Iterator[Callable[..., Page]]:
    """Factory: a page in a fresh browser context (own cookies), English, on the server."""
    contexts: list[BrowserContext] = []

    def factory(*, java_script_enabled: bool = True) -> Page:
        context = browser.new_context(
            base_url=server.base_url,
            locale="en-US",
            extra_http_headers={"Accept-Language": "en"},
            java_script_enabled=java_script_enabled,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


def sign_in(page: Page, login: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


@pytest.fixture
def page_as(new_page: Callable[..., Page]) -> Callable[..., Page]:
    """Factory: ``page_as("ann")`` is a page of a fresh context where ann has signed in."""

    def factory(username: str, **options: Any) -> Page:
        page = new_page(**options)
        sign_in(page, username)
        return page

    return factory
