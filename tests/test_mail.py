"""Outgoing mail: queued in the transaction that wants it, sent by the worker through a real SMTP
server on the loopback interface (the ``smtp_server`` fixture), retried when it fails, failed
for good when refused for good; the backends.

Worker processes (SQLite and Redis queues) are in test_mail_worker.py."""

from __future__ import annotations

import email
import email.policy
import logging
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from community import create_app
from community.dbtypes import utcnow
from community.extensions import db
from community.mail import deliver, queue_mail, send_mail, sweep
from community.mail.models import MailQueue, MailState
from community.mail.queue import LOST_AFTER, STUCK_AFTER, retry_delay
from community.tasks import enqueue, task_queue
from community.testing import SMTPServer, free_port

SENDER = "Community <noreply@community.test>"


def register(client, username="anna"):
    return client.submit(
        "/register",
        {
            "username": username,
            "email": f"{username}@example.com",
            "password": "a long password",
            "confirm": "a long password",
        },
    )


def rows() -> list[MailQueue]:
    db.session.expire_all()
    return list(db.session.scalars(select(MailQueue).order_by(MailQueue.id)))


def stored_message(row: MailQueue):
    return email.message_from_bytes(row.message, policy=email.policy.default)


def time_passes(delta: timedelta) -> None:
    """Move every queued message's times back by ``delta``, as if that much time had passed
    (the worker compares them with the clock; nothing here sleeps)."""
    for row in rows():
        row.created_at -= delta
        row.next_attempt_at -= delta
        if row.claimed_at is not None:
            row.claimed_at -= delta
    db.session.commit()


