"""Notifications benchmark: fan-out to followers, immediate emails, the inbox, daily digests.

    python bench/notifications.py [--followers F] [--inbox K] [--digest-users D]
                                  [--database-url URL] [--json]

A fresh app in a temporary instance folder, with a database of its own (a SQLite file there,
or ``--database-url``, whose tables are dropped and created again), is filled in bulk; then
the notifications code runs as the web process and the worker would run it (tasks on the
``memory://`` queue, run here one by one) and the numbers are printed. See
``bench/README.md`` for what each number means. This is a measuring tool, not a test: it
fails only when something does not work at all.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``community`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpus  # noqa: E402
from bench.search import (  # noqa: E402
    PASSWORD_HASH_METHOD,
    analyze,
    clean_up,
    cpu_seconds,
    fmt_ms,
    log,
    machine_line,
    machine_summary,
    percentile,
    plain_html,
    publish,
    request_as,
    reset_schema,
)

PROTECTED_DATABASES = {"test", "helper_pg", "main_notif"}
SPACE_ID = 1
# Fixed users; followers and digest readers get the ids after FIRST_CROWD_ID.
AUTHOR_ID = 1  # opened the topics
READER_ID = 2  # the inbox of K notifications
ANSWERER_ID = 3  # writes the answers that are timed
ACTOR_IDS = list(range(4, 10))  # wrote the answers already there
FIRST_CROWD_ID = 10
WARMUP_ANSWERS = 10  # on a topic nobody follows, before the fan-out: code paths, caches
INSERT_ROWS = 2000


def check_database_url(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not parts.scheme.startswith("sqlite") and name in PROTECTED_DATABASES:
        sys.exit(f"refusing to use the database {name!r}: its tables would be dropped")


def make_config(args: argparse.Namespace, workdir: str) -> dict[str, Any]:
    url = args.database_url or "sqlite:///" + os.path.join(workdir, "bench.db")
    return {
        "TASKS_URL": "memory://",
        "MAIL_BACKEND": "memory",
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "bench",
        "SITE_URL": "https://community.example.com",
        "DATABASE_URL": url,
        "INSTANCE_PATH": os.path.join(workdir, "instance"),
        "PASSWORD_HASH_METHOD": PASSWORD_HASH_METHOD,
    }


@contextmanager
def count_sql(app: Any) -> Iterator[Counter[str]]:
    """Count the SQL statements sent to the database meanwhile (``total``, and by their first
    word: SELECT, INSERT, UPDATE...)."""
    from sqlalchemy import event

    from community.extensions import db

    counts: Counter[str] = Counter()

    def before_cursor_execute(*args: Any) -> None:
        statement = args[2]
        counts["total"] += 1
        counts[statement.lstrip().split(None, 1)[0].upper()] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


@contextmanager
def timing(module: Any, name: str, totals: dict[str, float], calls: Counter[str]) -> Iterator[None]:
    """Add the time spent in ``module.name`` (and how often it ran) to ``totals`` / ``calls``."""
    original: Callable[..., Any] = getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[name] = totals.get(name, 0.0) + time.perf_counter() - t0
            calls[name] += 1

    setattr(module, name, timed)
    try:
        yield
    finally:
        setattr(module, name, original)


def drain(app: Any) -> list[Any]:
    """Take every task waiting in the app's queue (the worker's inbox), without running it."""
    from community.tasks import task_queue

    huey = task_queue(app).huey
    tasks = []
    while (queued := huey.dequeue()) is not None:
        tasks.append(queued)
    return tasks


def task_named(tasks: list[Any], suffix: str) -> list[Any]:
    return [t for t in tasks if t.name.endswith(suffix)]


def run_tasks(app: Any, tasks: list[Any]) -> float:
    """Run tasks as the worker does (each in an app context of its own); returns seconds."""
    from community.tasks import task_queue

    huey = task_queue(app).huey
    t0 = time.perf_counter()
    for queued in tasks:
        huey.execute(queued)
    return time.perf_counter() - t0


# --- data ------------------------------------------------------------------------------------


class Data:
    """Users, one space, topics with their answers, follows and notifications, in bulk."""

    def __init__(self, args: argparse.Namespace) -> None:
        from community.dbtypes import utcnow

        self.args = args
        self.rng = random.Random(args.seed)
        self.text = corpus.Text(self.rng, "en", corpus.make_tail(random.Random(args.seed)))
        self.now = utcnow().replace(microsecond=0)
        self.n_topics = args.inbox_topics
        self.fanout_topic_id = self.n_topics + 1
        self.warmup_topic_id = self.n_topics + 2
        self.follower_ids = list(range(FIRST_CROWD_ID, FIRST_CROWD_ID + args.followers))
        first_digest = FIRST_CROWD_ID + args.followers
        self.digest_ids = list(range(first_digest, first_digest + args.digest_users))
        self.answers: list[tuple[int, int, Any]] = []  # (post id, topic id, created_at)

    def run(self) -> dict[str, Any]:
        from community.extensions import db
        from community.topics.recount import recount_spaces

        t0 = time.perf_counter()
        reset_schema()
        self._users()
        self._topics()
        self._follows()
        self._inbox()
        self._digests()
        recount_spaces()
        db.session.commit()
        self._fix_sequences()
        stats = analyze()
        stats["seconds"] = time.perf_counter() - t0
        stats["dialect"] = db.engine.dialect.name
        version = db.engine.dialect.server_version_info or ()
        stats["server_version"] = ".".join(str(v) for v in version)
        return stats

    def _insert(self, model: Any, rows: list[dict[str, Any]]) -> None:
        from sqlalchemy import insert

        from community.extensions import db

        for start in range(0, len(rows), INSERT_ROWS):
            db.session.execute(insert(model), rows[start : start + INSERT_ROWS])
        db.session.commit()

    def _users(self) -> None:
        from community.accounts.models import User
        from community.spaces.models import Space

        template = User(username="x", username_key="x", email="x")
        template.set_password("bench")
        names = {
            AUTHOR_ID: "bench.author",
            READER_ID: "bench.reader",
            ANSWERER_ID: "bench.answerer",
        }
        names.update({i: f"actor.{i}" for i in ACTOR_IDS})
        names.update({i: f"follower.{i}" for i in self.follower_ids})
        names.update({i: f"reader.{i}" for i in self.digest_ids})
        joined = self.now - timedelta(days=400)
        self._insert(
            User,
            [
                {
                    "id": i,
                    "username": name,
                    "username_key": name,
                    "email": f"{name}@example.com",
                    "password_hash": template.password_hash,
                    "role": "member",
                    "is_staff": False,
                    "email_confirmed_at": joined,
                    "created_at": joined,
                    "locale": "it" if i % 4 == 0 else "en",  # emails in both languages
                    "bio": "",
                    "active": True,
                }
                for i, name in names.items()
            ],
        )
        self._insert(
            Space,
            [
                {
                    "id": SPACE_ID,
                    "slug": "routers",
                    "title": "Routers",
                    "description": "",
                    "visibility": "public",
                    "default_kind": "question",
                    "position": 1,
                    "created_at": joined,
                }
            ],
        )

    def _topics(self) -> None:
        """``inbox-topics`` topics whose answers the reader was told about (one answer per
        inbox notification), the fan-out topic and a warm-up topic."""
        from community.topics.models import Post, Topic
        from community.topics.services import slugify

        rng = self.rng
        start = self.now - timedelta(days=365)
        n_answers = max(self.args.inbox, self.args.digest_size)
        topics, posts = [], []
        for topic_id in range(1, self.warmup_topic_id + 1):
            title = self.text.title("question")[:200]
            created = start + timedelta(minutes=topic_id)
            author = AUTHOR_ID if topic_id > self.n_topics else rng.choice(ACTOR_IDS)
            topics.append(
                {
                    "id": topic_id,
                    "space_id": SPACE_ID,
                    "author_id": author,
                    "kind": "question",
                    "title": title,
                    "slug": slugify(title),
                    "created_at": created,
                    "last_activity_at": created,
                    "reply_count": 0,
                }
            )
            posts.append(self._post(topic_id, topic_id, author, created, opening=True))
        # Answers spread over the year, round-robin over the inbox topics.
        for i in range(n_answers):
            topic_id = i % self.n_topics + 1
            created = start + timedelta(days=1) + (self.now - start) * (i / n_answers) * 0.99
            post_id = self.warmup_topic_id + 1 + i
            posts.append(self._post(post_id, topic_id, rng.choice(ACTOR_IDS), created))
            topics[topic_id - 1]["reply_count"] += 1
            topics[topic_id - 1]["last_activity_at"] = created
            self.answers.append((post_id, topic_id, created))
        self._insert(Topic, topics)
        self._insert(Post, posts)

    def _post(
        self, post_id: int, topic_id: int, author: int, created: Any, opening: bool = False
    ) -> dict[str, Any]:
        source = self.text.post(opening, corpus.post_length(self.rng, opening))
        return {
            "id": post_id,
            "topic_id": topic_id,
            "author_id": author,
            "is_opening": opening,
            "body_source": source,
            "body_html": plain_html(source),
            "created_at": created,
        }

    def _follows(self) -> None:
        from community.notifications.models import Follow

        created = self.now - timedelta(days=30)
        self._insert(
            Follow,
            [
                {
                    "user_id": user_id,
                    "target_type": "topic",
                    "target_id": self.fanout_topic_id,
                    "active": True,
                    "created_at": created,
                }
                for user_id in [AUTHOR_ID, *self.follower_ids]
            ],
        )

    def _notification(
        self, user_id: int, post_id: int, topic_id: int, created: Any, **values: Any
    ) -> dict[str, Any]:
        return {
            "user_id": user_id,
            "kind": "reply",
            "key": f"post:{post_id}",
            "group_key": f"topic:{topic_id}",
            "actor_id": self.rng.choice(ACTOR_IDS),
            "topic_id": topic_id,
            "post_id": post_id,
            "data": {},
            "url": None,
            "created_at": created,
            "read_at": None,
            "emailed_at": None,
            **values,
        }

    def _inbox(self) -> None:
        """The reader was told about every answer (K): the older half read, a topic's group at
        once (as opening a notification does), the newer half unread."""
        from community.notifications.models import Notification

        half = self.args.inbox // 2
        read_at = {
            topic_id: self.now - timedelta(days=100, minutes=topic_id)
            for topic_id in range(1, self.n_topics + 1)
        }
        rows = [
            self._notification(
                READER_ID,
                post_id,
                topic_id,
                created,
                delivery="app",
                read_at=read_at[topic_id] if i < half else None,
            )
            for i, (post_id, topic_id, created) in enumerate(self.answers[: self.args.inbox])
        ]
        self._insert(Notification, rows)

    def _digests(self) -> None:
        """Each digest reader has ``digest-size`` unread notifications of the last day waiting
        for the daily digest."""
        from community.notifications.models import Notification

        rows = []
        for user_id in self.digest_ids:
            picks = self.rng.sample(self.answers, k=self.args.digest_size)
            for post_id, topic_id, _created in picks:
                created = self.now - timedelta(minutes=self.rng.randint(1, 24 * 60))
                rows.append(
                    self._notification(user_id, post_id, topic_id, created, delivery="daily")
                )
        self._insert(Notification, rows)

    def _fix_sequences(self) -> None:
        """Rows went in with their ids: move PostgreSQL's sequences past them."""
        from sqlalchemy import text

        from community.extensions import db

        if db.engine.dialect.name != "postgresql":
            return
        for table in ("users", "spaces", "topics", "posts", "notifications"):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )
        db.session.commit()


