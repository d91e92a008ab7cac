"""Experts benchmark: expertise, routing and the expert pages on a forum of many questions.

    python bench/experts.py [--users U] [--questions Q] [--runs R]
                            [--database-url URL] [--json]

A fresh app in a temporary instance folder, with a database of its own (a SQLite file there,
or ``--database-url``, whose tables are dropped and created again), with the experts plugin
enabled. Users, twelve spaces, Q questions over 180 days with three answers each on average
(a few members give most answers, as on real forums), accepted answers and votes are inserted
in bulk; then ``expertise.rebuild()``, the incremental work of an accepted answer and of a
vote (through core's services, so that the plugin's hooks run), ``routing.route()`` with
questions waiting, ``metrics.space_metrics`` and the plugin's pages are measured. See
``bench/README.md`` for what each number means. This is a measuring tool, not a test: it
fails only when something does not work at all.
"""

from __future__ import annotations

import argparse
import math
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
from html import escape
from pathlib import Path
from typing import Any, cast

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``community`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gamification import check_database_url, count_sql, make_config  # noqa: E402
from bench.search import (  # noqa: E402
    analyze,
    clean_up,
    cpu_seconds,
    fix_sequences,
    fmt_ms,
    log,
    machine_line,
    machine_summary,
    percentile,
    publish,
    request_as,
    reset_schema,
)

PLUGIN = "experts"
INSERT_ROWS = 5000
VIEWER_ID = 1  # bench.member: the member the pages are requested as (no posts, no votes)
VOTER_ID = 2  # bench.voter: casts the timed votes (no votes in the data)
FIRST_STAFF_ID = 3
STAFF = 10
SUSPENDED_EVERY = 97  # one member in 97 is suspended
DAYS = 180  # the questions' span: the plugin's default expertise window
WAITING = 500  # questions of the last hours that nobody answered yet (capped at Q / 10)
ANSWERS_PER_QUESTION = 3
VOTES_PER_QUESTION = 5
SHOWCASE_ANSWERS = 30  # answers by experts on the topic page that shows badges
# (slug, visibility, parent slug, share of the questions)
SPACES = [
    ("routers", "public", None, 0.24),
    ("mesh", "public", "routers", 0.12),
    ("extenders", "public", "mesh", 0.05),
    ("modems", "public", None, 0.10),
    ("dsl", "public", "modems", 0.05),
    ("mobile-app", "public", None, 0.12),
    ("billing", "public", None, 0.08),
    ("smart-home", "public", None, 0.08),
    ("cameras", "public", "smart-home", 0.05),
    ("security", "public", None, 0.06),
    ("beta", "members", None, 0.03),
    ("staff-room", "staff", None, 0.02),
]
BIG_SPACE = "routers"  # the largest (with the two spaces inside it: 41% of the questions)
NESTED_SPACE = "extenders"  # two levels down
# fmt: off
TAGS = [
    "wifi", "firmware", "ethernet", "vpn", "dns", "dhcp", "ipv6", "port-forwarding",
    "parental-controls", "guest-network", "5ghz", "range", "speed", "latency", "reboot",
    "factory-reset", "login", "password", "android", "ios", "invoice", "refund", "subscription",
    "camera", "motion", "alerts", "doorbell", "thermostat", "voice-assistant", "malware",
    "firewall", "update", "setup", "roaming", "backhaul", "bridge-mode", "nat", "upnp", "qos",
    "wps",
]
# fmt: on
ANSWER_COUNTS = [0, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7]  # mean 3.15 before the waiting ones
TAG_COUNTS = [0, 1, 1, 2, 2, 3]
SPECIALISTS = 0.7  # share of a space's answers given by its own regulars
STAFF_ANSWERS = 0.05
ACCEPTED = 0.45  # share of answered questions with an accepted answer
SENTENCES = [
    "Try a factory reset and set the network up again from the app.",
    "Update the firmware first: the release notes mention this exact problem.",
    "Move the satellite closer to the main unit and check the backhaul.",
    "Turn off band steering for a moment and see whether the client stays on 5 GHz.",
    "The log shows the DHCP lease expiring; reserve an address for that device.",
    "Bridge mode on the ISP modem removes the double NAT.",
    "Check the cable: a bad one drops the link to 100 Mbit/s.",
    "Support confirmed it is a known issue, fixed in the next update.",
]


# --- data ------------------------------------------------------------------------------------


class World:
    """Users, spaces, tags, questions, answers, acceptances and votes, in bulk (rows with
    their ids); ``showcase`` and ``small`` are two extra questions of the big space for the
    topic pages (30 answers by its most active members; 3 answers by occasional ones)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from community.dbtypes import utcnow

        self.args = args
        self.rng = random.Random(args.seed)
        self.now = utcnow().replace(microsecond=0)
        self.staff_ids = list(range(FIRST_STAFF_ID, FIRST_STAFF_ID + STAFF))
        first_member = FIRST_STAFF_ID + STAFF
        self.member_ids = list(range(first_member, first_member + args.users))
        self.space_ids = {slug: i for i, (slug, *_rest) in enumerate(SPACES, start=1)}
        self.tag_ids = {name: i for i, name in enumerate(TAGS, start=1)}
        self.waiting = min(WAITING, args.questions // 10)
        # Each space has its regulars: the members in an order of their own, the first ones
        # answering most (a power law); the rest of the answers come from everyone.
        n = len(self.member_ids)
        cum: list[float] = []
        total = 0.0
        for rank in range(n):
            total += 1 / (rank + 3) ** 1.15
            cum.append(total)
        self.cum_weights = cum
        self.orders = {key: self.rng.sample(self.member_ids, n) for key in [*self.space_ids, ""]}
        self.rows: dict[str, list[dict[str, Any]]] = {
            key: [] for key in ("topics", "topic_tags", "posts", "votes", "accepted")
        }
        self.quality: dict[int, float] = {}  # answer id -> how good (draws votes, acceptance)
        self.showcase: dict[str, int] = {}

    def run(self) -> dict[str, Any]:
        from community.extensions import db
        from community.topics.recount import recount_spaces

        t0 = time.perf_counter()
        reset_schema_with_plugin()
        self._users_spaces_tags()
        self._questions()
        self._showcase()
        self._votes()
        self._insert_all()
        recount_spaces()
        db.session.commit()
        fix_sequences()
        stats = analyze()
        rows = self.rows
        stats.update(
            seconds=time.perf_counter() - t0,
            dialect=db.engine.dialect.name,
            server_version=".".join(str(v) for v in db.engine.dialect.server_version_info or ()),
            users=len(self.member_ids) + STAFF + 2,
            questions=len(rows["topics"]),
            answers=sum(1 for p in rows["posts"] if not p["is_opening"]),
            accepted=len(rows["accepted"]),
            votes=len(rows["votes"]),
            waiting=self.waiting,
            showcase=self.showcase,
        )
        return stats

    # --- people and places -------------------------------------------------------------------

    def _users_spaces_tags(self) -> None:
        from community.accounts.models import User
        from community.spaces.models import Space
        from community.topics.models import Tag

        template = User(username="x", username_key="x", email="x")
        template.set_password("bench")
        joined = self.now - timedelta(days=DAYS + 200)
        names = {VIEWER_ID: "bench.member", VOTER_ID: "bench.voter"}
        names.update({i: f"staff.{i}" for i in self.staff_ids})
        names.update({i: f"member.{i}" for i in self.member_ids})
        users = [
            {
                "id": i,
                "username": name,
                "username_key": name,
                "email": f"{name}@example.com",
                "password_hash": template.password_hash,
                "role": "member",
                "is_staff": i in self.staff_ids,
                "email_confirmed_at": joined,
                "created_at": joined,
                "locale": "en",
                "bio": "",
                "active": i < FIRST_STAFF_ID + STAFF or i % SUSPENDED_EVERY != 0,
            }
            for i, name in names.items()
        ]
        spaces = [
            {
                "id": self.space_ids[slug],
                "parent_id": self.space_ids[parent] if parent else None,
                "slug": slug,
                "title": slug.replace("-", " ").title(),
                "description": "",
                "visibility": visibility,
                "default_kind": "question",
                "position": self.space_ids[slug],
                "created_at": joined,
            }
            for slug, visibility, parent, _share in SPACES
        ]
        bulk_insert(User, users)
        bulk_insert(Space, spaces)
        bulk_insert(Tag, [{"id": i, "name": name} for name, i in self.tag_ids.items()])

    # --- questions and answers ---------------------------------------------------------------

    def _questions(self) -> None:
        rng = self.rng
        now = self.now
        regular = self.args.questions - self.waiting
        span = DAYS * 86400 - 3600
        moments = [
            (now - timedelta(seconds=3600 + span * rng.random()), False) for _ in range(regular)
        ]
        moments += [
            (now - timedelta(minutes=rng.uniform(61, 70 * 60)), True) for _ in range(self.waiting)
        ]
        moments.sort()
        slugs = [slug for slug, *_rest in SPACES]
        shares = [share for *_rest, share in SPACES]
        where = rng.choices(slugs, shares, k=len(moments))
        recent = now - timedelta(hours=72)
        for (created, waiting), slug in zip(moments, where, strict=True):
            if waiting:
                count = 0
            else:
                count = rng.choice(ANSWER_COUNTS)
                if created >= recent:
                    count = max(1, count)  # an unanswered recent question would be waiting
            self._question(slug, created, count)

    def _question(
        self,
        slug: str,
        created: Any,
        n_answers: int,
        authors: list[int] | None = None,
        asker: int | None = None,
        accept: bool = True,
    ) -> dict[str, Any]:
        rng = self.rng
        topic_id = len(self.rows["topics"]) + 1
        staff_room = slug == "staff-room"
        if asker is None:
            asker = rng.choice(self.staff_ids if staff_room else self.member_ids)
        title = f"Question {topic_id} about {slug.replace('-', ' ')}"
        topic: dict[str, Any] = {
            "id": topic_id,
            "space_id": self.space_ids[slug],
            "author_id": asker,
            "kind": "question",
            "title": title,
            "slug": f"question-{topic_id}",
            "created_at": created,
            "last_activity_at": created,
            "is_pinned": False,
            "is_locked": False,
            "status": None,
            "first_answer_at": None,
            "accepted_at": None,
            "accepted_answer_id": None,
            "reply_count": 0,
            "score": 0,
        }
        self.rows["topics"].append(topic)
        tags = {rng.choice(TAGS[: 10 + (topic_id % 30)]) for _ in range(rng.choice(TAG_COUNTS))}
        self.rows["topic_tags"] += [{"topic_id": topic_id, "tag_id": self.tag_ids[t]} for t in tags]
        self._post(topic, asker, created, opening=True)
        answers = []
        when = created
        for j in range(n_answers):
            minutes = rng.lognormvariate(math.log(90 if j == 0 else 240), 1.2)
            when = min(self.now, when + timedelta(minutes=minutes))
            author, regular = (
                (authors[j], True) if authors is not None else self._answerer(slug, asker)
            )
            answer = self._post(topic, author, when, opening=False)
            self.quality[answer["id"]] = rng.paretovariate(1.6) * (3.0 if regular else 1.0)
            answers.append(answer)
        if answers:
            topic["first_answer_at"] = answers[0]["created_at"]
            topic["reply_count"] = len(answers)
            topic["last_activity_at"] = answers[-1]["created_at"]
            if accept and rng.random() < ACCEPTED:
                best = rng.choices(answers, [self.quality[a["id"]] for a in answers])[0]
                accepted_at = min(
                    self.now, best["created_at"] + timedelta(hours=rng.uniform(0.5, 72))
                )
                self.rows["accepted"].append(
                    {"topic_id": topic_id, "answer_id": best["id"], "accepted_at": accepted_at}
                )
                topic["last_activity_at"] = max(topic["last_activity_at"], accepted_at)
        return topic

    def _answerer(self, slug: str, asker: int) -> tuple[int, bool]:
        """Who answers a question of ``slug``, and whether they are one of its top 50."""
        rng = self.rng
        while True:
            if slug == "staff-room" or rng.random() < STAFF_ANSWERS:
                return rng.choice(self.staff_ids), False
            order = self.orders[slug if rng.random() < SPECIALISTS else ""]
            rank = rng.choices(range(len(order)), cum_weights=self.cum_weights)[0]
            if order[rank] != asker:
                return order[rank], rank < 50

    def _post(self, topic: dict[str, Any], author: int, created: Any, *, opening: bool) -> dict:
        post_id = len(self.rows["posts"]) + 1
        sentences = self.rng.sample(SENTENCES, k=self.rng.randint(1, 4))
        source = "\n\n".join(sentences)
        post = {
            "id": post_id,
            "topic_id": topic["id"],
            "author_id": author,
            "parent_id": None,
            "is_opening": opening,
            "body_source": source,
            "body_html": "".join(f"<p>{escape(s)}</p>" for s in sentences),
            "created_at": created,
            "score": 0,
            "upvotes": 0,
            "downvotes": 0,
        }
        self.rows["posts"].append(post)
        return post

    def _showcase(self) -> None:
        """Two more questions of the big space, ten days old, no accepted answer: one answered
        by its 30 most active members (the experts), one by three occasional members."""
        order = self.orders[BIG_SPACE]
        created = self.now - timedelta(days=10)
        asker = order[-1]
        top = [uid for uid in order[: SHOWCASE_ANSWERS + 1] if uid != asker][:SHOWCASE_ANSWERS]
        showcase = self._question(
            BIG_SPACE, created, len(top), authors=top, asker=asker, accept=False
        )
        small = self._question(
            BIG_SPACE, created, 3, authors=order[-4:-1], asker=order[-5], accept=False
        )
        self.showcase = {"showcase": showcase["id"], "small": small["id"]}

    # --- votes -------------------------------------------------------------------------------

    def _votes(self) -> None:
        """Votes on answers (90%, the good ones draw more) and on questions (10%), by distinct
        members, mostly soon after the post; 90% up."""
        rng = self.rng
        target = VOTES_PER_QUESTION * self.args.questions
        posts = self.rows["posts"]
        answers = [p for p in posts if not p["is_opening"] and p["id"] in self.quality]
        openings = [p for p in posts if p["is_opening"]]
        counts: Counter[int] = Counter()
        if answers:
            weights = [self.quality[p["id"]] for p in answers]
            counts.update(p["id"] for p in rng.choices(answers, weights, k=int(target * 0.9)))
        counts.update(p["id"] for p in rng.choices(openings, k=target - sum(counts.values())))
        voters = self.member_ids + self.staff_ids
        by_id = {p["id"]: p for p in posts}
        votes = self.rows["votes"]
        for post_id, wanted in sorted(counts.items()):
            post = by_id[post_id]
            age = (self.now - post["created_at"]).total_seconds()
            for voter in rng.sample(voters, min(wanted, len(voters) - 1)):
                if voter == post["author_id"]:
                    continue
                value = 1 if rng.random() < 0.9 else -1
                votes.append(
                    {
                        "id": len(votes) + 1,
                        "post_id": post_id,
                        "user_id": voter,
                        "value": value,
                        "created_at": post["created_at"]
                        + timedelta(seconds=age * rng.random() ** 3),
                    }
                )
                post["score"] += value
                post["upvotes" if value == 1 else "downvotes"] += 1
        topics = self.rows["topics"]
        for post in openings:
            topics[post["topic_id"] - 1]["score"] = post["score"]

    def _insert_all(self) -> None:
        from sqlalchemy import Table, bindparam, update

        from community.extensions import db
        from community.topics.models import Post, Topic, TopicTag, Vote

        rows = self.rows
        bulk_insert(Topic, rows["topics"])
        bulk_insert(TopicTag, rows["topic_tags"])
        bulk_insert(Post, rows["posts"])
        bulk_insert(Vote, rows["votes"])
        table = cast("Table", Topic.__table__)
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("topic_id"))
            .values(
                accepted_answer_id=bindparam("answer_id"), accepted_at=bindparam("accepted_at")
            ),
            rows["accepted"],
        )
        db.session.commit()


def bulk_insert(model: Any, rows: list[dict[str, Any]]) -> None:
    from sqlalchemy import insert

    from community.extensions import db

    for start in range(0, len(rows), INSERT_ROWS):
        db.session.execute(insert(model), rows[start : start + INSERT_ROWS])
    db.session.commit()


def reset_schema_with_plugin() -> None:
    """Every table dropped and created again (core's and the plugins'), the plugins'
    migrations recorded as done, and the experts plugin enabled as the admin's button does."""
    from alembic import command

    from community.extensions import db
    from community.plugins.migrations import alembic_config, migrated_plugins
    from community.plugins.services import enable_plugin

    reset_schema()
    for info in migrated_plugins():
        command.stamp(alembic_config(info), "heads")
    enable_plugin(PLUGIN)
    db.session.commit()


# --- measuring -------------------------------------------------------------------------------


def summary(samples: list[dict[str, float]]) -> dict[str, Any]:
    """Median and p95 (nearest rank) of the runs' milliseconds, the median statement count
    and time waiting for them, and the fewest and most statements."""
    ms = [s["ms"] for s in samples]
    sql = [s["sql"] for s in samples]
    found: dict[str, Any] = {
        "runs": len(samples),
        "median_ms": statistics.median(ms),
        "p95_ms": percentile(ms, 95),
        "max_ms": max(ms),
        "sql": statistics.median(sql),
        "sql_min": min(sql),
        "sql_max": max(sql),
        "sql_median_ms": statistics.median(s["sql_ms"] for s in samples),
    }
    if "hook_ms" in samples[0]:
        found["hook_median_ms"] = statistics.median(s["hook_ms"] for s in samples)
        found["hook_sql"] = statistics.median(s["hook_sql"] for s in samples)
    return found


@contextmanager
def measured(sql: dict[str, float], sample: dict[str, float]) -> Iterator[None]:
    """Time the block into ``sample``: ``ms``, and the statements (``sql``) and seconds of
    waiting for them (``sql_ms``) that ``count_sql``'s counter ``sql`` saw meanwhile."""
    statements, waited = sql["total"], sql["seconds"]
    t0 = time.perf_counter()
    try:
        yield
    finally:
        sample["ms"] = (time.perf_counter() - t0) * 1000
        sample["sql"] = sql["total"] - statements
        sample["sql_ms"] = (sql["seconds"] - waited) * 1000


@contextmanager
def watching_hook(sql: dict[str, float], sample: dict[str, float]) -> Iterator[None]:
    """Add the time and statements of the plugin's ``expertise.handle`` (what the event hooks
    run) to ``sample`` as ``hook_ms`` and ``hook_sql``."""
    from community_experts import expertise

    original = expertise.handle
    sample.update(hook_ms=0.0, hook_sql=0)

    def handle(event: str, **kw: Any) -> None:
        part: dict[str, float] = {}
        with measured(sql, part):
            original(event, **kw)
        sample["hook_ms"] += part["ms"]
        sample["hook_sql"] += part["sql"]

    expertise.handle = handle
    try:
        yield
    finally:
        expertise.handle = original


def plugin_fingerprint() -> str:
    """A hash of the plugin's ``*.py`` files: which version of its code a report measured."""
    import hashlib

    import community_experts

    folder = Path(community_experts.__file__).parent
    files = sorted(folder.glob("*.py"))
    return hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in files)).hexdigest()[
        :12
    ]


def plugin_failure(app: Any) -> str | None:
    """The experts plugin's failure in this process, if a hook raised (core logs it and goes
    on: the numbers would be those of a broken plugin)."""
    from community.plugins.host import current_host

    with app.app_context():
        failure = current_host().failures.get(PLUGIN)
    return None if failure is None else str(failure)


def fail_if_plugin_failed(app: Any, where: str) -> None:
    failure = plugin_failure(app)
    if failure:
        sys.exit(f"the experts plugin failed during {where}: {failure}")


def standing_of(user_id: int, space_id: int) -> tuple[int, int]:
    """(accepted, votes) of the member's standing in the space."""
    from community_experts.models import SPACE, Standing
    from sqlalchemy import select

    from community.extensions import db

    row = db.session.execute(
        select(Standing.accepted, Standing.votes).where(
            Standing.user_id == user_id, Standing.scope == SPACE, Standing.scope_id == space_id
        )
    ).first()
    return (row[0], row[1]) if row else (0, 0)


def measure_rebuild(app: Any) -> dict[str, Any]:
    """``expertise.rebuild()`` on empty standings, then again with every standing there."""
    from community_experts import expertise
    from community_experts.models import SPACE, TAG, Standing
    from sqlalchemy import func, select

    from community.extensions import db

    results: dict[str, Any] = {}
    for name in ("first", "again"):
        log(f"  rebuild ({name})…")
        sample: dict[str, float] = {}
        with count_sql(app) as sql, app.app_context():
            with measured(sql, sample):
                found = expertise.rebuild()
            results[name] = {**sample, **found}
    standings: Counter[str] = Counter()
    experts: Counter[str] = Counter()
    with app.app_context():
        for scope, expert, number in db.session.execute(
            select(Standing.scope, Standing.is_expert, func.count()).group_by(
                Standing.scope, Standing.is_expert
            )
        ):
            standings[scope] += number
            experts[scope] += number if expert else 0
    results["standings"] = {scope: standings[scope] for scope in (SPACE, TAG)}
    results["experts"] = {scope: experts[scope] for scope in (SPACE, TAG)}
    return results


def heavy_expert(app: Any, world: World) -> int:
    """The expert with the highest score in the big space itself."""
    from community_experts.models import SPACE, Standing
    from sqlalchemy import select

    from community.extensions import db

    with app.app_context():
        found = db.session.scalar(
            select(Standing.user_id)
            .where(
                Standing.scope == SPACE,
                Standing.scope_id == world.space_ids[BIG_SPACE],
                Standing.is_expert.is_(True),
            )
            .order_by(Standing.score.desc())
            .limit(1)
        )
    if found is None:
        sys.exit("no expert in the big space after the rebuild: too little data")
    return int(found)


def measure_events(app: Any, world: World, expert_id: int, runs: int) -> dict[str, Any]:
    """``accept_answer`` (the asker accepts the heavy expert's answer) and ``cast_vote``
    (bench.voter votes up one of their answers), each ``runs`` times after a warm-up, on
    questions of the big space."""
    from sqlalchemy import select

    from community.extensions import db
    from community.topics.models import Post, Topic
    from community.topics.services import accept_answer, cast_vote

    big = world.space_ids[BIG_SPACE]
    skip = set(world.showcase.values())
    with app.app_context():
        rows = db.session.execute(
            select(Post.id, Topic.id, Topic.author_id)
            .join(Topic, Topic.id == Post.topic_id)
            .where(
                Post.author_id == expert_id,
                Post.is_opening.is_(False),
                Topic.space_id == big,
                Topic.accepted_answer_id.is_(None),
                Topic.id.not_in(skip),
            )
            .order_by(Post.id.desc())
        ).all()
        before = standing_of(expert_id, big)
    by_topic: dict[int, tuple[int, int]] = {}
    for post_id, topic_id, asker in rows:
        by_topic.setdefault(topic_id, (post_id, asker))
    to_accept = list(by_topic.values())[: runs + 1]
    to_vote = [post_id for post_id, _t, _a in rows[-(runs + 1) :]]
    if len(to_accept) < runs + 1 or len(to_vote) < runs + 1:
        sys.exit("too few answers by the heavy expert to time the events: use more --questions")

    results: dict[str, Any] = {"expert_id": expert_id, "expert_answers": len(rows)}
    for name, items in (("accept", to_accept), ("vote", [(p, VOTER_ID) for p in to_vote])):
        log(f"  {name} × {len(items)}…")
        samples = []
        for post_id, actor_id in items:
            sample: dict[str, float] = {}
            with count_sql(app) as sql, request_as(app, actor_id) as actor:
                post = db.session.get_one(Post, post_id)
                with watching_hook(sql, sample), measured(sql, sample):
                    if name == "accept":
                        accept_answer(actor, post)
                    else:
                        cast_vote(actor, post, 1)
            samples.append(sample)
        fail_if_plugin_failed(app, name)
        results[name] = summary(samples[1:])  # the first one warms up
    with app.app_context():
        after = standing_of(expert_id, big)
    results["standing_before"] = before
    results["standing_after"] = after
    if after[0] - before[0] != len(to_accept) or after[1] - before[1] != len(to_vote):
        log(f"  warning: the expert's standing went from {before} to {after}")
    return results


def measure_routing(app: Any, world: World) -> dict[str, Any]:
    """``routing.route()`` with the waiting questions, then again (nothing left to do)."""
    from community_experts import routing
    from community_experts.models import OPEN, Offer
    from sqlalchemy import distinct, func, select

    from community.extensions import db

    results: dict[str, Any] = {"waiting": world.waiting}
    for name in ("first", "again"):
        log(f"  route ({name})…")
        sample: dict[str, float] = {}
        with count_sql(app) as sql, app.app_context(), measured(sql, sample):
            made = routing.route()
        results[name] = {**sample, "offers": made}
    fail_if_plugin_failed(app, "routing")
    with app.app_context():
        results["questions_offered"] = db.session.scalar(
            select(func.count(distinct(Offer.topic_id)))
        )
        per_expert = db.session.execute(
            select(Offer.user_id, func.count())
            .where(Offer.state == OPEN)
            .group_by(Offer.user_id)
            .order_by(func.count().desc(), Offer.user_id)
        ).all()
    results["experts_offered"] = len(per_expert)
    results["busiest"] = (
        {"user_id": per_expert[0][0], "offers": per_expert[0][1]} if per_expert else None
    )
    return results


def measure_space_metrics(app: Any, world: World, runs: int) -> dict[str, Any]:
    """``metrics.space_metrics`` of the big space, as the member sees it."""
    from community_experts import metrics

    from community.extensions import db
    from community.spaces.models import Space

    samples = []
    found = None
    for _ in range(runs + 1):
        sample: dict[str, float] = {}
        with count_sql(app) as sql, request_as(app, VIEWER_ID) as viewer:
            space = db.session.get(Space, world.space_ids[BIG_SPACE])
            with measured(sql, sample):
                found = metrics.space_metrics(space, viewer=viewer)
        samples.append(sample)
    assert found is not None
    return {
        **summary(samples[1:]),
        "questions": found.questions,
        "answered": found.answered,
        "accepted": found.accepted,
        "share_experts": found.share_experts,
        "median_first_answer_s": found.median_first_answer.total_seconds()
        if found.median_first_answer
        else None,
    }


def pages(world: World, busiest: int | None) -> list[tuple[str, str, int]]:
    """``(name, url, user id)`` of the pages measured."""
    topic_id = world.showcase["showcase"]
    small_id = world.showcase["small"]
    listed = [
        ("directory", "/experts/", VIEWER_ID),
        ("space directory (big)", f"/experts/s/{BIG_SPACE}", VIEWER_ID),
        ("space directory (nested)", f"/experts/s/{NESTED_SPACE}", VIEWER_ID),
        ("space metrics.json (big)", f"/experts/s/{BIG_SPACE}/metrics.json", VIEWER_ID),
        ("tag directory", f"/experts/tag/{TAGS[0]}", VIEWER_ID),
        ("topic, 30 expert answers", f"/t/{topic_id}/question-{topic_id}", VIEWER_ID),
        ("topic, 3 answers", f"/t/{small_id}/question-{small_id}", VIEWER_ID),
    ]
    if busiest is not None:
        listed.append(("unanswered (expert, offers)", "/experts/unanswered", busiest))
    return listed


def measure_pages(app: Any, world: World, busiest: int | None, runs: int) -> dict[str, Any]:
    results = {}
    for name, url, user_id in pages(world, busiest):
        log(f"  {name}…")
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(user_id)
            session["_fresh"] = True
        samples = []
        response = None
        for _ in range(runs + 1):
            sample: dict[str, float] = {}
            with count_sql(app) as sql, measured(sql, sample):
                response = client.get(url)
            if response.status_code != 200:
                sys.exit(f"GET {url}: {response.status_code}")
            samples.append(sample)
        assert response is not None
        results[name] = {
            "url": url,
            "user_id": user_id,
            **summary(samples[1:]),
            "badges": response.data.count(b"badge-expert"),
            "kb": len(response.data) / 1024,
        }
    fail_if_plugin_failed(app, "the pages")
    return results


# --- report ----------------------------------------------------------------------------------


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Text columns: the first left-aligned, the others right-aligned."""
    every = [header, *rows]
    widths = [max(len(row[i]) for row in every) for i in range(len(header))]
    lines = []
    for n, row in enumerate(every):
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def timing_row(name: str, m: dict[str, Any], *extra: str) -> tuple[str, ...]:
    sql = f"{m['sql']:g}"
    if m["sql_min"] != m["sql_max"]:
        sql += f" ({m['sql_min']:g}–{m['sql_max']:g})"
    return (
        name,
        fmt_ms(m["median_ms"]),
        fmt_ms(m["p95_ms"]),
        fmt_ms(m["sql_median_ms"]),
        sql,
        *extra,
    )


def report(results: dict[str, Any]) -> str:
    gen = results["generated"]
    args = results["options"]
    db_name = "SQLite" if gen["dialect"] == "sqlite" else f"PostgreSQL {gen['server_version']}"
    if gen.get("autovacuum") == "off":
        db_name += " (autovacuum off; ANALYZE run after the load)"
    rebuild = results["rebuild"]
    events = results["events"]
    route = results["routing"]
    sm = results["space_metrics"]
    lines = [
        f"{db_name} · {gen['users']:,} users · {len(SPACES)} spaces · {gen['questions']:,} "
        f"questions over {DAYS} days ({gen['waiting']} waiting) · {gen['answers']:,} answers · "
        f"{gen['accepted']:,} accepted · {gen['votes']:,} votes · {args['runs']} runs · "
        f"seed {args['seed']}",
        f"data: inserted in {gen['seconds']:.1f} s",
        "",
        "1. expertise.rebuild()",
    ]
    for name, label in (("first", "empty standings"), ("again", "every standing there")):
        r = rebuild[name]
        lines.append(
            f"   {label:<22} {r['ms'] / 1000:6.1f} s · {r['sql']:,} SQL "
            f"(waiting {r['sql_ms'] / 1000:.1f} s) · {r['members']:,} members · "
            f"{r['experts']:,} experts · {r['changed']:,} changed · "
            f"{r['members'] / (r['ms'] / 1000):,.0f} members/s"
        )
    lines += [
        f"   standings: {rebuild['standings']['space']:,} space, {rebuild['standings']['tag']:,} "
        f"tag · experts: {rebuild['experts']['space']:,} space, {rebuild['experts']['tag']:,} tag",
        "",
        f"2. incremental events (the heavy expert: {events['expert_answers']:,} answers in "
        f"{BIG_SPACE}; standing {tuple(events['standing_before'])} → "
        f"{tuple(events['standing_after'])})",
    ]
    header = ("", "median", "p95", "SQL time", "SQL", "plugin's hook", "hook SQL")
    rows = [
        timing_row(
            label,
            events[key],
            fmt_ms(events[key]["hook_median_ms"]),
            f"{events[key]['hook_sql']:g}",
        )
        for key, label in (("accept", "accept_answer"), ("vote", "cast_vote"))
    ]
    lines += ["   " + line for line in table(header, rows)]
    lines += [
        "",
        f"3. routing.route() with {route['waiting']} waiting questions",
    ]
    for name, label in (("first", "first run"), ("again", "again (nothing due)")):
        r = route[name]
        lines.append(
            f"   {label:<20} {fmt_ms(r['ms']):>9} · {r['sql']:,} SQL "
            f"(waiting {fmt_ms(r['sql_ms'])}) · {r['offers']:,} offers made"
            + (
                f" · {fmt_ms(r['ms'] / r['offers'])} and {r['sql'] / r['offers']:.1f} SQL an offer"
                if r["offers"]
                else ""
            )
        )
    busiest = route["busiest"]
    lines += [
        f"   {route['questions_offered']:,} questions offered to {route['experts_offered']:,} "
        f"experts" + (f" (at most {busiest['offers']} open each)" if busiest else ""),
        "",
        "4. pages (signed in as a member; /experts/unanswered as the expert with most offers)",
    ]
    header = ("page", "median", "p95", "SQL time", "SQL", "badges", "KiB")
    rows = [
        timing_row(name, page, str(page["badges"]), f"{page['kb']:.0f}")
        for name, page in results["pages"].items()
    ]
    lines += ["   " + line for line in table(header, rows)]
    share = sm["share_experts"]
    lines += [
        "",
        f"5. metrics.space_metrics({BIG_SPACE}): median {fmt_ms(sm['median_ms'])} · p95 "
        f"{fmt_ms(sm['p95_ms'])} · {sm['sql']:g} SQL · {sm['questions']:,} questions, "
        f"{sm['answered']:,} answered, {share:.0%} first answered by experts",
    ]
    machine = results["machine"]
    code = results["plugin_code"]
    changed = "" if code["start"] == code["end"] else f" (CHANGED during the run: {code['end']})"
    lines += [
        "",
        f"plugin code: {code['start']}{changed}",
        "SQL: statements (median over the runs; the fewest–most when they differ); SQL time: "
        "median time waiting for them.",
        machine_line(machine),
    ]
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=3000, metavar="U", help="members")
    parser.add_argument(
        "--questions",
        type=int,
        default=20_000,
        metavar="Q",
        help=f"questions over {DAYS} days ({ANSWERS_PER_QUESTION} answers and "
        f"{VOTES_PER_QUESTION} votes each on average)",
    )
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each event and page")
    parser.add_argument(
        "--database-url",
        help="database to fill (its tables are DROPPED); default: SQLite in a temporary folder",
    )
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same data")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the report")
    parser.add_argument("--json-out", metavar="FILE", help="also write the JSON to FILE")
    args = parser.parse_args(argv)
    if args.users < 100 or args.questions < 1000 or args.runs < 1:
        parser.error("at least 100 users, 1000 questions and 1 run")
    return args


def step(name: str, run: Callable[[], Any]) -> Any:
    log(f"{name}…")
    t0 = time.perf_counter()
    found = run()
    log(f"{name}: {time.perf_counter() - t0:.1f} s")
    return found


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.database_url:
        check_database_url(args.database_url)
    load_before = os.getloadavg()[0]
    workdir = tempfile.mkdtemp(prefix="community-bench-experts-")
    try:
        from community import create_app
        from community.extensions import db

        app = create_app(make_config(args, workdir))
        log(f"data: {args.questions:,} questions, {args.users:,} members, in {workdir}")
        world = World(args)
        with app.app_context():
            generated = step("data", world.run)
        results: dict[str, Any] = {"options": vars(args), "generated": generated}
        measure_start = time.perf_counter()
        cpu_start = cpu_seconds()
        code = plugin_fingerprint()
        results["rebuild"] = step("rebuild", lambda: measure_rebuild(app))
        expert_id = heavy_expert(app, world)
        results["events"] = step("events", lambda: measure_events(app, world, expert_id, args.runs))
        results["routing"] = step("routing", lambda: measure_routing(app, world))
        results["space_metrics"] = step(
            "space_metrics", lambda: measure_space_metrics(app, world, args.runs)
        )
        busiest = results["routing"]["busiest"]
        results["pages"] = step(
            "pages",
            lambda: measure_pages(app, world, busiest["user_id"] if busiest else None, args.runs),
        )
        with app.app_context():
            db.engine.dispose()
        results["machine"] = machine_summary(load_before, cpu_start, measure_start)
        results["plugin_code"] = {"start": code, "end": plugin_fingerprint()}
    finally:
        clean_up(args, workdir)
    return publish(args, results, report)


if __name__ == "__main__":
    sys.exit(main())
