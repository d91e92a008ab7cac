"""The outgoing webhook, against a real HTTP server on 127.0.0.1: the body's signature
verifies, a failing receiver gets retries, nothing is lost, non-public ideas are not sent."""

from __future__ import annotations

import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from community_ideation import webhook
from community_ideation.models import Delivery
from sqlalchemy import select

from community.extensions import db
from community.plugins.settings import plugin_settings, save_plugin_settings
from community.tasks import task_queue

SECRET = "s3cret-for-tests"  # noqa: S105 (a test value)


class Receiver:
    """A webhook receiver on a free port: answers with ``answers`` in turn (then 200) and
    keeps every request it got."""

    def __init__(self, answers=()):
        self.answers = list(answers)
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def factory(answers=()):
        made.append(Receiver(answers))
        return made[-1]

    yield factory
    for r in made:
        r.close()


@pytest.fixture
def world(enable_plugin, create_user, create_space, create_topic):
    enable_plugin("ideation")
    member = create_user("member")
    return {
        "member": member,
        "ideas": create_space("ideas", default_kind="idea"),
        "private": create_space("secret", visibility="members", default_kind="idea"),
    }


def configure(url: str, secret: str = SECRET) -> None:
    current = dict(plugin_settings("ideation"))
    current.update(webhook_url=url, webhook_secret=secret)
    assert save_plugin_settings("ideation", current) == {}


@pytest.fixture
def later(app, monkeypatch):
    """``later(seconds)``: the task queue's clock moves on, so retries scheduled with a delay
    are due (the real delay, not a patched one)."""
    huey = task_queue(app).huey
    real = huey._get_timestamp
    offset = [timedelta(0)]
    monkeypatch.setattr(huey, "_get_timestamp", lambda: real() + offset[0])

    def advance(seconds: float) -> None:
        offset[0] += timedelta(seconds=seconds)

    return advance


def delivery(delivery_id: int) -> Delivery:
    db.session.expire_all()
    return db.session.get(Delivery, delivery_id)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_new_idea_is_delivered_signed(world, receiver, create_topic, run_tasks):
    r = receiver()
    idea = create_topic(world["member"], world["ideas"], kind="idea", title="Dark mode")
    configure(r.url)
    run_tasks()  # whatever creating the topic queued
    delivery_id = webhook.queue_event("idea.created", idea)
    assert delivery_id is not None
    run_tasks()

    assert len(r.received) == 1
    got = r.received[0]
    assert got["headers"]["Content-Type"] == "application/json"
    assert got["headers"]["X-Community-Event"] == "idea.created"
    assert webhook.verify(got["body"], SECRET, got["headers"]["X-Community-Signature"])
    assert not webhook.verify(got["body"] + b" ", SECRET, got["headers"]["X-Community-Signature"])
    assert not webhook.verify(got["body"], "wrong", got["headers"]["X-Community-Signature"])
    body = json.loads(got["body"])
    assert body["id"] == got["headers"]["X-Community-Delivery"]
    assert body["event"] == "idea.created"
    assert body["occurred_at"]
    assert body["idea"] == {
        "id": idea.id,
        "title": "Dark mode",
        "url": body["idea"]["url"],
        "space": "ideas",
        "status": idea.status,
        "status_name": "New",
        "votes": 0,
        "author": "member",
    }
    assert str(idea.id) in body["idea"]["url"] and body["idea"]["url"].startswith("/")
    assert "previous_status" not in body
    row = delivery(delivery_id)
    assert (row.state, row.attempts, row.last_error) == ("sent", 1, "")
    assert row.sent_at is not None


def test_a_status_change_carries_the_previous_status_and_the_response(
    world, receiver, create_topic, create_user, run_tasks
):
    from community_ideation import changes

    r = receiver()
    idea = create_topic(world["member"], world["ideas"], kind="idea", title="Dark mode")
    configure(r.url)
    run_tasks()
    changes.change_status(create_user("staffer", staff=True), idea, "planned", "For **spring**")
    run_tasks()
    body = json.loads(r.received[-1]["body"])
    assert body["event"] == "idea.status_changed"
    assert (body["idea"]["status"], body["idea"]["status_name"]) == ("planned", "Planned")
    assert body["previous_status"] == "new"
    assert body["response"] == "For **spring**"