# --- 1. fan-out ------------------------------------------------------------------------------


def answer(app: Any, topic_id: int, body: str) -> tuple[int, float, float, Counter[str]]:
    """``create_post`` as the answerer (a request of its own): the post's id, the seconds of
    the whole call and of what follows its commit (the event hooks), and its SQL."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from community.extensions import db
    from community.topics.models import Topic
    from community.topics.services import create_post

    committed: list[float] = []

    def on_commit(session: Session) -> None:
        committed.append(time.perf_counter())

    with request_as(app, ANSWERER_ID) as author:
        topic = db.session.get_one(Topic, topic_id)
        event.listen(Session, "after_commit", on_commit)
        try:
            with count_sql(app) as sql:
                t0 = time.perf_counter()
                post = create_post(author, topic, body)
                t1 = time.perf_counter()
        finally:
            event.remove(Session, "after_commit", on_commit)
        after_commit = t1 - committed[0] if committed else 0.0
        return post.id, t1 - t0, after_commit, sql


def process_events(app: Any) -> tuple[list[int], float]:
    """Run the queued ``process_event`` tasks (and drop the other tasks the answer queued,
    for search); returns the events' ids and the seconds."""
    tasks = drain(app)
    events = task_named(tasks, ".process_event")
    return [t.args[0] for t in events], run_tasks(app, events)


