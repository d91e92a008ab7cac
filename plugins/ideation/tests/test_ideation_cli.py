"""``community ideation``: the list of webhook deliveries, and queueing again those the
receiver never took (failed, or left pending when the task queue lost them), then delivered
by the worker to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from community_ideation import webhook
from community_ideation.models import Delivery
from sqlalchemy import insert, select, update

from community.dbtypes import utcnow
from community.extensions import db
from community.plugins.settings import plugin_settings, save_plugin_settings
from community.tasks import task_queue

SECRET = "cli-test-secret"  # noqa: S105 (a test value)


class BacklogTool:
    """A webhook receiver on a free port of 127.0.0.1 that takes every delivery (200)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.signatures: list[str] = []
        tool = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                tool.bodies.append(body)
                tool.signatures.append(self.headers["X-Community-Signature"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ideas"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivery_ids(self) -> list[str]:
        return [json.loads(body)["id"] for body in self.bodies]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def backlog_tool(enable_plugin):
    enable_plugin("ideation")
    tool = BacklogTool()
    current = dict(plugin_settings("ideation"))
    current.update(webhook_url=tool.url, webhook_secret=SECRET)
    assert save_plugin_settings("ideation", current) == {}
    yield tool
    tool.close()


@pytest.fixture
def ideas(backlog_tool, create_user, create_space, create_topic, run_tasks):
    """Four public ideas; what creating them queued is delivered already."""
    author = create_user("cli_author")
    space = create_space("cli-ideas", default_kind="idea")
    made = [
        create_topic(author, space, kind="idea", title=f"Idea for the command line {n}")
        for n in range(4)
    ]
    run_tasks()
    backlog_tool.bodies.clear()
    backlog_tool.signatures.clear()
    return made


def row(delivery_id: int) -> Delivery:
    db.session.expire_all()
    return db.session.get(Delivery, delivery_id)


def body_id(delivery_id: int) -> str:
    return json.loads(row(delivery_id).payload)["id"]


def test_ideation_cli_help(runner):
    result = runner.invoke(args=["ideation", "--help"])
    assert result.exit_code == 0, result.output
    assert "webhook" in result.output
    assert "deliveries" in result.output and "resend" in result.output
    deliveries = runner.invoke(args=["ideation", "deliveries", "--help"])
    assert deliveries.exit_code == 0, deliveries.output
    assert "--state [pending|sent|failed]" in deliveries.output
    assert "--limit" in deliveries.output
    assert "List the webhook's recent deliveries" in deliveries.output
    resend = runner.invoke(args=["ideation", "resend", "--help"])
    assert resend.exit_code == 0, resend.output
    assert "Queue again the deliveries that failed" in resend.output
    assert "--stale-minutes" in resend.output


def test_ideation_deliveries_lists_recent_rows(runner, ideas, run_tasks):
    sent = webhook.queue_event("idea.created", ideas[0])
    run_tasks()
    failed = webhook.queue_event("idea.status_changed", ideas[1], previous_status="new")
    task_queue().huey.flush()  # the queue lost it
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == failed)
        .values(state="failed", attempts=webhook.MAX_ATTEMPTS, last_error="HTTP 503")
    )
    db.session.commit()

    listed = runner.invoke(args=["ideation", "deliveries"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split()[:5] == ["ID", "EVENT", "STATE", "ATT", "CREATED"]
    by_id = {line.split()[0]: line.split() for line in lines[1:]}
    assert by_id[str(sent)][1:4] == ["idea.created", "sent", "1"]
    assert by_id[str(failed)][1:4] == ["idea.status_changed", "failed", str(webhook.MAX_ATTEMPTS)]
    assert by_id[str(failed)][-2:] == ["HTTP", "503"]
    assert by_id[str(failed)][4] == row(failed).created_at.strftime("%Y-%m-%d")

    only_failed = runner.invoke(args=["ideation", "deliveries", "--state", "failed"])
    assert [line.split()[0] for line in only_failed.output.splitlines()[1:]] == [str(failed)]
    newest = runner.invoke(args=["ideation", "deliveries", "--limit", "1"])
    assert len(newest.output.splitlines()) == 2
    none = runner.invoke(args=["ideation", "deliveries", "--state", "pending"])
    assert none.output.strip() == "No pending deliveries."
    wrong = runner.invoke(args=["ideation", "deliveries", "--state", "lost"])
    assert wrong.exit_code == 2


def test_ideation_resend_queues_failed_and_stale_pending(runner, ideas, run_tasks, backlog_tool):
    sent = webhook.queue_event("idea.created", ideas[0])
    run_tasks()
    assert backlog_tool.delivery_ids() == [body_id(sent)]
    sent_at = row(sent).sent_at
    failed = webhook.queue_event("idea.created", ideas[1])
    stale = webhook.queue_event("idea.created", ideas[2])
    fresh = webhook.queue_event("idea.created", ideas[3])
    task_queue().huey.flush()  # the task queue went down and lost what waited in it
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == failed)
        .values(state="failed", attempts=webhook.MAX_ATTEMPTS, last_error="HTTP 500")
    )
    old = utcnow() - webhook.STALE_AFTER - timedelta(minutes=1)
    db.session.execute(update(Delivery).where(Delivery.id == stale).values(created_at=old))
    db.session.commit()

    result = runner.invoke(args=["ideation", "resend"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2 deliveries queued again."
    assert (row(failed).state, row(failed).attempts) == ("pending", 0)
    assert row(stale).created_at == old  # the list still shows when it was written

    assert run_tasks() == 2
    assert sorted(backlog_tool.delivery_ids()) == sorted(
        [body_id(sent), body_id(failed), body_id(stale)]
    )
    for body, signature in zip(backlog_tool.bodies, backlog_tool.signatures, strict=True):
        assert webhook.verify(body, SECRET, signature)
    for delivery_id in (failed, stale):
        assert (row(delivery_id).state, row(delivery_id).attempts) == ("sent", 1)
    # The fresh pending one may still be on its way: not touched. The sent one: not again.
    assert (row(fresh).state, row(fresh).attempts) == ("pending", 0)
    assert row(sent).sent_at == sent_at

    again = runner.invoke(args=["ideation", "resend"])
    assert again.output.strip() == "0 deliveries queued again."
    # Given a shorter delay, the one written a moment ago is stale too.
    shorter = runner.invoke(args=["ideation", "resend", "--stale-minutes", "1"])
    assert shorter.output.strip() == "0 deliveries queued again."
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == fresh)
        .values(created_at=utcnow() - timedelta(minutes=2))
    )
    db.session.commit()
    shorter = runner.invoke(args=["ideation", "resend", "--stale-minutes", "1"])
    assert shorter.output.strip() == "1 delivery queued again."
    run_tasks()
    assert row(fresh).state == "sent"
    assert len(backlog_tool.bodies) == 4


def test_ideation_resend_shows_progress_for_many(runner, ideas, run_tasks, backlog_tool):
    template = row(webhook.queue_event("idea.created", ideas[0]))
    task_queue().huey.flush()
    many = 60
    db.session.execute(
        insert(Delivery),
        [
            {
                "event": template.event,
                "payload": json.dumps({**json.loads(template.payload), "id": f"bulk-{n}"}),
                "state": "failed",
                "attempts": webhook.MAX_ATTEMPTS,
                "last_error": "URLError: timed out",
                "created_at": utcnow() - timedelta(days=1),
            }
            for n in range(many)
        ],
    )
    db.session.commit()

    result = runner.invoke(args=["ideation", "resend"])
    assert result.exit_code == 0, result.output
    assert "Deliveries" in result.output  # the progress bar's label
    assert result.output.strip().endswith(f"{many} deliveries queued again.")
    assert run_tasks() == many
    assert sorted(backlog_tool.delivery_ids()) == sorted(f"bulk-{n}" for n in range(many))
    states = set(db.session.scalars(select(Delivery.state).where(Delivery.id != template.id)))
    assert states == {"sent"}
