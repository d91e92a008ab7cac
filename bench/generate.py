"""Data generator: fill a database with a realistic community at a given scale.

    python bench/generate.py --size S|M|L [--posts N] [--seed S] [--end YYYY-MM-DD]
                             [--database-url URL | --sqlite FILE] [--reset] [--render-html]

A home-networking brand's community in English and Italian (text from ``bench/corpus.py``):
members whose activity follows a power law (a few write most posts), a tree of spaces with an
Italian one, questions with 0 to N answers (about 60% of the answered ones accepted) and
comments, ideas with up votes and statuses, discussions, votes, tags, follows, flags (when the
moderation plugin's tables exist) and the points ledger (when the gamification plugin's
tables exist), spread over the two years before ``--end``.

Rows go in with their ids, a chunk of topics at a time (SQLAlchemy Core executemany), and
every counter is computed here as the rows are made (post scores and votes, topic reply
counts, scores, first answer and last activity) or in SQL afterwards (spaces' counts, and the
points, which the gamification plugin's own rebuild works out from the rows). No event is
fired and the search index is not built: run ``community search reindex`` afterwards.

The same seed and end date give the same rows (password hashes aside: they are salted);
:func:`checksum` proves it. Sizes: S = 10,000 posts, M = 100,000, L = 1,000,000.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``community`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpus  # noqa: E402
from bench.search import PROTECTED_DATABASES, plain_html  # noqa: E402

SIZES = {"S": 10_000, "M": 100_000, "L": 1_000_000}
DAYS = 730  # the community's age at the end date
CHUNK_TOPICS = 2000  # topics (with their posts, votes...) generated and inserted at a time
INSERT_ROWS = 5000  # rows per executemany

# slug, title, description, visibility, default kind, parent slug, language
SPACES = [
    (
        "routers",
        "Routers",
        "Set-up and firmware of NetHome routers.",
        "public",
        "question",
        None,
        "en",
    ),
    (
        "mesh-wifi",
        "Mesh Wi-Fi",
        "Satellites, roaming, coverage.",
        "public",
        "question",
        "routers",
        "en",
    ),
    ("extenders", "Extenders", "The Extender E5.", "public", "question", "mesh-wifi", "en"),
    ("mobile-app", "Mobile app", "The NetHome app.", "public", "question", None, "en"),
    (
        "billing",
        "Account & billing",
        "Subscriptions and invoices.",
        "public",
        "question",
        None,
        "en",
    ),
    ("ideas", "Ideas & feedback", "Suggest features, vote.", "public", "idea", None, "en"),
    (
        "italia",
        "Community Italia",
        "Domande e discussioni in italiano.",
        "public",
        "question",
        None,
        "it",
    ),
    ("assistenza", "Assistenza router", "Router e firmware.", "public", "question", "italia", "it"),
    ("idee", "Idee e suggerimenti", "Proponete e votate.", "public", "idea", "italia", "it"),
    (
        "beta",
        "Beta program",
        "Early firmware for beta testers.",
        "members",
        "discussion",
        None,
        "en",
    ),
    ("staff-lounge", "Staff lounge", "Internal notes.", "staff", "discussion", None, "en"),
]
QUESTION_SPACES = {
    "en": ["routers", "routers", "routers", "mesh-wifi", "mesh-wifi", "extenders", "mobile-app",
           "mobile-app", "billing", "beta"],
    "it": ["italia", "assistenza", "assistenza"],
}  # fmt: skip
IDEA_SPACES = {"en": ["ideas"], "it": ["idee"]}
DISCUSSION_SPACES = {
    "en": ["routers", "beta", "beta", "mobile-app", "staff-lounge"],
    "it": ["italia"],
}
ITALIAN = 0.25  # share of topics in Italian
KINDS = [("question", 0.65), ("idea", 0.2), ("discussion", 0.15)]
ANSWERS = {
    "question": [0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8],
    "idea": [0, 0, 1, 1, 2, 3, 4, 6],
    "discussion": [0, 1, 2, 3, 4, 6, 9, 14],
}
COMMENTS = 0.18  # share of answers with comments (one or two)
LONG_THREAD_EVERY = 1000  # in each 1,000 topics, the first question has 50 to 60 answers
ACCEPTED = 0.6  # share of answered questions with an accepted answer
IDEA_STATUSES = ["new"] * 10 + ["under_review"] * 3 + ["planned"] * 2 + ["in_progress"]
IDEA_STATUSES += ["shipped", "shipped", "declined"]
FLAGGED = 0.004  # share of posts flagged
FLAG_REASONS = ["spam", "spam", "abusive", "off_topic", "off_topic", "other"]
FLAG_RESOLVED = 0.8
STAFF = 8  # staff accounts after the admin and the moderator
ZIPF_ACTIVITY = 1.1  # exponent of the members' activity


def log(message: str) -> None:
    print(f"[generate] {message}", file=sys.stderr, flush=True)


def _zipf_cum(n: int, s: float) -> list[float]:
    return list(accumulate(1.0 / (rank + 1) ** s for rank in range(n)))


class Generator:
    """Makes the rows and inserts them, a chunk of topics at a time, in the current app's
    database (whose schema exists and whose tables are empty)."""

    def __init__(
        self,
        n_posts: int,
        seed: int = 1,
        end: datetime | None = None,
        render: Callable[[str], str] = plain_html,
        progress: Callable[[int], Any] | None = None,
    ) -> None:
        from sqlalchemy import inspect

        from community.extensions import db
        from community.topics.services import slugify

        self.n_posts = n_posts
        self.seed = seed
        self.rng = random.Random(seed)
        self.render = render
        self.progress = progress
        self.slugify = slugify
        tail = corpus.make_tail(random.Random(f"tail-{seed}"))
        self.text = {lang: corpus.Text(self.rng, lang, tail) for lang in ("en", "it")}
        if end is None:
            end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.end = end
        self.start = end - timedelta(days=DAYS)
        tables = set(inspect(db.engine).get_table_names())
        self.long_thread_due = False
        self.with_flags = "moderation_flags" in tables
        self.with_points = {"gamification_ledger", "gamification_totals"} <= tables
        self.stats: dict[str, Any] = dict.fromkeys(
            ("users", "spaces", "topics", "posts", "answers", "comments", "accepted", "votes",
             "follows", "flags", "ledger_rows"), 0,
        )  # fmt: skip
        self.next_id = {"posts": 1, "votes": 1, "flags": 1}

    # --- the whole run -----------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        from community.extensions import db
        from community.topics.recount import recount_spaces

        t0 = time.perf_counter()
        self._people()
        self._spaces_and_tags()
        # Topics are spread over two years, more of them lately (the community grows): the
        # i-th of n topics is created at sqrt-spaced moments.
        self.n_topics_estimate = max(1, round(self.n_posts / 4.6))
        rows = self._empty_rows()
        index = 0
        while self.stats["posts"] < self.n_posts:
            self._topic(rows, index)
            index += 1
            if len(rows["topics"]) >= CHUNK_TOPICS:
                self._insert(rows)
                rows = self._empty_rows()
        self._insert(rows)
        recount_spaces()
        db.session.commit()
        if self.with_points:
            self.stats["ledger_rows"] = self._points()
        fix_sequences()
        self.stats["seconds"] = time.perf_counter() - t0
        return self.stats

    # --- people ------------------------------------------------------------------------------

    def _people(self) -> None:
        from community.accounts.models import User
        from community.demo import ADMIN, DEMO_PASSWORD, FIRST_NAMES_EN, FIRST_NAMES_IT, MODERATOR

        rng = self.rng

        def hashed(password: str) -> str:
            user = User(username="x", username_key="x", email="x")
            user.set_password(password)
            return user.password_hash

        member_hash = hashed(DEMO_PASSWORD)
        n_users = max(60, self.n_posts // 10)
        rows = []
        self.staff_ids: list[int] = []
        members: dict[str, list[int]] = {"en": [], "it": []}
        for user_id in range(1, n_users + 1):
            role, staff, password_hash = "member", False, member_hash
            locale = "it" if rng.random() < ITALIAN else "en"
            if user_id == 1:
                name, role, staff, password_hash = ADMIN[0], "admin", True, hashed(ADMIN[1])
            elif user_id == 2:
                name, role, password_hash = MODERATOR[0], "moderator", hashed(MODERATOR[1])
            elif user_id <= 2 + STAFF:
                name, staff = f"staff.{user_id}", True
            else:
                first = rng.choice(FIRST_NAMES_IT if locale == "it" else FIRST_NAMES_EN)
                name = f"{first}{rng.choice('._')}{user_id}"
            # Everyone joined before their first post could be written.
            joined = self.start - timedelta(seconds=rng.uniform(1, 400) * 86400)
            rows.append(
                {
                    "id": user_id,
                    "username": name,
                    "username_key": name.lower(),
                    "email": f"{name.lower()}@example.com",
                    "password_hash": password_hash,
                    "role": role,
                    "is_staff": staff,
                    "email_confirmed_at": joined,
                    "created_at": joined,
                    "last_login_at": None,
                    "locale": locale,
                    "bio": "",
                    "active": True,
                }
            )
            if staff:
                self.staff_ids.append(user_id)
            elif user_id > 2:
                members[locale].append(user_id)
        # Power-law activity: a member's rank in a shuffled list sets how much they write.
        self.writers: dict[str, tuple[list[int], list[float]]] = {}
        for lang, ids in members.items():
            ids = ids or members["en"]
            ranked = ids[:]
            rng.shuffle(ranked)
            self.writers[lang] = (ranked, _zipf_cum(len(ranked), ZIPF_ACTIVITY))
        self.n_users = n_users
        self.moderator_id = 2
        bulk_insert(User, rows)
        self.stats["users"] = n_users

    def _writer(self, lang: str) -> int:
        ranked, cum = self.writers[lang]
        return ranked[bisect.bisect(cum, self.rng.random() * cum[-1])]

    # --- spaces and tags ---------------------------------------------------------------------

    def _spaces_and_tags(self) -> None:
        from community.spaces.models import Space, SpaceModerator
        from community.topics.models import Tag

        self.space_ids: dict[str, int] = {}
        spaces, moderators = [], []
        for position, (slug, title, description, visibility, kind, parent, lang) in enumerate(
            SPACES, 1
        ):
            self.space_ids[slug] = position
            spaces.append(
                {
                    "id": position,
                    "slug": slug,
                    "title": title,
                    "description": description,
                    "visibility": visibility,
                    "default_kind": kind,
                    "parent_id": self.space_ids[parent] if parent else None,
                    "position": position,
                    "created_at": self.start,
                    "topic_count": 0,
                    "post_count": 0,
                }
            )
            if visibility == "public":
                # The space's most active writers moderate it.
                ranked = self.writers[lang][0]
                for user_id in ranked[: 2 if lang == "en" else 1]:
                    moderators.append(
                        {"space_id": position, "user_id": user_id, "created_at": self.start}
                    )
        bulk_insert(Space, spaces)
        bulk_insert(SpaceModerator, moderators)
        self.tag_ids = {name: i for i, name in enumerate(corpus.TAGS, 1)}
        bulk_insert(Tag, [{"id": i, "name": name} for name, i in self.tag_ids.items()])
        self.stats["spaces"] = len(spaces)

    # --- topics ------------------------------------------------------------------------------

    @staticmethod
    def _empty_rows() -> dict[str, list[dict[str, Any]]]:
        keys = ("topics", "topic_tags", "posts", "votes", "accepted", "follows", "flags")
        return {key: [] for key in keys}

    def _when(self, index: int) -> datetime:
        share = min(1.0, (index + self.rng.random()) / self.n_topics_estimate)
        return self.start + timedelta(seconds=(share**0.5) * (DAYS - 1) * 86400)

    def _topic(self, rows: dict[str, list[dict[str, Any]]], index: int) -> None:
        rng = self.rng
        roll = rng.random()
        kind = (
            "question" if roll < KINDS[0][1] else "idea" if roll < 1 - KINDS[2][1] else "discussion"
        )
        lang = "it" if rng.random() < ITALIAN else "en"
        pool = {"question": QUESTION_SPACES, "idea": IDEA_SPACES}.get(kind, DISCUSSION_SPACES)
        slug = rng.choice(pool[lang])
        staff_only = slug == "staff-lounge"
        author = rng.choice(self.staff_ids) if staff_only else self._writer(lang)
        text = self.text[lang]
        created = self._when(index)
        title = text.title(kind)[:200]
        topic_id = index + 1
        topic: dict[str, Any] = {
            "id": topic_id,
            "space_id": self.space_ids[slug],
            "author_id": author,
            "kind": kind,
            "title": title,
            "slug": self.slugify(title),
            "created_at": created,
            "last_activity_at": created,
            "is_pinned": index < 2,
            "is_locked": rng.random() < 0.003,
            "status": rng.choice(IDEA_STATUSES) if kind == "idea" else None,
            "first_answer_at": None,
            "accepted_at": None,
            "reply_count": 0,
            "score": 0,
        }
        rows["topics"].append(topic)
        for tag in rng.sample(corpus.TAGS, k=rng.choice((0, 1, 1, 2, 2, 3))):
            rows["topic_tags"].append({"topic_id": topic_id, "tag_id": self.tag_ids[tag]})
        followers = {author}

        opening = self._post(rows, topic, author, text, created, opening=True)
        topic["score"] = opening["score"]
        remaining = self.n_posts - self.stats["posts"]
        n_answers = rng.choice(ANSWERS[kind])
        if index % LONG_THREAD_EVERY == 0:
            self.long_thread_due = True
        if kind == "question" and self.long_thread_due:
            # A long thread: the question everyone has (its length from the index, so that
            # the random draws of every other topic stay as they were).
            self.long_thread_due = False
            n_answers = 50 + (index // LONG_THREAD_EVERY) % 11
        n_answers = min(n_answers, remaining)
        last = created
        answers = []
        for _ in range(n_answers):
            if self.stats["posts"] >= self.n_posts:  # comments count too
                break
            last = min(self.end, last + timedelta(minutes=rng.uniform(2, 60 * 36)))
            helper = rng.choice(self.staff_ids) if staff_only or rng.random() < 0.05 else None
            if helper is None:
                helper = self._writer(lang)
            answer = self._post(rows, topic, helper, text, last)
            answers.append(answer)
            followers.add(helper)
            if rng.random() < COMMENTS:
                for _ in range(rng.choice((1, 1, 2))):
                    if self.stats["posts"] >= self.n_posts:
                        break
                    last = min(self.end, last + timedelta(minutes=rng.uniform(1, 600)))
                    commenter = author if rng.random() < 0.5 else self._writer(lang)
                    self._post(rows, topic, commenter, text, last, parent=answer["id"])
                    self.stats["comments"] += 1
        if answers:
            topic["first_answer_at"] = answers[0]["created_at"]
            topic["reply_count"] = len(answers)
            self.stats["answers"] += len(answers)
            if kind == "question" and rng.random() < ACCEPTED:
                if rng.random() < 0.7:
                    best = max(answers, key=lambda a: (a["score"], -a["id"]))
                else:
                    best = rng.choice(answers)
                accepted_at = min(
                    self.end, best["created_at"] + timedelta(hours=rng.uniform(0.2, 72))
                )
                topic["accepted_at"] = accepted_at
                rows["accepted"].append({"topic_id": topic_id, "answer_id": best["id"]})
                last = max(last, accepted_at)
                self.stats["accepted"] += 1
        topic["last_activity_at"] = last
        for user_id in sorted(followers):
            rows["follows"].append(
                {"user_id": user_id, "target_type": "topic", "target_id": topic_id,
                 "active": True, "created_at": created}
            )  # fmt: skip
        self.stats["topics"] += 1

    def _votes_for(self, kind: str, opening: bool) -> int:
        """How many members vote on a post: most posts get none or a few, some get many."""
        rng = self.rng
        if rng.random() < 0.45:
            return 0
        many = int(rng.paretovariate(1.4))
        if kind == "idea" and opening:
            many = int(rng.paretovariate(0.9) * 3)
        return min(many, 300, self.n_users - 1)

    def _post(
        self,
        rows: dict[str, list[dict[str, Any]]],
        topic: dict[str, Any],
        author: int,
        text: corpus.Text,
        created: datetime,
        *,
        opening: bool = False,
        parent: int | None = None,
    ) -> dict[str, Any]:
        rng = self.rng
        length = corpus.post_length(rng, opening) if parent is None else rng.randint(5, 30)
        source = text.post(opening, length)
        post_id = self.next_id["posts"]
        self.next_id["posts"] += 1
        up = down = 0
        kind = topic["kind"]
        if parent is None:
            for voter in rng.sample(range(1, self.n_users + 1), self._votes_for(kind, opening)):
                if voter == author:
                    continue
                value = -1 if kind == "question" and rng.random() < 0.12 else 1
                rows["votes"].append(
                    {
                        "id": self.next_id["votes"],
                        "post_id": post_id,
                        "user_id": voter,
                        "value": value,
                        "created_at": min(self.end, created + timedelta(hours=rng.uniform(0, 240))),
                    }
                )
                self.next_id["votes"] += 1
                if value > 0:
                    up += 1
                else:
                    down += 1
        post = {
            "id": post_id,
            "topic_id": topic["id"],
            "author_id": author,
            "parent_id": parent,
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
        if self.with_flags and rng.random() < FLAGGED:
            self._flags(rows, post_id, author, created)
        return post

    def _flags(
        self, rows: dict[str, list[dict[str, Any]]], post_id: int, author: int, created: datetime
    ) -> None:
        rng = self.rng
        flaggers = {self._writer("en") for _ in range(rng.choice((1, 1, 1, 2, 3)))} - {author}
        resolved = rng.random() < FLAG_RESOLVED
        for user_id in sorted(flaggers):
            flagged_at = min(self.end, created + timedelta(hours=rng.uniform(0.1, 48)))
            reason = rng.choice(FLAG_REASONS)
            rows["flags"].append(
                {
                    "id": self.next_id["flags"],
                    "post_id": post_id,
                    "user_id": user_id,
                    "reason": reason,
                    "text": "Looks like an advert." if reason == "other" else "",
                    "weight": 1.0,
                    "created_at": flagged_at,
                    "resolved_at": flagged_at + timedelta(hours=6) if resolved else None,
                    "resolution": "kept" if resolved else None,
                    "resolved_by_id": self.moderator_id if resolved else None,
                }
            )
            self.next_id["flags"] += 1
            self.stats["flags"] += 1

    # --- writing -----------------------------------------------------------------------------

    def _insert(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        from sqlalchemy import bindparam, update

        from community.extensions import db
        from community.notifications.models import Follow
        from community.topics.models import Post, Topic, TopicTag, Vote

        bulk_insert(Topic, rows["topics"], commit=False)
        bulk_insert(TopicTag, rows["topic_tags"], commit=False)
        bulk_insert(Post, rows["posts"], commit=False)
        bulk_insert(Vote, rows["votes"], commit=False)
        bulk_insert(Follow, rows["follows"], commit=False)
        if rows["flags"]:
            from community_moderation.models import Flag

            bulk_insert(Flag, rows["flags"], commit=False)
        if rows["accepted"]:
            table = Topic.__table__
            db.session.execute(
                update(table)
                .where(table.c.id == bindparam("topic_id"))
                .values(accepted_answer_id=bindparam("answer_id")),
                rows["accepted"],
            )
        db.session.commit()
        self.stats["follows"] += len(rows["follows"])
        if self.progress is not None:
            self.progress(len(rows["posts"]))

    def _points(self) -> int:
        """The points ledger and totals: the rows the gamification plugin's rebuild would
        append to an empty ledger (its own ``differences``, for every member at once, in
        one pass instead of the rebuild's batches of members), dated when what earned the
        points happened; every member's total is the sum of their rows."""
        from collections import defaultdict

        from community_gamification import points
        from community_gamification.models import LedgerEntry, Total

        rows = points.differences(dict.fromkeys(points.RULES, None))
        totals: dict[int, int] = defaultdict(int)
        for row in rows:
            row["occurred_at"] = row["occurred_at"] or self.end
            row["created_at"] = row["occurred_at"]
            totals[row["user_id"]] += row["amount"]
        bulk_insert(LedgerEntry, rows, commit=False)
        bulk_insert(
            Total,
            [
                {"user_id": user_id, "points": totals.get(user_id, 0), "updated_at": self.end}
                for user_id in range(1, self.n_users + 1)
            ],
        )
        return len(rows)


# --- database helpers ---------------------------------------------------------------------------


def bulk_insert(model: Any, rows: list[dict[str, Any]], commit: bool = True) -> None:
    """Core executemany of ``rows`` into ``model``'s table, a few thousand at a time."""
    from sqlalchemy import insert

    from community.extensions import db

    table = model.__table__
    for start in range(0, len(rows), INSERT_ROWS):
        db.session.execute(insert(table), rows[start : start + INSERT_ROWS])
    if commit:
        db.session.commit()


def fix_sequences() -> None:
    """Rows went in with their ids: move PostgreSQL's sequences past them."""
    from sqlalchemy import inspect, text

    from community.extensions import db

    if db.engine.dialect.name != "postgresql":
        return
    tables = set(inspect(db.engine).get_table_names())
    for table in ("users", "spaces", "tags", "topics", "posts", "votes", "moderation_flags"):
        if table in tables:
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
            )
    db.session.commit()


