"""The background worker as a real process (`community worker`), on the embedded SQLite queue
and on Redis; the reindex command; failed index updates kept and retried."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import redis
from sqlalchemy import select

from community.extensions import db
from community.search import search_backend
from community.search.indexing import flush_now, sweep
from community.search.models import SearchQueue
from community.search.service import make_filters, search_topics
from community.testing import community_cli
from community.topics import services
from tests.plugins import searchbackend

REDIS_URL = "redis://127.0.0.1:6379/13"
WAIT_SECONDS = 60  # the most a worker may take to pick a task up; passing runs take well under 2


def hits(viewer, text):
    return [h.topic.id for h in search_topics(viewer, text, make_filters(viewer)).hits]


def wait_for(condition, what: str):
    """Wait for another process to do something: poll with a deadline (not a timing test)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        db.session.rollback()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_worker(app, database_url, tasks_url, log_path):
    cli = community_cli(
        database_url, app.instance_path, TASKS_URL=tasks_url, SECRET_KEY="test-secret"
    )
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "-m", "community", "worker", "--threads", "2"],
        env=cli.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log = log  # type: ignore[attr-defined]
    return process


def stop(process):
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.log.close()


@pytest.fixture
def sqlite_queue():
    return {"TASKS_URL": "sqlite:///tasks.db"}


class TestSqliteQueue:
    @pytest.fixture
    def app_config(self, sqlite_queue):
        return sqlite_queue

    def test_worker_process_indexes_what_the_site_commits(
        self, app, database_url, tmp_path, create_user, create_space, create_topic
    ):
        asker = create_user("asker")
        space = create_space("routers")
        worker = start_worker(app, database_url, "sqlite:///tasks.db", tmp_path / "worker.log")
        try:
            topic = create_topic(asker, space, title="Firmware rollback without a cable")
            wait_for(lambda: hits(asker, "rollback") == [topic.id], "the worker to index")
            opening = db.session.scalars(
                select(services.Post).where(services.Post.topic_id == topic.id)
            ).one()
            services.edit_post(asker, opening, "Edited.", title="Firmware downgrade over wifi")
            wait_for(lambda: hits(asker, "downgrade") == [topic.id], "the edit to be indexed")
            assert hits(asker, "rollback") == []
        finally:
            stop(worker)
        log = (tmp_path / "worker.log").read_text()
        assert "Traceback" not in log, log
        assert worker.returncode == 0, log


class TestRedisQueue:
    @pytest.fixture
    def app_config(self):
        return {"TASKS_URL": REDIS_URL}

    @pytest.fixture(autouse=True)
    def empty_redis(self):
        connection = redis.Redis.from_url(REDIS_URL)
        connection.flushdb()
        yield
        connection.flushdb()

    def test_two_workers_on_redis_index_everything_once(
        self, app, database_url, tmp_path, create_user, create_space, create_topic
    ):
        asker = create_user("asker")
        space = create_space("routers")
        workers = [
            start_worker(app, database_url, REDIS_URL, tmp_path / f"worker{n}.log")
            for n in range(2)
        ]
        try:
            topics = [
                create_topic(asker, space, title=f"Mesh satellite {n} drops offline")
                for n in range(12)
            ]
            wait_for(
                lambda: (
                    len(hits(asker, "satellite")) == 12
                    and db.session.scalar(select(SearchQueue.id).limit(1)) is None
                ),
                "both workers to drain the queue",
            )
            assert sorted(hits(asker, "satellite")) == sorted(t.id for t in topics)
            assert search_backend().count() == 12
        finally:
            for worker in workers:
                stop(worker)
        for n in range(2):
            log = (tmp_path / f"worker{n}.log").read_text()
            assert "Traceback" not in log, log