def measure_fanout(app: Any, data: Data) -> dict[str, Any]:
    from sqlalchemy import func, select

    from community.extensions import db
    from community.notifications import service
    from community.notifications.models import Notification, NotificationEvent

    web_ms = []
    for i in range(WARMUP_ANSWERS):
        _post_id, seconds, _after, _sql = answer(
            app, data.warmup_topic_id, f"Warm-up answer {i}: did a factory reset, it works."
        )
        process_events(app)
        web_ms.append(seconds * 1000)
    body = data.text.post(False, 80)
    post_id, seconds, after_commit, web_sql = answer(app, data.fanout_topic_id, body)
    tasks = drain(app)
    events = task_named(tasks, ".process_event")
    with app.app_context():
        pending_events = db.session.scalar(select(func.count()).select_from(NotificationEvent))
    if len(events) != 1 or pending_events != 1:
        sys.exit(f"expected one event after the answer: {len(events)} queued, {pending_events}")
    totals: dict[str, float] = {}
    calls: Counter[str] = Counter()
    with (
        timing(service, "add_notifications", totals, calls),
        timing(service, "may_see", totals, calls),
        timing(service, "_insert_ignoring_duplicates", totals, calls),
        timing(service, "dispatch", totals, calls),
        count_sql(app) as sql,
    ):
        worker_seconds = run_tasks(app, events)
    with app.app_context():
        written = db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.post_id == post_id)
        )
        emails = db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.post_id == post_id, Notification.delivery == "email")
        )
    followers = len(data.follower_ids) + 1  # and the topic's author
    if written != followers:
        sys.exit(f"process_event wrote {written} notifications for {followers} followers")
    return {
        "followers": followers,
        "notifications": written,
        "email_notifications": emails,
        "web_ms": seconds * 1000,
        "web_after_commit_ms": after_commit * 1000,
        "web_sql": web_sql["total"],
        "web_warm_median_ms": statistics.median(web_ms),
        "worker_ms": worker_seconds * 1000,
        "notifications_per_second": (written or 0) / worker_seconds,
        "worker_sql": sql["total"],
        "worker_sql_by_kind": dict(sql),
        "add_notifications_ms": totals.get("add_notifications", 0) * 1000,
        "may_see_ms": totals.get("may_see", 0) * 1000,
        "may_see_calls": calls["may_see"],
        "insert_ms": totals.get("_insert_ignoring_duplicates", 0) * 1000,
        "dispatch_ms": totals.get("dispatch", 0) * 1000,
    }


