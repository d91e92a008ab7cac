"""Mail sent by real `community worker` processes to a real SMTP server on 127.0.0.1: retries
through a server that refuses at first (SQLite queue), and two workers on Redis sending each
of many messages exactly once, although every task was queued twice."""

from __future__ import annotations

import email
import email.policy
import re
import signal
import subprocess
import sys
import time

import pytest
import redis
from sqlalchemy import select

from community.extensions import db
from community.mail import deliver, queue_mail, send_mail
from community.mail.models import MailQueue, MailState
from community.tasks import enqueue
from community.testing import community_cli

REDIS_URL = "redis://127.0.0.1:6379/12"  # DB 13 is test_worker.py's
WAIT_SECONDS = 60  # the most the workers may take; passing runs take a few seconds
SENT_LINE = re.compile(r"community\.mail\.queue: mail (\d+) sent to ")


def start_worker(app, database_url, tasks_url, smtp_server, log_path, **settings):
    config = {k: str(v) for k, v in smtp_server.settings.items()}
    config.update({k: str(v) for k, v in settings.items()})
    cli = community_cli(
        database_url, app.instance_path, TASKS_URL=tasks_url, SECRET_KEY="test-secret", **config
    )
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "community", "worker", "--threads", "2"],
        env=cli.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log = log  # type: ignore[attr-defined]
    process.log_path = log_path  # type: ignore[attr-defined]
    return process


def wait_until_ready(process) -> None:
    """Until the worker says it has started, with the task that sends mail."""
    deadline = time.monotonic() + WAIT_SECONDS
    while "community.mail.queue.deliver\n" not in process.log_path.read_text():
        assert process.poll() is None, process.log_path.read_text()
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.05)


def stop(process) -> str:
    """SIGINT: huey finishes the tasks it is running, then exits. Returns the log."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.log.close()
    return process.log_path.read_text()


def wait_for_mail(smtp_server, count: int, workers) -> None:
    """Wait until ``count`` messages arrived; when they do not, say where they are."""
    try:
        smtp_server.wait_for(count, timeout=WAIT_SECONDS)
    except AssertionError as timeout:
        states = [(r.id, r.state, r.attempts, r.last_error) for r in mail_rows()]
        logs = "\n".join(w.log_path.read_text(errors="replace")[-3000:] for w in workers)
        raise AssertionError(f"{timeout}\nrows: {states}\nworker logs:\n{logs}") from None


def mail_rows() -> list[MailQueue]:
    db.session.rollback()
    return list(db.session.scalars(select(MailQueue).order_by(MailQueue.id)))


class TestSqliteQueue:
    @pytest.fixture
    def app_config(self, smtp_server):
        return {"TASKS_URL": "sqlite:///tasks.db", **smtp_server.settings}

    def test_the_worker_retries_until_the_server_accepts(
        self, app, database_url, tmp_path, smtp_server
    ):
        smtp_server.refuse("451 4.3.0 Greylisted, try again later", times=2)
        row = send_mail("anna@example.com", "Third time lucky", "Text", "<p>HTML</p>")
        mail_id = row.id
        message_id = email.message_from_bytes(row.message, policy=email.policy.default)[
            "Message-ID"
        ]
        worker = start_worker(
            app,
            database_url,
            "sqlite:///tasks.db",
            smtp_server,
            tmp_path / "worker.log",
            MAIL_RETRY_DELAY=1,
        )
        try:
            wait_for_mail(smtp_server, 1, [worker])
        finally:
            log = stop(worker)
        assert worker.returncode == 0, log
        assert "Traceback" not in log, log
        assert smtp_server.refused == 2
        [message] = smtp_server.messages
        assert message["Message-ID"] == message_id
        assert [(r.id, r.state, r.attempts) for r in mail_rows()] == [(mail_id, MailState.SENT, 3)]
        assert "failed (attempt 1), trying again in 1 s" in log
        assert "failed (attempt 2), trying again in 2 s" in log


class TestRedisQueue:
    COUNT = 40

    @pytest.fixture
    def app_config(self, smtp_server):
        return {"TASKS_URL": REDIS_URL, **smtp_server.settings}

    @pytest.fixture(autouse=True)
    def empty_redis(self):
        connection = redis.Redis.from_url(REDIS_URL)
        connection.flushdb()
        yield
        connection.flushdb()
        connection.close()

    def test_two_workers_send_each_message_once(self, app, database_url, tmp_path, smtp_server):
        workers = []
        try:
            for n in range(2):
                workers.append(
                    start_worker(
                        app, database_url, REDIS_URL, smtp_server, tmp_path / f"worker{n}.log"
                    )
                )
            for worker in workers:
                wait_until_ready(worker)
            rows = [
                queue_mail(f"member{n}@example.com", f"Message {n}", f"Text {n}")
                for n in range(self.COUNT)
            ]
            db.session.commit()  # queues a deliver task for each
            ids = [row.id for row in rows]
            # Each task a second time, as a sweep racing the first one would.
            for mail_id in ids:
                enqueue(deliver, mail_id)
            wait_for_mail(smtp_server, self.COUNT, workers)
        finally:
            logs = [stop(worker) for worker in workers]

        for worker, log in zip(workers, logs, strict=True):
            assert worker.returncode == 0, log
            assert "Traceback" not in log, log
        assert len(smtp_server.messages) == self.COUNT
        message_ids = [m["Message-ID"] for m in smtp_server.messages]
        assert len(set(message_ids)) == self.COUNT
        assert sorted(m["Subject"] for m in smtp_server.messages) == sorted(
            f"Message {n}" for n in range(self.COUNT)
        )
        # Each row was claimed once (attempts count claims) and is sent.
        assert {(r.state, r.attempts) for r in mail_rows()} == {(MailState.SENT, 1)}
        sent_by = [[int(i) for i in SENT_LINE.findall(log)] for log in logs]
        assert sorted(sent_by[0] + sent_by[1]) == sorted(ids)
        assert all(sent_by), f"one worker sent nothing: {[len(s) for s in sent_by]}"