@contextmanager
def bulk_load() -> Iterator[None]:
    """SQLite: no rollback journal and no fsync while loading (a crash leaves a broken file,
    which is fine for generated data), then the site's settings again (WAL, full sync).
    PostgreSQL: ANALYZE at the end, as autovacuum would do soon after."""
    from sqlalchemy import text

    from community.extensions import db

    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        conn = db.session.connection()
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        db.session.commit()
        raw = db.session.connection()
        raw.exec_driver_sql("PRAGMA journal_mode=OFF")
        raw.exec_driver_sql("PRAGMA synchronous=OFF")
        raw.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MiB
        db.session.commit()
    try:
        yield
    finally:
        db.session.commit()
        if dialect == "sqlite":
            conn = db.session.connection()
            conn.exec_driver_sql(f"PRAGMA journal_mode={journal}")
            conn.exec_driver_sql(f"PRAGMA synchronous={synchronous}")
            db.session.commit()
        elif dialect == "postgresql":
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def prepare_schema(reset: bool) -> None:
    """What ``community db upgrade`` does (core's migrations, then every installed plugin's),
    after dropping every table when ``reset``. Refuses a database that already has users."""
    from sqlalchemy import func, inspect, select

    from community.accounts.models import User
    from community.extensions import db
    from community.plugins.migrations import upgrade_all
    from community.testing import drop_every_table

    if reset:
        drop_every_table()
    elif "users" in inspect(db.engine).get_table_names():
        if db.session.scalar(select(func.count()).select_from(User)):
            db.session.rollback()
            sys.exit("the database has users: pass --reset to drop every table first")
        db.session.rollback()
    upgrade_all()
    db.session.remove()