def test_reindex_rebuilds_with_a_progress_bar_while_searches_go_on(
    app, database_url, create_user, create_space, create_topic, run_tasks
):
    asker = create_user("asker")
    space = create_space("routers")
    kept = create_topic(asker, space, title="Parental controls schedule")
    run_tasks()
    # Something the index lost (e.g. a restored backup): only a rebuild brings it back.
    lost = create_topic(asker, space, title="Parental controls per device")
    db.session.execute(SearchQueue.__table__.delete())
    db.session.commit()
    assert hits(asker, "parental") == [kept.id]

    backend = search_backend()
    seen_during: list[list[int]] = []
    real_rebuild = backend.rebuild

    def rebuild_while_searching(batches):
        def watched():
            for batch in batches:
                seen_during.append(hits(asker, "parental"))
                yield batch

        real_rebuild(watched())

    backend.rebuild = rebuild_while_searching  # type: ignore[method-assign]
    try:
        from community.search.cli import reindex_command

        result = app.test_cli_runner().invoke(reindex_command, ["--batch-size", "1"])
    finally:
        del backend.rebuild
    assert result.exit_code == 0, result.output
    assert "Indexing 2 topics" in result.output and "Done: 2 documents" in result.output
    assert seen_during and all(seen == [kept.id] for seen in seen_during)
    assert sorted(hits(asker, "parental")) == sorted([kept.id, lost.id])


def test_reindex_from_the_command_line(app, database_url, create_user, create_space, create_topic):
    asker = create_user("asker")
    space = create_space("routers")
    topic = create_topic(asker, space, title="Port forwarding for a game console")
    cli = community_cli(database_url, app.instance_path, SECRET_KEY="test-secret")
    output = cli("search", "reindex")
    assert "Indexing 1 topics" in output and "Done: 1 documents; 0 changes" in output
    assert hits(asker, "console") == [topic.id]
    status = cli("search", "status")
    assert "Backend: whoosh" in status and "Documents in the index: 1" in status


@pytest.mark.parametrize(
    "args",
    [
        ["worker", "--help"],
        ["search", "--help"],
        ["search", "reindex", "--help"],
        ["search", "status", "--help"],
        ["search", "retry", "--help"],
    ],
)
def test_commands_have_help(app, args):
    from community.cli import main

    result = app.test_cli_runner().invoke(main, args)
    assert result.exit_code == 0 and "Usage:" in result.output


class TestFailures:
    @pytest.fixture
    def app_config(self):
        return {"PLUGINS": ["tests.plugins.searchbackend"]}

    @pytest.fixture(autouse=True)
    def failing(self):
        searchbackend.fail["on"] = True
        yield
        searchbackend.fail["on"] = True

    def test_a_failed_update_is_kept_retried_and_never_lost(
        self, app, create_user, create_space, create_topic, run_tasks
    ):
        asker = create_user("asker")
        space = create_space("routers")
        fine = create_topic(asker, space, title="Signal strength in the garden")
        bad = create_topic(asker, space, title="Why did my router explode in the garden")
        run_tasks()
        assert search_backend().name == "exploding"
        # The batch failed; the good topic was written on its own, the bad one kept with why.
        assert hits(asker, "garden") == [fine.id]
        rows = db.session.execute(
            select(SearchQueue.topic_id, SearchQueue.attempts, SearchQueue.last_error)
        ).all()
        assert [(r.topic_id, r.attempts) for r in rows] == [(bad.id, 1)]
        assert "refuses topics about exploding" in rows[0].last_error
        status = app.test_cli_runner().invoke(args=["search", "status"])
        assert f"topic {bad.id}: 1 attempts (will retry)" in status.output
        # A flush for another change does not hammer it; the periodic sweep tries again, it
        # still fails, and is still kept.
        flush_now()
        assert db.session.scalar(select(SearchQueue.attempts)) == 1
        sweep()
        assert db.session.scalar(select(SearchQueue.attempts)) == 2
        # Once the cause is fixed the next try writes it.
        searchbackend.fail["on"] = False
        result = app.test_cli_runner().invoke(args=["search", "retry"])
        assert result.exit_code == 0, result.output
        assert sorted(hits(asker, "garden")) == sorted([fine.id, bad.id])
        assert db.session.scalar(select(SearchQueue.id)) is None


def test_a_queue_that_is_down_loses_nothing(
    app, create_user, create_space, create_topic, run_tasks
):
    """When enqueueing fails after the commit, the queue row is still there for the sweep."""
    from community.tasks import task_queue

    queue = task_queue(app)
    real = queue.enqueue

    def down(*args, **kwargs):
        raise ConnectionError("queue down")

    queue.enqueue = down  # type: ignore[method-assign]
    try:
        topic = create_topic(create_user("asker"), create_space("routers"), title="Lost in queue?")
    finally:
        queue.enqueue = real  # type: ignore[method-assign]
    assert run_tasks() == 0
    sweep()
    assert hits(topic.author, "queue") == [topic.id]