class TestSMTP:
    @pytest.fixture
    def app_config(self, smtp_server):
        return {**smtp_server.settings, "MAIL_FROM": SENDER}

    def test_the_request_queues_and_the_worker_sends(self, client, smtp_server, run_tasks):
        assert register(client).status_code == 302
        [row] = rows()
        assert (row.state, row.recipient, row.attempts) == (
            MailState.PENDING,
            "anna@example.com",
            0,
        )
        assert smtp_server.messages == []  # nothing was sent inside the request

        run_tasks()
        [message] = smtp_server.wait_for(1)
        assert smtp_server.envelopes == [("noreply@community.test", ["anna@example.com"])]
        assert message["From"] == SENDER
        assert message["To"] == "anna@example.com"
        assert message["Subject"] == "Confirm your email address"
        assert message["Date"] is not None
        assert message["Message-ID"].endswith("@community.test>")
        assert message.get_content_type() == "multipart/alternative"
        assert "/confirm/" in message.get_body(("plain",)).get_content()
        assert "/confirm/" in message.get_body(("html",)).get_content()
        # The message sent is the one built when it was queued.
        [row] = rows()
        assert message["Message-ID"] == stored_message(row)["Message-ID"]
        assert (row.state, row.attempts, row.last_error) == (MailState.SENT, 1, None)
        assert row.sent_at is not None

    def test_extra_headers_go_through(self, smtp_server, run_tasks):
        headers = {
            "List-Unsubscribe": "<https://community.test/unsubscribe/abc>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        }
        send_mail("ben@example.com", "New answer", "Text", "<p>HTML</p>", headers=headers)
        run_tasks()
        [message] = smtp_server.wait_for(1)
        for name, value in headers.items():
            assert message[name] == value

    def test_a_header_cannot_smuggle_another_one(self, app):
        with pytest.raises(ValueError):
            queue_mail("ben@example.com", "Hi", "Text", headers={"X-Note": "a\r\nBcc: x@y.test"})

    def test_mail_is_queued_with_its_transaction_or_not_at_all(
        self, smtp_server, run_tasks, create_user
    ):
        queue_mail("ben@example.com", "Rolled back", "Text")
        db.session.rollback()
        assert run_tasks() == 0
        assert rows() == []

        user = create_user("carla")
        queue_mail("carla@example.com", "Together", "Text")
        user.locale = "it"
        db.session.commit()
        assert run_tasks() == 1
        assert [m["Subject"] for m in smtp_server.wait_for(1)] == ["Together"]

    def test_each_message_is_sent_once_however_often_its_task_runs(self, smtp_server, run_tasks):
        row = send_mail("ben@example.com", "Once", "Text")
        enqueue(deliver, row.id)
        enqueue(deliver, row.id)
        assert run_tasks() == 3
        assert len(smtp_server.wait_for(1)) == 1
        assert [(r.state, r.attempts) for r in rows()] == [(MailState.SENT, 1)]

    def test_a_temporary_failure_keeps_the_message_and_retries_it(self, smtp_server, run_tasks):
        smtp_server.refuse("451 4.3.0 Try again later")
        row = send_mail("ben@example.com", "Eventually", "Text")
        message_id = stored_message(row)["Message-ID"]
        before = utcnow()
        assert run_tasks() == 1
        assert smtp_server.refused == 1 and smtp_server.messages == []
        [row] = rows()
        assert (row.state, row.attempts) == (MailState.PENDING, 1)
        assert "451" in row.last_error
        # MAIL_RETRY_DELAY (30 s) after the failure.
        assert (
            before + timedelta(seconds=29) < row.next_attempt_at < utcnow() + timedelta(seconds=31)
        )

        # A task that comes early (a duplicate) leaves it alone until then.
        enqueue(deliver, row.id)
        run_tasks()
        assert smtp_server.messages == []
        assert [(r.state, r.attempts) for r in rows()] == [(MailState.PENDING, 1)]

        # Later, the scheduled attempt (or the sweep, when its task was lost) sends it.
        time_passes(timedelta(seconds=30) + LOST_AFTER + timedelta(seconds=1))
        assert sweep() == 1
        run_tasks()
        [message] = smtp_server.wait_for(1)
        assert message["Message-ID"] == message_id  # the same message, not a new one
        [row] = rows()
        assert (row.state, row.attempts) == (MailState.SENT, 2)

    def test_the_scheduled_attempt_runs_when_due(self, app, smtp_server, run_tasks):
        app.config["MAIL_RETRY_DELAY"] = 1
        smtp_server.refuse("421 4.7.0 Busy, come back later")
        send_mail("ben@example.com", "Soon", "Text")
        assert run_tasks() == 1  # the attempt ran; the next one waits on the schedule
        assert smtp_server.refused == 1
        # run_tasks runs scheduled tasks once they are due, as the worker does.
        deadline = time.monotonic() + 10
        while not smtp_server.messages:
            assert time.monotonic() < deadline, "the scheduled attempt never ran"
            run_tasks()
            time.sleep(0.05)
        assert len(smtp_server.messages) == 1
        assert [(r.state, r.attempts) for r in rows()] == [(MailState.SENT, 2)]

    def test_after_the_last_attempt_it_fails(self, app, smtp_server, run_tasks):
        app.config["MAIL_MAX_ATTEMPTS"] = 2
        smtp_server.refuse("451 4.3.0 Try again later", times=2)
        send_mail("ben@example.com", "Doomed", "Text")
        run_tasks()
        time_passes(timedelta(hours=1))
        sweep()
        run_tasks()
        [row] = rows()
        assert (row.state, row.attempts) == (MailState.FAILED, 2)
        assert smtp_server.refused == 2 and smtp_server.messages == []
        time_passes(timedelta(hours=1))
        assert sweep() == 0  # failed messages wait for `community mail retry`

    @pytest.mark.parametrize(
        ("reply", "at"),
        [("550 5.1.1 No such user here", "RCPT"), ("552 5.3.4 Message too big", "DATA")],
    )
    def test_a_permanent_refusal_fails_at_once_and_mail_retry_brings_it_back(
        self, app, smtp_server, run_tasks, reply, at
    ):
        smtp_server.refuse(reply, at=at)
        row = send_mail("nobody@example.com", "Refused", "Text")
        run_tasks()
        [row] = rows()
        assert (row.state, row.attempts) == (MailState.FAILED, 1)
        assert reply.split()[0] in row.last_error
        assert run_tasks() == 0  # no retry was scheduled

        status = app.test_cli_runner().invoke(args=["mail", "status"])
        assert status.exit_code == 0, status.output
        assert "Backend: smtp" in status.output and "Failed: 1" in status.output
        assert f"mail {row.id} to nobody@example.com, 1 attempts (failed): " in status.output

        retried = app.test_cli_runner().invoke(args=["mail", "retry"])
        assert retried.exit_code == 0, retried.output
        assert "1 failed messages queued again." in retried.output
        assert [(r.state, r.attempts) for r in rows()] == [(MailState.PENDING, 0)]
        run_tasks()
        assert len(smtp_server.wait_for(1)) == 1
        assert [(r.state, r.attempts) for r in rows()] == [(MailState.SENT, 1)]

    def test_a_message_left_sending_by_a_dead_worker_is_sent_again(self, smtp_server, run_tasks):
        row = send_mail("ben@example.com", "Orphan", "Text")
        claimed_at = utcnow()
        # A worker claimed it, then died before the server answered.
        row.state, row.claimed_at, row.attempts = MailState.SENDING, claimed_at, 1
        db.session.commit()
        run_tasks()  # the original task finds it taken
        assert smtp_server.messages == []
        assert sweep(now=claimed_at + STUCK_AFTER - timedelta(seconds=1)) == 0
        assert [r.state for r in rows()] == [MailState.SENDING]

        assert sweep(now=claimed_at + STUCK_AFTER + timedelta(seconds=1)) == 1
        [row] = rows()
        assert row.state == MailState.PENDING and "worker stopped" in row.last_error
        run_tasks()
        assert len(smtp_server.wait_for(1)) == 1
        assert [(r.state, r.attempts) for r in rows()] == [(MailState.SENT, 2)]

    def test_a_message_whose_task_was_lost_is_found_by_the_sweep(self, app, smtp_server, run_tasks):
        queue = task_queue(app)
        real = queue.enqueue

        def down(*args, **kwargs):
            raise ConnectionError("queue down")

        queue.enqueue = down  # type: ignore[method-assign]
        try:
            send_mail("ben@example.com", "Lost task", "Text")
        finally:
            queue.enqueue = real  # type: ignore[method-assign]
        assert run_tasks() == 0
        assert sweep() == 0  # not overdue yet: its task may just be late
        assert sweep(now=utcnow() + LOST_AFTER + timedelta(seconds=1)) == 1
        run_tasks()
        assert len(smtp_server.wait_for(1)) == 1
        assert [r.state for r in rows()] == [MailState.SENT]

    def test_old_sent_messages_are_deleted(self, smtp_server, run_tasks):
        send_mail("ben@example.com", "Old news", "Text")
        run_tasks()
        assert sweep(now=utcnow() + timedelta(days=6)) == 0
        assert len(rows()) == 1
        sweep(now=utcnow() + timedelta(days=7, seconds=1))
        assert rows() == []

    def test_send_test_queues_a_message(self, app, smtp_server, run_tasks):
        result = app.test_cli_runner().invoke(args=["mail", "send-test", "ops@example.com"])
        assert result.exit_code == 0, result.output
        assert smtp_server.messages == []
        run_tasks()
        [message] = smtp_server.wait_for(1)
        assert message["To"] == "ops@example.com" and "Test message" in message["Subject"]


class TestUnreachableServer:
    @pytest.fixture
    def port(self):
        return free_port()

    @pytest.fixture
    def app_config(self, port):
        return {"MAIL_BACKEND": "smtp", "MAIL_SMTP_HOST": "127.0.0.1", "MAIL_SMTP_PORT": port}

    def test_a_server_that_is_down_loses_nothing(self, run_tasks, port):
        send_mail("ben@example.com", "Patience", "Text")
        run_tasks()
        [row] = rows()
        assert (row.state, row.attempts) == (MailState.PENDING, 1)
        assert "ConnectionRefusedError" in row.last_error

        server = SMTPServer()
        controller = Controller(server, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            time_passes(timedelta(hours=1))
            sweep()
            run_tasks()
            assert len(server.wait_for(1)) == 1
        finally:
            controller.stop()
        assert [(r.state, r.attempts) for r in rows()] == [(MailState.SENT, 2)]


def test_retry_delay_doubles_up_to_the_maximum(app):
    app.config.update(MAIL_RETRY_DELAY=30, MAIL_RETRY_MAX_DELAY=3600)
    assert [retry_delay(n) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert retry_delay(500) == 3600


def test_the_admin_sees_how_mail_is_doing(app, client, create_user, run_tasks):
    create_user("boss", role="admin")
    client.login("boss")
    send_mail("ben@example.com", "Waiting", "Text")
    page = client.get("/admin/").get_data(as_text=True)
    assert "Messages waiting to be sent." in page and "is community worker running?" not in page

    [row] = rows()
    row.state, row.attempts, row.last_error = MailState.FAILED, 1, "550 no such user"
    db.session.commit()
    send_mail("carla@example.com", "Late", "Text")
    time_passes(timedelta(minutes=10))
    page = client.get("/admin/").get_data(as_text=True)
    assert "Failed: 1 (see community mail status)." in page
    assert "Last error: 550 no such user" in page
    assert "Messages have waited more than five minutes: is community worker running?" in page


class TestFileBackend:
    @pytest.fixture
    def app_config(self, tmp_path):
        return {"MAIL_BACKEND": "file", "MAIL_FILE_PATH": str(tmp_path / "mail")}

    def test_writes_one_complete_eml_file_per_message(self, tmp_path, run_tasks):
        send_mail("ben@example.com", "First", "One")
        send_mail("ben@example.com", "Second", "Two")
        assert not (tmp_path / "mail").exists()
        run_tasks()
        files = sorted((tmp_path / "mail").iterdir())
        assert [f.suffix for f in files] == [".eml", ".eml"]
        subjects = [
            email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Subject"]
            for f in files
        ]
        assert subjects == ["First", "Second"]


class TestConsoleBackend:
    @pytest.fixture
    def app_config(self):
        return {"MAIL_BACKEND": "console"}

    def test_logs_the_message(self, run_tasks, caplog):
        send_mail("ben@example.com", "Hello there", "Plain words", "<p>HTML words</p>")
        with caplog.at_level(logging.INFO, logger="community.mail"):
            run_tasks()
        logged = caplog.text
        assert "mail to ben@example.com: Hello there" in logged and "Plain words" in logged
        assert [r.state for r in rows()] == [MailState.SENT]


class TestCustomBackend:
    @pytest.fixture
    def app_config(self):
        return {"MAIL_BACKEND": "tests.plugins.mailbackend:Recording"}

    def test_a_backend_of_ones_own_by_dotted_path(self, app, run_tasks):
        send_mail("ben@example.com", "Custom", "Text")
        send_mail("ghost@nowhere.test", "Nowhere", "Text")
        run_tasks()
        assert [m["Subject"] for m in app.extensions["tests.mailbackend"]] == ["Custom"]
        assert [(r.state, r.last_error) for r in rows()] == [
            (MailState.SENT, None),
            (MailState.FAILED, "no such domain: ghost@nowhere.test"),
        ]


@pytest.mark.parametrize(
    "backend",
    ["pigeon", "tests.plugins.mailbackend:NotABackend", "tests.plugins.mailbackend:Missing"],
)
def test_a_wrong_mail_backend_fails_at_start(database_url, tmp_path, backend):
    with pytest.raises(ValueError, match="MAIL_BACKEND"):
        create_app(
            {
                "TESTING": True,
                "DATABASE_URL": database_url,
                "INSTANCE_PATH": str(tmp_path),
                "MAIL_BACKEND": backend,
            }
        )


def test_starttls_and_implicit_tls_exclude_each_other(database_url, tmp_path):
    with pytest.raises(ValueError, match="MAIL_SMTP_TLS"):
        create_app(
            {
                "TESTING": True,
                "DATABASE_URL": database_url,
                "INSTANCE_PATH": str(tmp_path),
                "MAIL_BACKEND": "smtp",
                "MAIL_SMTP_TLS": True,
                "MAIL_SMTP_SSL": True,
            }
        )


@pytest.mark.parametrize(
    "args",
    [["mail", "--help"], ["mail", "status", "--help"], ["mail", "retry", "--help"]]
    + [["mail", "send-test", "--help"]],
)
def test_mail_commands_have_help(app, args):
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0 and "Usage:" in result.output