def test_a_failing_receiver_gets_retries(world, receiver, create_topic, run_tasks, later):
    r = receiver(answers=[500, 500])
    idea = create_topic(world["member"], world["ideas"], kind="idea")
    configure(r.url)
    run_tasks()
    delivery_id = webhook.queue_event("idea.created", idea)
    run_tasks()
    assert len(r.received) == 1
    row = delivery(delivery_id)
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "HTTP 500")

    run_tasks()  # the retry waits for its delay
    assert len(r.received) == 1
    later(webhook.RETRY_DELAY + 1)
    run_tasks()
    assert len(r.received) == 2
    later(webhook.RETRY_DELAY + 1)
    run_tasks()
    assert len(r.received) == 3
    row = delivery(delivery_id)
    assert (row.state, row.attempts, row.last_error) == ("sent", 3, "")
    # The same delivery each time: one id, one body, a receiver can deduplicate.
    assert len({got["body"] for got in r.received}) == 1
    assert len({got["headers"]["X-Community-Delivery"] for got in r.received}) == 1

    later(webhook.RETRY_DELAY + 1)
    run_tasks()
    assert len(r.received) == 3


def test_an_unreachable_receiver_loses_nothing(world, receiver, create_topic, run_tasks, later):
    idea = create_topic(world["member"], world["ideas"], kind="idea")
    configure(f"http://127.0.0.1:{free_port()}/hook")  # nobody listens there
    run_tasks()
    delivery_id = webhook.queue_event("idea.created", idea)
    run_tasks()
    row = delivery(delivery_id)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error

    for _ in range(webhook.RETRIES):
        later(webhook.RETRY_DELAY + 1)
        run_tasks()
    row = delivery(delivery_id)
    assert (row.state, row.attempts) == ("failed", webhook.MAX_ATTEMPTS)
    later(webhook.RETRY_DELAY + 1)
    assert run_tasks() == 0  # the worker gave up

    # The receiver is back: resend_failed() queues the kept delivery again, same body.
    r = receiver()
    configure(r.url)
    assert webhook.resend_failed() == 1
    run_tasks()
    assert len(r.received) == 1
    assert json.loads(r.received[0]["body"])["id"] == json.loads(row.payload)["id"]
    assert delivery(delivery_id).state == "sent"
    assert webhook.resend_failed() == 0


def test_a_sent_delivery_is_not_sent_again(world, receiver, create_topic, run_tasks):
    r = receiver()
    idea = create_topic(world["member"], world["ideas"], kind="idea")
    configure(r.url)
    run_tasks()
    delivery_id = webhook.queue_event("idea.created", idea)
    run_tasks()
    assert len(r.received) == 1
    webhook.deliver(delivery_id)  # a duplicate run of the task
    from community.tasks import enqueue

    enqueue(webhook.deliver, delivery_id)
    run_tasks()
    assert len(r.received) == 1


def test_non_public_ideas_and_no_address_send_nothing(world, receiver, create_topic, run_tasks):
    idea = create_topic(world["member"], world["ideas"], kind="idea")
    hidden = create_topic(world["member"], world["private"], kind="idea")
    run_tasks()
    configure("")
    assert webhook.queue_event("idea.created", idea) is None
    r = receiver()
    configure(r.url)
    assert webhook.queue_event("idea.created", hidden) is None
    run_tasks()
    assert r.received == []
    assert db.session.scalar(select(Delivery.id)) is None


def test_only_http_addresses_are_called(world, create_topic, run_tasks, tmp_path):
    idea = create_topic(world["member"], world["ideas"], kind="idea")
    configure(f"file://{tmp_path}/hook")
    run_tasks()
    delivery_id = webhook.queue_event("idea.created", idea)
    run_tasks()
    row = delivery(delivery_id)
    assert row.state == "failed"
    assert "not http(s)" in row.last_error
    assert not (tmp_path / "hook").exists()


def test_a_redirect_is_not_followed(world, receiver, create_topic, run_tasks):
    r = receiver(answers=[302])
    idea = create_topic(world["member"], world["ideas"], kind="idea")
    configure(r.url)
    run_tasks()
    delivery_id = webhook.queue_event("idea.created", idea)
    run_tasks()
    row = delivery(delivery_id)
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "HTTP 302")
    assert len(r.received) == 1
