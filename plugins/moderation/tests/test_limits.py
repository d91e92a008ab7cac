"""Rate limits: per member, per newcomer, per address, for sign-ups; shared by processes."""

from __future__ import annotations

import http.cookiejar
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from community_moderation import limits
from flask_babel import force_locale

from community.errors import Refused
from community.plugins.settings import save_plugin_settings
from community.testing import DEFAULT_PASSWORD, community_cli, free_port

REDIS_URL = "redis://127.0.0.1:6379/14"  # a database of this module's own
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
STARTUP_TIMEOUT = 60


def configure(**values):
    errors = save_plugin_settings("moderation", {"newcomer_days": 0, **values})
    assert errors == {}


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


@pytest.fixture
def site(app, enable_plugin, create_user, create_space, create_topic):
    from community.extensions import limiter

    limiter.reset()  # counts of earlier tests (user ids are reused)
    enable_plugin("moderation")
    asker = create_user("asker")
    member = create_user("member")
    space = create_space("help")
    topic = create_topic(asker, space, title="How do I reset my router?")
    yield {"asker": asker, "member": member, "space": space, "topic": topic}
    limiter.reset()


def test_humanized_waits():
    with force_locale("en"):
        assert limits.humanize_wait(1) == "1 second"
        assert limits.humanize_wait(45) == "45 seconds"
        assert limits.humanize_wait(61) == "2 minutes"
        assert limits.humanize_wait(60) == "1 minute"
        assert limits.humanize_wait(3 * 3600) == "3 hours"
        assert limits.humanize_wait(3600 + 1) == "2 hours"


def test_posts_per_member(site, create_post):
    configure(limit_posts="2/hour")
    member, topic = site["member"], site["topic"]
    create_post(member, topic, "First idea about the router.")
    create_post(member, topic, "Second idea about the router.")
    with pytest.raises(Refused) as refused:
        create_post(member, topic, "Third idea about the router.")
    assert re.fullmatch(
        r"You are posting too fast\. You can post again in \d+ (minutes?|hours?)\.",
        refused.value.message,
    )
    # Another member is not affected.
    create_post(site["asker"], topic, "My own reply is fine.")


def test_the_refusal_is_shown_beside_what_was_typed(client, site):
    configure(limit_posts="1/hour")
    topic = site["topic"]
    client.login("member")
    url = f"/t/{topic.id}/reply"
    assert client.submit(url, {"body": "Hold the reset button."}).status_code == 302
    response = client.submit(url, {"body": "Also unplug it for a minute, please."})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "You can post again in" in page
    assert "Also unplug it for a minute, please." in page


def test_topics_and_newcomers(site, create_topic):
    configure(limit_topics="5/hour", limit_topics_newcomer="1/hour", newcomer_days=3)
    member = site["member"]  # a new account: a newcomer
    create_topic(member, site["space"], title="My first question here", body="First details.")
    with pytest.raises(Refused) as refused:
        create_topic(member, site["space"], title="My second question here", body="Other details.")
    assert "You can start another in" in refused.value.message


def test_edits_are_not_counted(site, create_post):
    from community.topics.services import edit_post

    configure(limit_posts="1/hour")
    post = create_post(site["member"], site["topic"], "My only reply.")
    for n in range(3):
        edit_post(site["member"], post, f"My only reply, edited {n} times.")


def test_staff_and_moderators_of_the_space_are_not_limited(
    site, create_user, create_space, create_post
):
    configure(limit_posts="1/hour")
    keeper = create_user("keeper")
    from community.spaces.services import add_moderator

    add_moderator(site["space"], keeper)
    staff = create_user("employee", staff=True)
    for n in range(3):
        create_post(keeper, site["topic"], f"Moderator note number {n}.")
        create_post(staff, site["topic"], f"Staff note number {n}.")


def test_votes(site, create_post, create_user):
    from community.topics.services import cast_vote

    configure(limit_votes="2/hour")
    posts = [create_post(site["asker"], site["topic"], f"Answer number {n}.") for n in range(3)]
    cast_vote(site["member"], posts[0], 1)
    cast_vote(site["member"], posts[1], 1)
    with pytest.raises(Refused) as refused:
        cast_vote(site["member"], posts[2], 1)
    assert "You can vote again in" in refused.value.message


def test_flags(site):
    configure(limit_flags="2/minute")
    assert limits.flag_limit(site["member"]) is None
    assert limits.flag_limit(site["member"]) is None
    refusal = limits.flag_limit(site["member"])
    assert refusal and "You can flag again in" in refusal
    assert limits.flag_limit(site["asker"]) is None


