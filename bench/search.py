"""Search benchmark: index build rate, query latency, page latency and update-to-visible delay.

    python bench/search.py --posts 10000 --backend whoosh [--database-url URL] [--queries N]

A fresh app in a temporary instance folder, with a database of its own (a SQLite file there,
or ``--database-url``, whose tables are dropped and created again), is filled with realistic
forum text (see ``bench/corpus.py``); then the numbers are measured and printed. See
``bench/README.md`` for what each number means. This is a measuring tool, not a test: it
fails only when something does not work at all.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``community`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpus  # noqa: E402

PROTECTED_DATABASES = {"test", "helper_pg"}
MEMBER = "bench.member"
PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105 - cheap: the benchmark never checks a password

# slug, title, visibility, default kind, parent slug, language
SPACES = [
    ("routers", "Routers", "public", "question", None, "en"),
    ("mesh-wifi", "Mesh Wi-Fi", "public", "question", "routers", "en"),
    ("mobile-app", "Mobile app", "public", "question", None, "en"),
    ("billing", "Account & billing", "public", "question", None, "en"),
    ("ideas", "Ideas & feedback", "public", "idea", None, "en"),
    ("italia", "Community Italia", "public", "question", None, "it"),
    ("assistenza", "Assistenza router", "public", "question", "italia", "it"),
    ("beta", "Beta program", "members", "discussion", None, "en"),
    ("staff-lounge", "Staff lounge", "staff", "discussion", None, "en"),
]
QUESTION_SPACES_EN = ["routers", "routers", "mesh-wifi", "mobile-app", "billing", "beta"]
QUESTION_SPACES_IT = ["italia", "assistenza", "assistenza"]
ANSWER_COUNTS = [0, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 11]  # mean 4.4: ~5 posts a topic
VOTE_COUNTS = [0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 5, 8]

# The fixed query set: (label, text, options). Options: sort, page, kind, solved, tag.
QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    ("common", "router", {}),
    ("common", "wifi", {}),
    ("common", "password", {}),
    ("common", "firmware", {}),
    ("common", "the", {}),
    ("rare", "quokka", {}),
    ("rare", "thermistor", {}),
    ("rare", "pettirosso", {}),
    ("rare", "xylophone", {}),
    ("words", "slow wifi", {}),
    ("words", "firmware update router", {}),
    ("words", "guest network printer", {}),
    ("words", "port forwarding game server", {}),
    ("phrase", '"factory reset"', {}),
    ("phrase", '"bridge mode"', {}),
    ("phrase", '"double NAT"', {}),
    ("or", "modem OR router", {}),
    ("or", "satellite OR mesh OR roaming", {}),
    ("not", "wifi -mesh", {}),
    ("not", "password NOT reset", {}),
    ("italian", "aggiornamento firmware", {}),
    ("italian", "rete ospiti stampante", {}),
    ("italian", '"modalità bridge"', {}),
    ("italian", "velocità lenta", {}),
    ("fallback", "router pettirosso xylophone", {}),
    ("sorted", "router", {"sort": "newest"}),
    ("sorted", "wifi", {"sort": "votes"}),
    ("paged", "password", {"page": 5}),
    ("filtered", "firmware", {"kind": "question", "solved": True}),
    ("filtered", "wifi", {"tag": "mesh"}),
]
HOSTILE: list[tuple[str, str, dict[str, Any]]] = [
    ("hostile", "*", {}),
    ("hostile", "a*", {}),
    ("hostile", "*e*", {}),
    ("hostile", '"unbalanced', {}),
    ("hostile", "AND", {}),
    ("hostile", " ".join(["router", "wifi", "password", "the", "firmware"] * 400), {}),
    ("hostile", "'; DROP TABLE topics; --", {}),
    (
        "hostile",  # 16 common words no topic has all: the "any of the words" search of 16
        "router wifi password firmware update network reset modem app device settings "
        "channel speed mesh satellite cable",
        {},
    ),
    ("hostile", "OR OR NOT - -- \"\" ''", {}),
    ("hostile", "x" * 5000, {}),
    ("hostile", '"' + "the router of a " * 30 + '"', {}),
    ("hostile", "\x00wifi\x1b[2J \u202erouter \U0001f600 wi-fi e-mail 2.4 5GHz", {}),
]
PAGE_QUERIES = [
    "router",
    "firmware update router",
    '"factory reset"',
    "aggiornamento firmware",
    "quokka",
]


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p99 of 150 samples is the second largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_line(machine: dict) -> str:
    """The report's "machine" line from :func:`machine_summary`'s dict."""
    return (
        f"machine: {machine['cpus']} CPUs · load average {machine['load_before']:.1f} at the "
        f"start, {machine['load_after']:.1f} at the end · this process was on a CPU "
        f"{machine['cpu_share']:.0%} of its {machine['seconds']:.0f} s"
    )


def machine_summary(load_before: float, cpu_start: float, measure_start: float) -> dict:
    """The machine's share of a run, for the report's "machine" line: CPUs, load average
    before and now, wall seconds since ``measure_start`` and the share of them on a CPU."""
    wall = time.perf_counter() - measure_start
    return {
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "seconds": wall,
        "cpu_share": (cpu_seconds() - cpu_start) / wall,
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def dir_size_mb(path: str) -> float:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total / 2**20


def code_fingerprint() -> str:
    """A hash of ``community/search/*.py``: which version of the search code was measured."""
    import hashlib

    import community.search

    folder = Path(community.search.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def make_config(args: argparse.Namespace, workdir: str) -> dict[str, Any]:
    url = args.database_url or "sqlite:///" + os.path.join(workdir, "bench.db")
    return {
        "SEARCH_BACKEND": args.backend,
        "TASKS_URL": "memory://",
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "bench",
        "DATABASE_URL": url,
        "INSTANCE_PATH": os.path.join(workdir, "instance"),
        "PASSWORD_HASH_METHOD": PASSWORD_HASH_METHOD,
    }


def check_database_url(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not parts.scheme.startswith("sqlite") and name in PROTECTED_DATABASES:
        sys.exit(f"refusing to use the database {name!r}: its tables would be dropped")


# --- 1. data ----------------------------------------------------------------------------------


def reset_schema() -> None:
    """Drop every table of the benchmark database (also tables no model describes) and create
    the schema again."""
    from community.extensions import db
    from community.testing import drop_every_table

    drop_every_table()
    db.create_all()


def plain_html(source: str) -> str:
    """Stand-in for the rendered HTML (search never reads it; rendering 100k posts with
    ``render_markdown`` takes minutes): paragraphs of escaped text."""
    return "".join(f"<p>{escape(p)}</p>" for p in source.split("\n\n"))


class Generator:
    """Users, spaces, topics, posts, tags and votes, inserted in bulk a chunk at a time."""

    CHUNK_TOPICS = 2000

    def __init__(self, n_posts: int, seed: int, render: Callable[[str], str]) -> None:
        from community.dbtypes import utcnow
        from community.topics.services import slugify

        self.slugify = slugify
        self.n_posts = n_posts
        self.rng = random.Random(seed)
        self.render = render
        tail = corpus.make_tail(random.Random(f"tail-{seed}"))
        self.text = {lang: corpus.Text(self.rng, lang, tail) for lang in ("en", "it")}
        self.now = utcnow().replace(microsecond=0)
        self.start = self.now - timedelta(days=730)
        self.stats: dict[str, Any] = {"posts": 0, "topics": 0, "votes": 0, "words": 0}
        self.rare_posts: dict[str, list[int]] = {}

    def run(self) -> dict[str, Any]:
        from community.extensions import db
        from community.topics.recount import recount_spaces

        t0 = time.perf_counter()
        self._people_and_spaces()
        n_topics_estimate = max(1, self.n_posts // 5)
        # Topics that get a planted rare word (in spaces a member sees).
        rare_at = {
            word: sorted(self.rng.sample(range(n_topics_estimate), corpus.RARE_TOPICS))
            for word in corpus.RARE_WORDS
        }
        self.rare_index = {i: w for w, ids in rare_at.items() for i in ids}
        rows = self._empty_rows()
        topic_index = 0
        while self.stats["posts"] < self.n_posts:
            self._topic(rows, topic_index, n_topics_estimate)
            topic_index += 1
            if len(rows["topics"]) >= self.CHUNK_TOPICS:
                self._insert(rows)
                rows = self._empty_rows()
        self._insert(rows)
        recount_spaces()
        db.session.commit()
        self.stats["seconds"] = time.perf_counter() - t0
        self.stats["rare_words"] = self.rare_posts
        return self.stats

    # --- people and places -------------------------------------------------------------------

    def _people_and_spaces(self) -> None:
        from sqlalchemy import insert

        from community.accounts.models import User
        from community.extensions import db
        from community.spaces.models import Space
        from community.topics.models import Tag

        rng = self.rng
        template = User(username="x", username_key="x", email="x")
        template.set_password("bench")
        users: list[dict[str, Any]] = []
        n_users = max(60, self.n_posts // 10)
        self.staff_ids: list[int] = []
        self.members_en: list[int] = []
        self.members_it: list[int] = []
        for i in range(1, n_users + 1):
            if i == 1:
                name, role, staff = "bench.admin", "admin", True
            elif i == 2:
                name, role, staff = MEMBER, "member", False
            elif i <= 8:
                name, role, staff = f"staff.{i}", "member", True
            else:
                name, role, staff = f"user.{i}", "member", False
            joined = self.start - timedelta(days=rng.randint(1, 400))
            users.append(
                {
                    "id": i,
                    "username": name,
                    "username_key": name,
                    "email": f"{name}@example.com",
                    "password_hash": template.password_hash,
                    "role": role,
                    "is_staff": staff,
                    "email_confirmed_at": joined,
                    "created_at": joined,
                    "locale": "it" if i % 4 == 0 else "en",
                    "bio": "",
                    "active": True,
                }
            )
            if staff:
                self.staff_ids.append(i)
            elif i > 2:
                (self.members_it if i % 4 == 0 else self.members_en).append(i)
        self.user_ids = list(range(1, n_users + 1))
        db.session.execute(insert(User), users)

        self.space_ids: dict[str, int] = {}
        self.space_lang: dict[str, str] = {}
        spaces = []
        for position, (slug, title, visibility, kind, parent, lang) in enumerate(SPACES, 1):
            self.space_ids[slug] = position
            self.space_lang[slug] = lang
            spaces.append(
                {
                    "id": position,
                    "slug": slug,
                    "title": title,
                    "description": "",
                    "visibility": visibility,
                    "default_kind": kind,
                    "parent_id": self.space_ids[parent] if parent else None,
                    "position": position,
                    "created_at": self.start,
                }
            )
        db.session.execute(insert(Space), spaces)
        self.tag_ids = {name: i for i, name in enumerate(corpus.TAGS, 1)}
        db.session.execute(insert(Tag), [{"id": i, "name": n} for n, i in self.tag_ids.items()])
        self.next_post_id = 1
        self.next_vote_id = 1

    # --- topics ------------------------------------------------------------------------------

    @staticmethod
    def _empty_rows() -> dict[str, list[dict[str, Any]]]:
        return {"topics": [], "topic_tags": [], "posts": [], "votes": [], "accepted": []}

    def _topic(self, rows: dict[str, list[dict[str, Any]]], index: int, n_topics: int) -> None:
        rng = self.rng
        roll = rng.random()
        kind = "question" if roll < 0.72 else "idea" if roll < 0.9 else "discussion"
        italian = rng.random() < 0.28
        if kind == "idea":
            slug = "ideas" if not italian or rng.random() < 0.5 else "italia"
        elif kind == "discussion":
            slug = rng.choice(["italia"] if italian else ["beta", "routers", "staff-lounge"])
        else:
            slug = rng.choice(QUESTION_SPACES_IT if italian else QUESTION_SPACES_EN)
        lang = "it" if italian else "en"
        if slug == "staff-lounge":
            authors = self.staff_ids
        else:
            authors = self.members_it if italian else self.members_en
        text = self.text[lang]
        topic_id = index + 1
        # Topics are created in id order over two years, a few a day.
        created = self.start + timedelta(seconds=(index + rng.random()) / n_topics * 729 * 86400)
        author = rng.choice(authors)
        title = text.title(kind)[:200]
        topic: dict[str, Any] = {
            "id": topic_id,
            "space_id": self.space_ids[slug],
            "author_id": author,
            "kind": kind,
            "title": title,
            "slug": self.slugify(title),
            "created_at": created,
            "last_activity_at": created,
            "is_pinned": False,
            "is_locked": False,
            "status": rng.choice(["new", "new", "planned", "shipped"]) if kind == "idea" else None,
            "first_answer_at": None,
            "accepted_at": None,
            "accepted_answer_id": None,
            "reply_count": 0,
            "score": 0,
        }
        rows["topics"].append(topic)
        for tag in rng.sample(corpus.TAGS, k=rng.choice((0, 1, 1, 2, 2, 3))):
            rows["topic_tags"].append({"topic_id": topic_id, "tag_id": self.tag_ids[tag]})

        remaining = self.n_posts - self.stats["posts"]
        n_answers = min(rng.choice(ANSWER_COUNTS), remaining - 1)
        rare = self.rare_index.get(index) if slug != "staff-lounge" else None
        opening = self._post(rows, topic, author, text, created, opening=True, rare=rare)
        topic["score"] = opening["score"]
        last = created
        answers = []
        helpers = self.staff_ids + authors
        for _ in range(n_answers):
            last = min(self.now, last + timedelta(minutes=rng.uniform(3, 60 * 30)))
            helper = rng.choice(helpers)
            answers.append(self._post(rows, topic, helper, text, last, opening=False))
        if answers:
            topic["first_answer_at"] = answers[0]["created_at"]
            topic["reply_count"] = len(answers)
            if kind == "question" and rng.random() < 0.45:
                best = max(answers, key=lambda a: (a["score"], -a["id"]))
                delay = timedelta(hours=rng.uniform(1, 48))
                accepted_at = min(self.now, best["created_at"] + delay)
                rows["accepted"].append(
                    {"topic_id": topic_id, "answer_id": best["id"], "accepted_at": accepted_at}
                )
                last = max(last, accepted_at)
        topic["last_activity_at"] = last
        self.stats["topics"] += 1

    def _post(
        self,
        rows: dict[str, list[dict[str, Any]]],
        topic: dict[str, Any],
        author: int,
        text: corpus.Text,
        created: Any,
        *,
        opening: bool,
        rare: str | None = None,
    ) -> dict[str, Any]:
        rng = self.rng
        source = text.post(opening, corpus.post_length(rng, opening))
        if rare:
            source += f"\n\nMaybe related: my neighbour mentioned a {rare} in the wall."
            self.rare_posts.setdefault(rare, []).append(topic["id"])
        post_id = self.next_post_id
        self.next_post_id += 1
        up = down = 0
        k = rng.choice(VOTE_COUNTS) * (3 if topic["kind"] == "idea" and opening else 1)
        for voter in rng.sample(self.user_ids, k=min(k, len(self.user_ids))):
            if voter == author:
                continue
            value = 1 if topic["kind"] == "idea" or rng.random() < 0.85 else -1
            rows["votes"].append(
                {
                    "id": self.next_vote_id,
                    "post_id": post_id,
                    "user_id": voter,
                    "value": value,
                    "created_at": created,
                }
            )
            self.next_vote_id += 1
            up, down = (up + 1, down) if value == 1 else (up, down + 1)
        post = {
            "id": post_id,
            "topic_id": topic["id"],
            "author_id": author,
            "parent_id": None,
            "is_opening": opening,
            "body_source": source,
            "body_html": self.render(source),
            "created_at": created,
            "score": up - down,
            "upvotes": up,
            "downvotes": down,
        }
        rows["posts"].append(post)
        self.stats["posts"] += 1
        self.stats["votes"] += up + down
        self.stats["words"] += len(source.split())
        return post

    def _insert(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        from sqlalchemy import bindparam, insert, update

        from community.extensions import db
        from community.topics.models import Post, Topic, TopicTag, Vote

        table = Topic.__table__
        for model, key in ((Topic, "topics"), (TopicTag, "topic_tags"), (Post, "posts")):
            for start in range(0, len(rows[key]), 2000):
                db.session.execute(insert(model), rows[key][start : start + 2000])
        for start in range(0, len(rows["votes"]), 5000):
            db.session.execute(insert(Vote), rows["votes"][start : start + 5000])
        if rows["accepted"]:
            db.session.execute(
                update(table)
                .where(table.c.id == bindparam("topic_id"))
                .values(
                    accepted_answer_id=bindparam("answer_id"),
                    accepted_at=bindparam("accepted_at"),
                ),
                rows["accepted"],
            )
        db.session.commit()


def fix_sequences() -> None:
    """Rows went in with their ids: move PostgreSQL's sequences past them."""
    from sqlalchemy import text

    from community.extensions import db

    if db.engine.dialect.name != "postgresql":
        return
    for table in ("users", "spaces", "tags", "topics", "posts", "votes"):
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )
    db.session.commit()


def analyze() -> dict[str, Any]:
    """PostgreSQL: refresh the planner's statistics after the bulk load, as autovacuum would
    do within a minute or so (without them the planner believes ``topics`` nearly empty and
    picks plans that read every search document). Returns whether autovacuum is on."""
    from sqlalchemy import text

    from community.extensions import db

    if db.engine.dialect.name != "postgresql":
        return {}
    autovacuum = db.session.scalar(text("SHOW autovacuum"))
    db.session.commit()
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return {"autovacuum": autovacuum}


def generate_main(config: dict[str, Any], n_posts: int, seed: int, render: bool, out: str) -> None:
    """In a process of its own, so that its memory does not count in the index build's peak."""
    from community import create_app
    from community.extensions import db

    app = create_app(config)
    with app.app_context():
        t0 = time.perf_counter()
        reset_schema()
        schema_seconds = time.perf_counter() - t0
        if render:
            from community.markdown import render_markdown

            renderer: Callable[[str], str] = render_markdown
        else:
            renderer = plain_html
        stats = Generator(n_posts, seed, renderer).run()
        fix_sequences()
        stats.update(analyze())
        stats["schema_seconds"] = schema_seconds
        stats["dialect"] = db.engine.dialect.name
        stats["server_version"] = ".".join(str(v) for v in db.engine.dialect.server_version_info)
        stats["peak_rss_mb"] = peak_rss_mb()
        db.engine.dispose()
    with open(out, "w") as fh:
        json.dump(stats, fh)


def generate(config: dict[str, Any], args: argparse.Namespace, workdir: str) -> dict[str, Any]:
    out = os.path.join(workdir, "generated.json")
    ctx = multiprocessing.get_context("spawn")
    process = ctx.Process(
        target=generate_main,
        args=(config, args.posts, args.seed, args.render_html, out),
    )
    process.start()
    process.join()
    if process.exitcode != 0:
        sys.exit(f"generating the data failed (exit code {process.exitcode})")
    with open(out) as fh:
        return json.load(fh)


# --- helpers in the measuring process ---------------------------------------------------------


@contextmanager
def request_as(app: Any, user_id: int) -> Iterator[Any]:
    """A request context with ``user_id`` signed in; yields the user (a fresh session each
    time, as a request has)."""
    from flask_login import login_user

    from community.accounts.models import User
    from community.extensions import db

    with app.test_request_context("/search"):
        user = db.session.get(User, user_id)
        login_user(user)
        yield user


# --- 3. index build ---------------------------------------------------------------------------


def measure_build(app: Any, generated: dict[str, Any]) -> dict[str, Any]:
    from community.search import search_backend
    from community.search.documents import all_documents, count_indexable
    from community.search.indexing import index_lock

    with app.app_context():
        backend = search_backend()
        topics = count_indexable()
        rss_before = rss_mb()
        peak_before = peak_rss_mb()
        t0 = time.perf_counter()
        cpu0 = cpu_seconds()
        with index_lock(wait=True):
            backend.rebuild(all_documents(500))
        seconds = time.perf_counter() - t0
        cpu = cpu_seconds() - cpu0
        peak = peak_rss_mb()
        count = backend.count()
        size = index_size_mb(app, backend)
    if count != topics:
        log(f"WARNING: the index holds {count} documents for {topics} indexable topics")
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "topics": topics,
        "documents": count,
        "posts_per_second": generated["posts"] / seconds,
        "topics_per_second": topics / seconds,
        "rss_before_mb": rss_before,
        "peak_rss_before_mb": peak_before,
        "peak_rss_mb": peak,
        "index_mb": size,
    }


def index_size_mb(app: Any, backend: Any) -> float | None:
    from sqlalchemy import text

    from community.extensions import db

    if backend.name == "whoosh":
        return dir_size_mb(backend.path)
    if db.engine.dialect.name == "postgresql":
        size = db.session.scalar(
            text("SELECT pg_total_relation_size('search_documents') / 1048576.0")
        )
        db.session.rollback()
        return float(size) if size is not None else None
    return None


def measure_queue(app: Any, sample: int) -> dict[str, Any] | None:
    """Topics written through the queue (what the worker does after ``community demo`` or an
    import): queue ``sample`` topics, flush, time it."""
    if sample <= 0:
        return None
    from sqlalchemy import insert, select

    from community.dbtypes import utcnow
    from community.extensions import db
    from community.search.indexing import flush_now
    from community.search.models import SearchQueue
    from community.tasks import task_queue
    from community.topics.models import Topic

    with app.app_context():
        ids = list(db.session.scalars(select(Topic.id).order_by(Topic.id).limit(sample)))
        now = utcnow()
        db.session.execute(insert(SearchQueue), [{"topic_id": i, "queued_at": now} for i in ids])
        db.session.commit()
        t0 = time.perf_counter()
        written = flush_now()
        seconds = time.perf_counter() - t0
        task_queue().huey.flush()
    return {"topics": written, "seconds": seconds, "topics_per_second": written / seconds}


# --- 4. query latency -------------------------------------------------------------------------


def run_query(app: Any, viewer_id: int, text: str, options: dict[str, Any]) -> tuple[float, Any]:
    from community.search.service import make_filters, search_topics

    with request_as(app, viewer_id) as viewer:
        t0 = time.perf_counter()
        filters = make_filters(
            viewer,
            kind=options.get("kind"),
            solved=options.get("solved"),
            tag=options.get("tag"),
        )
        outcome = search_topics(
            viewer, text, filters, options.get("sort", "relevance"), options.get("page", 1)
        )
        return time.perf_counter() - t0, outcome


@contextmanager
def timing_backend(app: Any) -> Iterator[list[float]]:
    """Time every ``backend.search`` call (seconds, appended to the yielded list): what the
    backend costs, as opposed to loading the hits again and making snippets."""
    from community.search import search_backend

    with app.app_context():
        backend = search_backend()
    calls: list[float] = []
    original = backend.search

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            calls.append(time.perf_counter() - t0)

    backend.search = timed
    try:
        yield calls
    finally:
        del backend.search


def measure_queries(app: Any, viewer_id: int, repeat: int) -> dict[str, Any]:
    queries = QUERIES + HOSTILE
    first_ms, _ = run_query(app, viewer_id, "router", {})  # the first search: opens the index
    first_ms *= 1000
    per_query: list[dict[str, Any]] = []
    backend_all: list[float] = []
    for label, text, options in queries:
        _seconds, outcome = run_query(app, viewer_id, text, options)  # warm-up, not counted
        times: list[float] = []
        backend_times: list[float] = []
        with timing_backend(app) as calls:
            for _ in range(repeat):
                calls.clear()
                times.append(run_query(app, viewer_id, text, options)[0] * 1000)
                backend_times.append(sum(calls) * 1000)
        if label != "hostile":
            backend_all.extend(backend_times)
        per_query.append(
            {
                "label": label,
                "query": text,
                "options": options,
                "total": outcome.total,
                "shown": len(outcome.hits),
                "any_words": outcome.any_words,
                "approximate": bool(getattr(outcome, "approximate", False)),
                "message": str(outcome.message) if outcome.message else None,
                "median_ms": statistics.median(times),
                "max_ms": max(times),
                "backend_median_ms": statistics.median(backend_times),
                "times_ms": times,
            }
        )
    normal = [t for q in per_query if q["label"] != "hostile" for t in q["times_ms"]]
    hostile = [t for q in per_query if q["label"] == "hostile" for t in q["times_ms"]]
    return {
        "queries": len(QUERIES),
        "hostile_queries": len(HOSTILE),
        "repeat": repeat,
        "first_search_ms": first_ms,
        "median_ms": statistics.median(normal),
        "backend_median_ms": statistics.median(backend_all),
        "backend_p99_ms": percentile(backend_all, 99),
        "p99_ms": percentile(normal, 99),
        "max_ms": max(normal),
        "hostile_median_ms": statistics.median(hostile),
        "hostile_max_ms": max(hostile),
        "per_query": per_query,
    }


def measure_pages(app: Any, viewer_id: int, repeat: int) -> dict[str, Any]:
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(viewer_id)
        session["_fresh"] = True
    times: list[float] = []
    signed_in = False
    for text in PAGE_QUERIES:
        url = "/search?" + urlencode({"q": text})
        for i in range(repeat + 1):
            t0 = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - t0) * 1000
            if response.status_code != 200:
                sys.exit(f"GET {url}: {response.status_code}")
            signed_in = signed_in or MEMBER in response.get_data(as_text=True)
            if i:  # the first one warms up
                times.append(elapsed)
    if not signed_in:
        log("WARNING: the search page did not show the member as signed in")
    return {
        "queries": len(PAGE_QUERIES),
        "repeat": repeat,
        "median_ms": statistics.median(times),
        "p99_ms": percentile(times, 99),
        "signed_in": signed_in,
    }


# --- 5. update -> visible ---------------------------------------------------------------------


def unique_word(run: int, i: int) -> str:
    """A word no post has, the same in every stemmer: consonants only."""
    letters = "bcdfghjklmnpqrstvwxz"
    out = ""
    n = run * 1000 + i
    while True:
        n, r = divmod(n, len(letters))
        out += letters[r]
        if not n:
            break
    return "zqkx" + out


def measure_updates(app: Any, viewer_id: int, samples: int, seed: int) -> dict[str, Any]:
    from sqlalchemy import event, select
    from sqlalchemy.orm import Session

    from community.extensions import db
    from community.permissions import visible_space_ids
    from community.search.indexing import flush_now
    from community.search.service import make_filters, search_topics
    from community.tasks import task_queue
    from community.topics.models import Post, Topic
    from community.topics.services import edit_post

    rng = random.Random(seed)
    with request_as(app, viewer_id) as viewer:
        visible = visible_space_ids(viewer)
        candidates = list(
            db.session.execute(
                select(Post.id, Post.author_id)
                .join(Topic, Topic.id == Post.topic_id)
                .where(Topic.space_id.in_(visible))
                .order_by(Post.id)
            )
        )
    picks = rng.sample(candidates, k=min(samples, len(candidates)))
    committed: list[float] = []

    def on_commit(session: Session) -> None:
        committed.append(time.perf_counter())

    edit_ms: list[float] = []
    flush_ms: list[float] = []
    search_ms: list[float] = []
    visible_ms: list[float] = []
    misses = 0
    event.listen(Session, "after_commit", on_commit)
    try:
        for i, (post_id, author_id) in enumerate(picks):
            word = unique_word(seed, i)
            with request_as(app, author_id) as author:
                post = db.session.get(Post, post_id)
                committed.clear()
                t0 = time.perf_counter()
                edit_post(author, post, post.body_source + f"\n\nEdit: {word} fixed it.")
                t1 = time.perf_counter()
                t_commit = committed[0] if committed else t1
                topic_id = post.topic_id
            found = False
            deadline = time.perf_counter() + 10
            flushes = searches = 0.0
            while not found and time.perf_counter() < deadline:
                f0 = time.perf_counter()
                with app.app_context():
                    flush_now()
                f1 = time.perf_counter()
                with request_as(app, viewer_id) as viewer:
                    outcome = search_topics(viewer, word, make_filters(viewer))
                    found = topic_id in [hit.topic.id for hit in outcome.hits]
                f2 = time.perf_counter()
                flushes += f1 - f0
                searches += f2 - f1
            if not found:
                misses += 1
                continue
            edit_ms.append((t1 - t0) * 1000)
            flush_ms.append(flushes * 1000)
            search_ms.append(searches * 1000)
            visible_ms.append((time.perf_counter() - t_commit) * 1000)
            with app.app_context():
                task_queue().huey.flush()  # the flush tasks a worker would have run
    finally:
        event.remove(Session, "after_commit", on_commit)
    if not visible_ms:
        return {"samples": len(picks), "misses": misses}
    return {
        "samples": len(picks),
        "misses": misses,
        "median_ms": statistics.median(visible_ms),
        "p99_ms": percentile(visible_ms, 99),
        "max_ms": max(visible_ms),
        "edit_median_ms": statistics.median(edit_ms),
        "flush_median_ms": statistics.median(flush_ms),
        "flush_p99_ms": percentile(flush_ms, 99),
        "search_median_ms": statistics.median(search_ms),
        "visible_times_ms": visible_ms,
        "flush_times_ms": flush_ms,
    }


# --- 6. report --------------------------------------------------------------------------------


def fmt_ms(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def query_line(name: str, q: dict[str, Any]) -> str:
    return (
        f"{name}({q['queries']} queries × {q['repeat']}) median {fmt_ms(q['median_ms'])} · "
        f"p99 {fmt_ms(q['p99_ms'])} · max {fmt_ms(q['max_ms'])} · "
        f"hostile ({q['hostile_queries']}) max {fmt_ms(q['hostile_max_ms'])}"
    )


def report(results: dict[str, Any]) -> str:
    gen = results["generated"]
    build = results["build"]
    q = results["queries"]
    page = results["pages"]
    upd = results["updates"]
    db_name = "SQLite" if gen["dialect"] == "sqlite" else f"PostgreSQL {gen['server_version']}"
    if gen.get("autovacuum") == "off":
        db_name += " (autovacuum off; ANALYZE run after the load)"
    lines = [
        f"backend {results['backend']} · {gen['posts']:,} posts ({gen['topics']:,} topics, "
        f"{gen['words']:,} words) · {db_name} · seed {results['seed']}",
        f"data:             generated and inserted in {gen['seconds']:.1f} s "
        f"({gen['posts'] / gen['seconds']:,.0f} posts/s; {gen['votes']:,} votes)",
        f"index build:      {build['seconds']:.1f} s ({build['cpu_seconds']:.1f} s CPU here) · "
        f"{build['posts_per_second']:,.0f} posts/s · "
        f"{build['topics_per_second']:,.0f} topics/s · peak RSS {build['peak_rss_mb']:,.0f} MB "
        f"(RSS {build['rss_before_mb']:,.0f} MB before)"
        + (f" · index {build['index_mb']:,.1f} MB" if build["index_mb"] is not None else ""),
        query_line("query latency:    ", q) + f" · first search {fmt_ms(q['first_search_ms'])}",
        f"  of which backend.search(): median {fmt_ms(q['backend_median_ms'])} · "
        f"p99 {fmt_ms(q['backend_p99_ms'])} (the rest: permissions, reloading the hits, "
        "snippets)",
        f"page latency:     GET /search ({page['queries']} queries × {page['repeat']}) median "
        f"{fmt_ms(page['median_ms'])} · p99 {fmt_ms(page['p99_ms'])}",
    ]
    if "median_ms" in upd:
        lines.append(
            f"update → visible: ({upd['samples']} edits) median {fmt_ms(upd['median_ms'])} · "
            f"p99 {fmt_ms(upd['p99_ms'])} · max {fmt_ms(upd['max_ms'])}  "
            f"[flush_now {fmt_ms(upd['flush_median_ms'])} · search "
            f"{fmt_ms(upd['search_median_ms'])}; edit_post itself {fmt_ms(upd['edit_median_ms'])}]"
            + (f" · {upd['misses']} NEVER VISIBLE" if upd["misses"] else "")
        )
        lines.append(
            "                  + the worker's pickup delay, not included: up to 1 s with the "
            "SQLite task queue (idle polling), about 0 with Redis"
        )
    else:
        lines.append(f"update → visible: NONE of {upd['samples']} edits became visible")
    queue = results.get("queue")
    if queue:
        lines.append(
            f"queue flush:      {queue['topics']:,} topics in {queue['seconds']:.1f} s · "
            f"{queue['topics_per_second']:,.0f} topics/s (worker path: batches of 200)"
        )
    after = results.get("queries_after_writes")
    if after:
        lines.append(query_line("queries after:    ", after))
    machine = results.get("machine")
    if machine:
        lines.append(
            f"machine:          {machine['cpus']} CPUs · load average {machine['load_before']:.1f}"
            f" at the start, {machine['load_after']:.1f} at the end · this process was on a CPU "
            f"{machine['cpu_share']:.0%} of its {machine['seconds']:.0f} s"
        )
    code = results.get("code")
    if code:
        changed = code["before"] != code["after"]
        lines.append(
            f"search code:      community/search/*.py sha256 {code['before']}"
            + (f" → {code['after']}: CHANGED DURING THE RUN" if changed else "")
        )
    lines.append("")
    lines.append(
        "per query on the fresh index (median / max / backend median ms, hits; ≥: at least)"
    )
    width = max(len(short(item["query"], item["options"])) for item in q["per_query"])
    for item in q["per_query"]:
        note = " (any words)" if item["any_words"] else ""
        if item["message"]:
            note += f" — {item['message']}"
        lines.append(
            f"  {item['label']:<9} {short(item['query'], item['options']):<{width}}  "
            f"{item['median_ms']:8.2f} {item['max_ms']:8.2f} {item['backend_median_ms']:8.2f}  "
            f"{('≥' if item.get('approximate') else '') + format(item['total'], ','):>7}{note}"
        )
    return "\n".join(lines)


def short(text: str, options: dict[str, Any]) -> str:
    shown = text.encode("unicode_escape").decode() if not text.isprintable() else text
    if len(shown) > 40:
        shown = f"{shown[:30]}… ({len(text)} chars)"
    if options:
        shown += " [" + ", ".join(f"{k}={v}" for k, v in options.items()) + "]"
    return shown


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000, help="posts to generate")
    parser.add_argument("--backend", default="whoosh", choices=("whoosh", "postgresql"))
    parser.add_argument(
        "--database-url",
        help="database to fill (its tables are DROPPED); default: SQLite in a temporary folder",
    )
    parser.add_argument(
        "--queries", type=int, default=5, metavar="N", help="times each query runs (default 5)"
    )
    parser.add_argument("--updates", type=int, default=50, help="edits timed until visible")
    parser.add_argument(
        "--queue-sample",
        type=int,
        default=2000,
        help="topics written through the queue to time the worker path (0: skip)",
    )
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same text")
    parser.add_argument(
        "--render-html", action="store_true", help="render body_html with the real Markdown code"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the report")
    parser.add_argument("--json-out", metavar="FILE", help="also write the JSON to FILE")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.database_url:
        check_database_url(args.database_url)
    load_before = os.getloadavg()[0]
    code_before = code_fingerprint()
    workdir = tempfile.mkdtemp(prefix="community-bench-")
    try:
        config = make_config(args, workdir)
        log(f"{args.posts:,} posts, backend {args.backend}, in {workdir}")
        generated = generate(config, args, workdir)
        log(f"data: {generated['posts']:,} posts in {generated['seconds']:.1f} s")

        from sqlalchemy import select

        from community import create_app
        from community.accounts.models import User
        from community.extensions import db

        app = create_app(config)
        with app.app_context():
            viewer_id = db.session.scalar(select(User.id).where(User.username == MEMBER))
        results: dict[str, Any] = {
            "backend": args.backend,
            "seed": args.seed,
            "generated": generated,
        }
        measure_start = time.perf_counter()
        cpu_start = cpu_seconds()
        log("index build…")
        results["build"] = measure_build(app, generated)
        log(f"index build: {results['build']['seconds']:.1f} s")
        log("queries…")
        results["queries"] = measure_queries(app, viewer_id, args.queries)
        log("search page…")
        results["pages"] = measure_pages(app, viewer_id, args.queries)
        log("updates…")
        results["updates"] = measure_updates(app, viewer_id, args.updates, args.seed)
        log("queue flush…")
        results["queue"] = measure_queue(app, args.queue_sample)
        if results["queue"]:
            log("queries again, after the incremental writes…")
            results["queries_after_writes"] = measure_queries(app, viewer_id, args.queries)
        with app.app_context():
            db.engine.dispose()
        results["machine"] = machine_summary(load_before, cpu_start, measure_start)
        results["code"] = {"before": code_before, "after": code_fingerprint()}
    finally:
        clean_up(args, workdir)
    return publish(args, results, report)


def clean_up(args: argparse.Namespace, workdir: str) -> None:
    """Remove the benchmark's temporary folder, unless ``--keep`` asked to keep it."""
    if args.keep:
        log(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def publish(args: argparse.Namespace, results: dict[str, Any], report: Any) -> int:
    """Write the results where the options say (``--json-out`` file, ``--json`` on stdout,
    else the report as text); the exit status of a benchmark that ran."""
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(results, fh, indent=2, default=str)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