def checksum() -> str:
    """A hash of the generated rows (users without their salted password hashes, spaces,
    topics, posts, votes, flags and points totals when they exist), in id order."""
    from sqlalchemy import inspect, text

    from community.extensions import db

    tables = set(inspect(db.engine).get_table_names())
    queries = [
        "SELECT id, username, email, role, is_staff, locale, created_at FROM users ORDER BY id",
        "SELECT id, parent_id, slug, topic_count, post_count FROM spaces ORDER BY id",
        "SELECT id, space_id, author_id, kind, title, status, created_at, last_activity_at,"
        " accepted_answer_id, accepted_at, first_answer_at, reply_count, score FROM topics"
        " ORDER BY id",
        "SELECT id, topic_id, author_id, parent_id, body_source, created_at, score FROM posts"
        " ORDER BY id",
        "SELECT id, post_id, user_id, value, created_at FROM votes ORDER BY id",
        "SELECT topic_id, tag_id FROM topic_tags ORDER BY topic_id, tag_id",
    ]
    if "moderation_flags" in tables:
        queries.append(
            "SELECT id, post_id, user_id, reason, resolved_at FROM moderation_flags ORDER BY id"
        )
    if "gamification_totals" in tables:
        queries.append("SELECT user_id, points FROM gamification_totals ORDER BY user_id")
    digest = hashlib.sha256()
    for query in queries:
        for row in db.session.execute(text(query)):
            digest.update(repr(tuple(_plain(value) for value in row)).encode())
    db.session.rollback()
    return digest.hexdigest()[:16]