def test_every_write_from_one_address_counts(client, site, create_user):
    configure(limit_ip_writes="2/hour")
    topic = site["topic"]
    create_user("other")
    client.login("member")
    assert client.submit(f"/t/{topic.id}/reply", {"body": "Reply from me."}).status_code == 302
    client.logout()
    client.login("other")
    assert client.submit(f"/t/{topic.id}/reply", {"body": "Reply from other."}).status_code == 302
    response = client.submit(f"/t/{topic.id}/reply", {"body": "One more from other."})
    assert response.status_code == 400
    assert "You can post again in" in response.get_data(as_text=True)


def test_sign_ups_per_address(client, site):
    configure(limit_registrations="1/hour")
    data = {"username": "newbie", "email": "newbie@example.com", "password": DEFAULT_PASSWORD}
    data["password_again"] = DEFAULT_PASSWORD
    data["confirm"] = DEFAULT_PASSWORD
    client.submit("/register", data)
    assert limits.registration_gate("203.0.113.9") is None
    refusal = limits.registration_gate("203.0.113.9")
    assert refusal and "You can sign up again in" in refusal
    assert limits.registration_gate("198.51.100.7") is None


def test_empty_limits_turn_a_limit_off(site, create_post):
    configure(limit_posts="")
    for n in range(5):
        create_post(site["member"], site["topic"], f"Reply number {n} of many.")


# --- two server processes, one count in Redis ---------------------------------------------------


class WebProcess:
    """``community run`` on a free port, against the test database and ``REDIS_URL``."""

    def __init__(self, app, database_url, tmp_path, name):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cli = community_cli(
            database_url,
            app.instance_path,
            SECRET_KEY="test-secret",  # noqa: S106 - the test app's key
            RATELIMIT_ENABLED="true",
            RATELIMIT_STORAGE_URI=REDIS_URL,
            TASKS_URL=f"sqlite:///{tmp_path / 'tasks.db'}",
            MAIL_BACKEND="memory",
        )
        self.log_path = tmp_path / f"{name}.log"
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "community", "run", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--no-reload", "--no-debug", "--with-threads"]
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            command, env=cli.env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log
        )
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar)
        )

    def wait_until_ready(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with self.opener.open(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert self.process.poll() is None, self.log_path.read_text(errors="replace")
            time.sleep(0.1)
        pytest.fail(f"the server did not start:\n{self.log_path.read_text(errors='replace')}")

    def request(self, path, data=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def token(self, path):
        status, page = self.request(path)
        assert status == 200, page[:2000]
        match = CSRF_RE.search(page)
        assert match, page[:2000]
        return match.group(1)

    def login(self, username):
        token = self.token("/login")
        data = {"csrf_token": token, "login": username, "password": DEFAULT_PASSWORD}
        status, page = self.request("/login", data)
        assert status == 200 and "Sign out" in page, page[:2000]  # redirected home

    def reply(self, topic, body):
        token = self.token(f"/t/{topic.id}/{topic.slug}")
        return self.request(f"/t/{topic.id}/reply", {"csrf_token": token, "body": body})

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def redis_db():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


class TestSharedAcrossProcesses:
    LIMIT = 4

    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URL}

    def test_two_processes_share_one_count(self, app, database_url, tmp_path, site, redis_db):
        from community.extensions import db

        configure(limit_posts=f"{self.LIMIT}/hour", limit_ip_writes="100/hour")
        topic = site["topic"]
        topic = type("TopicAddress", (), {"id": topic.id, "slug": topic.slug})
        db.session.commit()
        db.session.remove()  # nothing of this process holds the database while they run
        servers = [WebProcess(app, database_url, tmp_path, f"web{n}") for n in range(2)]
        try:
            for server in servers:
                server.wait_until_ready()
            for server in servers:
                server.login("member")
            answers = []
            for n in range(self.LIMIT + 1):
                server = servers[n % 2]
                answers.append(server.reply(topic, f"Reply number {n} about the router."))
            statuses = [status for status, _page in answers]
            # Each process saw at most LIMIT - 1 writes, and still the next one is refused.
            assert statuses[: self.LIMIT] == [200] * self.LIMIT, statuses
            status, page = answers[-1]
            assert status == 400, statuses
            assert "You are posting too fast. You can post again in" in page
            assert "Reply number 4 about the router." in page  # what was typed is kept
        finally:
            logs = [server.stop() for server in servers]
        for log in logs:
            assert "Traceback" not in log, log[-3000:]