# --- 2. emails -------------------------------------------------------------------------------


def measure_emails(app: Any) -> dict[str, Any]:
    """The ``email_notification`` tasks the fan-out queued, then the ``deliver`` tasks those
    queued (MAIL_BACKEND memory)."""
    from community.mail import outbox

    outbox(app).clear()
    render = task_named(drain(app), ".email_notification")
    with count_sql(app) as render_sql:
        render_seconds = run_tasks(app, render)
    deliver = task_named(drain(app), ".deliver")
    with count_sql(app) as deliver_sql:
        deliver_seconds = run_tasks(app, deliver)
    sent = len(outbox(app))
    if not render or sent != len(render):
        sys.exit(f"{len(render)} email tasks ran but {sent} messages were sent")
    n = len(render)
    return {
        "emails": n,
        "render_ms": render_seconds * 1000,
        "render_ms_each": render_seconds * 1000 / n,
        "render_sql_each": render_sql["total"] / n,
        "deliver_ms": deliver_seconds * 1000,
        "deliver_ms_each": deliver_seconds * 1000 / n,
        "deliver_sql_each": deliver_sql["total"] / n,
        "message_bytes": statistics.median(len(bytes(m)) for m in outbox(app)),
    }


# --- 3. inbox --------------------------------------------------------------------------------