def _plain(value: Any) -> Any:
    """The same value from SQLite and PostgreSQL (naive and aware datetimes alike)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


# --- command line -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size", choices=sorted(SIZES), default="S", help="S 10k, M 100k, L 1M posts"
    )
    parser.add_argument(
        "--posts", type=int, metavar="N", help="posts to generate (overrides --size)"
    )
    parser.add_argument("--seed", type=int, default=1, help="same seed and end date, same data")
    parser.add_argument(
        "--end", metavar="YYYY-MM-DD", help="the last day of activity (default: today, UTC)"
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--database-url", metavar="URL", help="default: the site's configured database"
    )
    target.add_argument("--sqlite", metavar="FILE", help="a SQLite file (created if missing)")
    parser.add_argument(
        "--reset", action="store_true", help="drop every table of the database first"
    )
    parser.add_argument(
        "--render-html",
        action="store_true",
        help="render body_html with the real Markdown code (slow)",
    )
    parser.add_argument(
        "--checksum", action="store_true", help="print a checksum of the rows at the end"
    )
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    import click

    from community import create_app
    from community.extensions import db

    args = parse_args(argv)
    n_posts = args.posts or SIZES[args.size]
    config: dict[str, Any] = {"TASKS_URL": "memory://"}
    url = args.database_url or (
        f"sqlite:///{os.path.abspath(args.sqlite)}" if args.sqlite else None
    )
    if url:
        config["DATABASE_URL"] = url
        name = url.rsplit("/", 1)[-1].split("?")[0]
        if not url.startswith("sqlite") and name in PROTECTED_DATABASES:
            sys.exit(f"refusing to use the database {name!r}")
    end = None
    if args.end:
        end = datetime.strptime(args.end, "%Y-%m-%d").replace(tzinfo=UTC)
    render = plain_html
    if args.render_html:
        from community.markdown import render_markdown

        render = render_markdown
    app = create_app(config)
    with app.app_context():
        log(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        t0 = time.perf_counter()
        prepare_schema(args.reset)
        schema_seconds = time.perf_counter() - t0
        with click.progressbar(length=n_posts, label="Posts", file=sys.stderr) as bar:
            generator = Generator(n_posts, args.seed, end, render, progress=bar.update)
            with bulk_load():
                stats = generator.run()
        digest = checksum() if args.checksum else None
        size = ""
        if db.engine.dialect.name == "sqlite" and db.engine.url.database:
            size = f", {os.path.getsize(db.engine.url.database) / 2**20:,.0f} MiB"
        db.engine.dispose()
    total = time.perf_counter() - t0
    counts = ", ".join(
        f"{stats[key]:,} {key.replace('_', ' ')}"
        for key in ("users", "spaces", "topics", "posts", "accepted", "comments", "votes",
                    "follows", "flags", "ledger_rows")
    )  # fmt: skip
    print(
        f"generated {counts} in {total:.1f} s (schema {schema_seconds:.1f} s, rows "
        f"{stats['seconds']:.1f} s, {stats['posts'] / stats['seconds']:,.0f} posts/s{size})"
        + (f"; checksum {digest}" if digest else "")
    )
    print("the search index is not built: run `community search reindex`", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