def page_times(app: Any, user_id: int, runs: int) -> tuple[list[float], int]:
    """``GET /notifications`` signed in as ``user_id``: the times of ``runs`` requests after a
    warm-up one (ms), and the SQL statements of the last."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    times = []
    statements = 0
    for i in range(runs + 1):
        with count_sql(app) as sql:
            t0 = time.perf_counter()
            response = client.get("/notifications")
            elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != 200 or b"notification-list" not in response.data:
            sys.exit(f"GET /notifications: {response.status_code}, no notifications listed")
        statements = sql["total"]
        if i:  # the first one warms up
            times.append(elapsed)
    return times, statements


def measure_inbox(app: Any, data: Data, runs: int) -> dict[str, Any]:
    from community.notifications import service

    count_ms = []
    unread = 0
    for i in range(runs + 1):
        with request_as(app, READER_ID) as reader:
            t0 = time.perf_counter()
            unread = service.unread_count(reader)
            elapsed = (time.perf_counter() - t0) * 1000
        if i:
            count_ms.append(elapsed)
    page_ms, page_sql = page_times(app, READER_ID, runs)
    # The same page for a digest reader, whose inbox holds a few notifications: what the page
    # costs whatever the size of the inbox.
    small_ms, _small_sql = page_times(app, data.digest_ids[0], runs)
    return {
        "runs": runs,
        "unread_shown": unread,
        "unread_count_median_ms": statistics.median(count_ms),
        "unread_count_p95_ms": percentile(count_ms, 95),
        "page_median_ms": statistics.median(page_ms),
        "page_p95_ms": percentile(page_ms, 95),
        "page_sql": page_sql,
        "small_page_median_ms": statistics.median(small_ms),
    }


# --- 4. digests ------------------------------------------------------------------------------


def measure_digests(app: Any) -> dict[str, Any]:
    from community.notifications.delivery import send_digests

    drain(app)
    with app.app_context(), count_sql(app) as sql:
        t0 = time.perf_counter()
        sent = send_digests("daily")
        seconds = time.perf_counter() - t0
    queued = len(task_named(drain(app), ".deliver"))
    if not sent or queued != sent:
        sys.exit(f"{sent} digests built but {queued} messages queued")
    return {
        "digests": sent,
        "ms": seconds * 1000,
        "ms_each": seconds * 1000 / sent,
        "sql_each": sql["total"] / sent,
    }


# --- report ----------------------------------------------------------------------------------


def report(results: dict[str, Any]) -> str:
    gen = results["generated"]
    fan = results["fanout"]
    mail = results["emails"]
    inbox = results["inbox"]
    digest = results["digests"]
    args = results["options"]
    db_name = "SQLite" if gen["dialect"] == "sqlite" else f"PostgreSQL {gen['server_version']}"
    if gen.get("autovacuum") == "off":
        db_name += " (autovacuum off; ANALYZE run after the load)"
    machine = results["machine"]
    rows = [
        (
            "fan-out: create_post (web)",
            fmt_ms(fan["web_ms"]),
            f"of which after the commit (hooks: auto-follow, event row) "
            f"{fmt_ms(fan['web_after_commit_ms'])}; {fan['web_sql']} SQL; "
            f"median of {WARMUP_ANSWERS} answers before it {fmt_ms(fan['web_warm_median_ms'])}",
        ),
        (
            "fan-out: process_event (worker)",
            fmt_ms(fan["worker_ms"]),
            f"{fan['notifications']:,} notifications for {fan['followers']:,} followers · "
            f"{fan['notifications_per_second']:,.0f} notifications/s · {fan['worker_sql']} SQL",
        ),
        (
            "  add_notifications",
            fmt_ms(fan["add_notifications_ms"]),
            f"of which may_see × {fan['may_see_calls']:,} {fmt_ms(fan['may_see_ms'])}, "
            f"INSERT … RETURNING {fmt_ms(fan['insert_ms'])}",
        ),
        (
            "  dispatch",
            fmt_ms(fan["dispatch_ms"]),
            f"queueing {fan['email_notifications']:,} email tasks",
        ),
        (
            "emails: render + queue",
            f"{mail['render_ms_each']:.2f} ms each",
            f"{mail['emails']:,} email_notification tasks in {mail['render_ms'] / 1000:.1f} s · "
            f"{mail['render_sql_each']:.1f} SQL each · {mail['message_bytes']:,.0f} bytes",
        ),
        (
            "emails: send (memory)",
            f"{mail['deliver_ms_each']:.2f} ms each",
            f"{mail['emails']:,} deliver tasks in {mail['deliver_ms'] / 1000:.1f} s · "
            f"{mail['deliver_sql_each']:.1f} SQL each",
        ),
        (
            "inbox: unread_count",
            f"{inbox['unread_count_median_ms']:.2f} ms",
            f"p95 {inbox['unread_count_p95_ms']:.2f} ms over {inbox['runs']} runs "
            f"(shows {inbox['unread_shown']}, capped at 100)",
        ),
        (
            "inbox: GET /notifications",
            fmt_ms(inbox["page_median_ms"]),
            f"p95 {fmt_ms(inbox['page_p95_ms'])} over {inbox['runs']} runs · "
            f"{inbox['page_sql']} SQL · with {args['digest_size']} notifications "
            f"{fmt_ms(inbox['small_page_median_ms'])}",
        ),
        (
            "digests: send_digests(daily)",
            f"{digest['ms_each']:.2f} ms each",
            f"{digest['digests']:,} digests of {args['digest_size']} in "
            f"{digest['ms'] / 1000:.1f} s · {digest['sql_each']:.1f} SQL each",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    lines = [
        f"{db_name} · {args['followers']:,} followers · inbox of {args['inbox']:,} "
        f"notifications over {args['inbox_topics']} topics · {args['digest_users']:,} digests "
        f"of {args['digest_size']} · seed {args['seed']}",
        f"data: inserted in {gen['seconds']:.1f} s",
        "",
    ]
    lines += [f"{name:<{width}}  {value:>{value_width}}  {note}" for name, value, note in rows]
    lines += [
        "",
        machine_line(machine),
    ]
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--followers", type=int, default=2000, metavar="F", help="followers of the topic"
    )
    parser.add_argument(
        "--inbox", type=int, default=20_000, metavar="K", help="notifications in one inbox"
    )
    parser.add_argument(
        "--inbox-topics", type=int, default=500, help="topics the inbox's notifications are about"
    )
    parser.add_argument(
        "--digest-users", type=int, default=500, metavar="D", help="daily digests to build"
    )
    parser.add_argument(
        "--digest-size", type=int, default=20, help="notifications waiting in each digest"
    )
    parser.add_argument(
        "--runs", type=int, default=30, help="timed runs of unread_count and the inbox page"
    )
    parser.add_argument(
        "--database-url",
        help="database to fill (its tables are DROPPED); default: SQLite in a temporary folder",
    )
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same data")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the report")
    parser.add_argument("--json-out", metavar="FILE", help="also write the JSON to FILE")
    args = parser.parse_args(argv)
    counts = (args.followers, args.inbox, args.inbox_topics, args.digest_users, args.digest_size)
    if min(*counts, args.runs) < 1:
        parser.error("the counts must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.database_url:
        check_database_url(args.database_url)
    load_before = os.getloadavg()[0]
    workdir = tempfile.mkdtemp(prefix="community-bench-notif-")
    try:
        from community import create_app
        from community.extensions import db

        app = create_app(make_config(args, workdir))
        log(f"data: {args.followers:,} followers, inbox of {args.inbox:,}, in {workdir}")
        data = Data(args)
        with app.app_context():
            generated = data.run()
        log(f"data: {generated['seconds']:.1f} s")
        results: dict[str, Any] = {"options": vars(args), "generated": generated}
        measure_start = time.perf_counter()
        cpu_start = cpu_seconds()
        log("fan-out…")
        results["fanout"] = measure_fanout(app, data)
        log("emails…")
        results["emails"] = measure_emails(app)
        log("inbox…")
        results["inbox"] = measure_inbox(app, data, args.runs)
        log("digests…")
        results["digests"] = measure_digests(app)
        with app.app_context():
            db.engine.dispose()
        results["machine"] = machine_summary(load_before, cpu_start, measure_start)
    finally:
        clean_up(args, workdir)
    return publish(args, results, report)


if __name__ == "__main__":
    sys.exit(main())
