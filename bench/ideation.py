"""Ideation benchmark: the roadmap, an idea's page, insight, export and the idea workflow's
writes on a forum of many voted ideas.

    python bench/ideation.py [--users U] [--ideas I] [--votes V] [--runs R]
                             [--database-url URL] [--json]

A fresh app in a temporary instance folder, with a database of its own (a SQLite file there,
or ``--database-url``, whose tables are dropped and created again), with the ideation plugin
enabled and a vote budget of 10. Members, four idea spaces, I ideas over two years with a
realistic mix of statuses and their timelines, V up votes on their opening posts (the
counters agree with the votes), the voters' follows, importance rows, staff notes, monthly
releases with the ideas they shipped, and a few ideas set up for the timed writes are inserted
in bulk; then the plugin's pages (roadmap, roadmap index, an idea with 2,000 votes and a long
timeline, insight, the exports, a release) and its writes (a status change, a duplicate
merge, a vote under the budget) are measured. See ``bench/README.md`` for what each number
means. This is a measuring tool, not a test: it fails only when something does not work at
all.
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

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``community`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.experts import (  # noqa: E402
    bulk_insert,
    measured,
    step,
    summary,
    table,
    timing_row,
)
from bench.gamification import check_database_url, count_sql, make_config  # noqa: E402
from bench.search import (  # noqa: E402
    analyze,
    clean_up,
    cpu_seconds,
    fmt_ms,
    log,
    machine_line,
    machine_summary,
    publish,
    request_as,
)

PLUGIN = "ideation"
VIEWER_ID = 1  # bench.member: signed in for nothing but the roadmap index (no votes)
PM_ID = 2  # bench.product: on the product team of every idea space
VOTER_ID = 3  # bench.voter: BUDGET - 1 active votes in the big space
FULL_ID = 4  # bench.full: BUDGET active votes in the big space (the gate refuses)
FIRST_STAFF_ID = 5
STAFF = 10
SUSPENDED_EVERY = 97
DAYS = 730  # the ideas' span
BUDGET = 10  # the vote budget set for the run
CLOSED_VOTES = 150  # the two budget voters' votes on closed ideas of the big space
# (slug, title, share of the ideas)
SPACES = [
    ("app-ideas", "App ideas", 0.40),
    ("router-ideas", "Router ideas", 0.30),
    ("cloud-ideas", "Cloud ideas", 0.20),
    ("billing-ideas", "Billing ideas", 0.10),
]
BIG_SPACE = "app-ideas"
# status: (share of the ideas, the statuses it went through after "new")
STATUS_MIX = {
    "new": (0.45, ()),
    "under_review": (0.15, ("under_review",)),
    "planned": (0.08, ("under_review", "planned")),
    "in_progress": (0.04, ("under_review", "planned", "in_progress")),
    "shipped": (0.10, ("under_review", "planned", "in_progress", "shipped")),
    "declined": (0.13, ("under_review", "declined")),
    "duplicate": (0.05, ("duplicate",)),
}
OPEN = ("new", "under_review", "planned", "in_progress")
VOTE_WEIGHT = {"duplicate": 0.2, "declined": 0.7, "shipped": 1.5, "in_progress": 1.5}
MAX_VOTES = 1500  # on an ordinary idea
SHOWCASE_VOTES = 2000
SHOWCASE_REPLIES = 20
SHOWCASE_NOTES = 8
# the showcase's back and forth: 39 changes, ending In progress (open: the form is shown)
SHOWCASE_PATH = [
    "under_review",
    "planned",
    "in_progress",
    "planned",
    "under_review",
    "new",
] * 6 + ["under_review", "planned", "in_progress"]
MERGE_RUNS = 5  # duplicate merges timed (after one warm-up): each needs a pair of its own
MERGE_VOTES = 1000  # on each idea of a pair
MERGE_SHARED = 500  # voters of both
EXPORT_RUNS = 5  # the exports read every vote of the space: fewer runs
IMPORTANCE_SHARE = 0.25  # voters who say how much an idea matters
RELEASES = 24  # one a month
NOTED = 0.3  # ideas under review, planned or in progress with 1 to 3 staff notes
LOCALES = ["en", "en", "en", "it", "de", "fr", None]
RESPONSES = {
    "under_review": "Thanks! The product team is looking at this.",
    "planned": "We plan to build this; it is on the roadmap.",
    "in_progress": "We are working on it right now.",
    "shipped": "This shipped: update the app to get it.",
    "declined": "We will not build this: it does not fit the product.",
    "duplicate": "This is a duplicate of an older idea; the votes went there.",
    "new": "Back to new: we look at it again later.",
}
TITLE_WORDS = [
    "dark mode", "widgets", "offline maps", "export to CSV", "family sharing", "guest wifi",
    "parental controls", "speed test", "scheduled reboot", "two-factor login", "invoices",
    "usage alerts", "VPN profiles", "mesh status", "firmware notes", "IPv6 toggle",
]  # fmt: skip


# --- data ------------------------------------------------------------------------------------


class World:
    """Members, idea spaces, ideas with their opening posts, up votes, follows, timelines,
    duplicates, importance, staff notes and releases, in bulk (rows with their ids);
    ``special`` names the ideas set up for the pages and the writes."""

    def __init__(self, args: argparse.Namespace) -> None:
        from community.dbtypes import utcnow

        self.args = args
        self.rng = random.Random(args.seed)
        self.now = utcnow().replace(microsecond=0)
        self.staff_ids = list(range(FIRST_STAFF_ID, FIRST_STAFF_ID + STAFF))
        first = FIRST_STAFF_ID + STAFF
        self.member_ids = list(range(first, first + args.users))
        self.voters = [u for u in self.member_ids if u % SUSPENDED_EVERY != 0] + self.staff_ids
        self.space_ids = {slug: i for i, (slug, *_rest) in enumerate(SPACES, start=1)}
        self.rows: dict[str, list[dict[str, Any]]] = {
            key: []
            for key in (
                "topics",
                "posts",
                "votes",
                "follows",
                "changes",
                "duplicates",
                "importance",
                "notes",
                "releases",
                "shipped",
            )
        }
        self.voted: dict[int, set[int]] = {}  # topic id -> its up voters
        self.special: dict[str, Any] = {}

    def run(self) -> dict[str, Any]:
        from community.extensions import db
        from community.topics.recount import recount_spaces

        t0 = time.perf_counter()
        reset_schema_with_plugin()
        self._users_spaces()
        self._releases()
        self._ideas()
        self._votes()
        self._showcase()
        self._pairs()
        self._status_ideas()
        self._budget_voters()
        self._counters()
        self._insert_all()
        recount_spaces()
        db.session.commit()
        fix_sequences()
        stats = analyze()
        rows = self.rows
        statuses = Counter(t["status"] for t in rows["topics"])
        stats.update(
            seconds=time.perf_counter() - t0,
            dialect=db.engine.dialect.name,
            server_version=".".join(str(v) for v in db.engine.dialect.server_version_info or ()),
            users=len(self.member_ids) + STAFF + 4,
            ideas=len(rows["topics"]),
            statuses=dict(statuses),
            votes=len(rows["votes"]),
            follows=len(rows["follows"]),
            changes=len(rows["changes"]),
            importance=len(rows["importance"]),
            notes=len(rows["notes"]),
            releases=len(rows["releases"]),
            shipped=len(rows["shipped"]),
            special={k: v for k, v in self.special.items() if not isinstance(v, list)},
        )
        return stats

    # --- people, places, releases ------------------------------------------------------------

    def _users_spaces(self) -> None:
        from community.accounts.models import User
        from community.spaces.models import Space

        rng = self.rng
        template = User(username="x", username_key="x", email="x")
        template.set_password("bench")
        names = {
            VIEWER_ID: "bench.member",
            PM_ID: "bench.product",
            VOTER_ID: "bench.voter",
            FULL_ID: "bench.full",
        }
        names.update({i: f"staff.{i}" for i in self.staff_ids})
        names.update({i: f"member.{i}" for i in self.member_ids})
        self.joined: dict[int, Any] = {}
        users = []
        for i, name in names.items():
            joined = self.now - timedelta(days=rng.uniform(1, DAYS + 400))
            self.joined[i] = joined
            users.append(
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
                    "locale": "en" if i < FIRST_STAFF_ID else rng.choice(LOCALES),
                    "bio": "",
                    "active": i < FIRST_STAFF_ID + STAFF or i % SUSPENDED_EVERY != 0,
                }
            )
        start = self.now - timedelta(days=DAYS + 500)
        spaces = [
            {
                "id": self.space_ids[slug],
                "parent_id": None,
                "slug": slug,
                "title": title,
                "description": "",
                "visibility": "public",
                "default_kind": "idea",
                "position": self.space_ids[slug],
                "created_at": start,
            }
            for slug, title, _share in SPACES
        ]
        bulk_insert(User, users)
        bulk_insert(Space, spaces)
        from community_ideation.models import ProductTeam

        bulk_insert(
            ProductTeam,
            [
                {
                    "id": sid,
                    "space_id": sid,
                    "user_id": PM_ID,
                    "added_by_id": None,
                    "created_at": start,
                }
                for sid in self.space_ids.values()
            ],
        )

    def _releases(self) -> None:
        self.release_days = []
        for n in range(RELEASES):
            released = (self.now - timedelta(days=DAYS * (RELEASES - n) / RELEASES)).date()
            self.release_days.append(released)
            self.rows["releases"].append(
                {
                    "id": n + 1,
                    "slug": f"release-{n + 1}",
                    "name": f"Release {n + 1}",
                    "released_on": released,
                    "notes_source": f"Release {n + 1}: the ideas below, and fixes.",
                    "notes_html": f"<p>Release {n + 1}: the ideas below, and fixes.</p>",
                    "created_by_id": self.staff_ids[0],
                    "created_at": self.now,
                }
            )

    # --- ideas and their timelines -----------------------------------------------------------

    def _ideas(self) -> None:
        rng = self.rng
        span = DAYS * 86400
        slugs = [slug for slug, *_rest in SPACES]
        shares = [share for *_rest, share in SPACES]
        keys = list(STATUS_MIX)
        mix = [STATUS_MIX[k][0] for k in keys]
        moments = sorted(
            self.now - timedelta(seconds=3600 + span * rng.random()) for _ in range(self.args.ideas)
        )
        for created, slug, status in zip(
            moments,
            rng.choices(slugs, shares, k=len(moments)),
            rng.choices(keys, mix, k=len(moments)),
            strict=True,
        ):
            topic = self._idea(slug, created, status)
            self._timeline(topic, STATUS_MIX[status][1])
            if status in ("under_review", "planned", "in_progress") and rng.random() < NOTED:
                for _ in range(rng.randint(1, 3)):
                    room = (self.now - created).total_seconds()
                    self._note(topic, created + timedelta(seconds=room * rng.random()))

    def _idea(self, slug: str, created: Any, status: str, author: int | None = None) -> dict:
        rng = self.rng
        topic_id = len(self.rows["topics"]) + 1
        author = author or rng.choice(self.member_ids)
        words = rng.choice(TITLE_WORDS)
        topic = {
            "id": topic_id,
            "space_id": self.space_ids[slug],
            "author_id": author,
            "kind": "idea",
            "title": f"Idea {topic_id}: {words}",
            "slug": f"idea-{topic_id}",
            "created_at": created,
            "last_activity_at": created,
            "is_pinned": False,
            "is_locked": False,
            "status": status,
            "reply_count": 0,
            "score": 0,
        }
        self.rows["topics"].append(topic)
        self._post(topic, author, created, opening=True)
        self.rows["follows"].append(
            {
                "user_id": author,
                "target_type": "topic",
                "target_id": topic_id,
                "active": True,
                "created_at": created,
            }
        )
        return topic

    def _post(self, topic: dict[str, Any], author: int, created: Any, *, opening: bool) -> dict:
        post_id = len(self.rows["posts"]) + 1
        text = f"It would help if the {topic['title'].split(': ', 1)[1]} worked better."
        post = {
            "id": post_id,
            "topic_id": topic["id"],
            "author_id": author,
            "parent_id": None,
            "is_opening": opening,
            "body_source": text,
            "body_html": f"<p>{text}</p>",
            "created_at": created,
            "score": 0,
            "upvotes": 0,
            "downvotes": 0,
        }
        if opening:
            topic["opening"] = post
        self.rows["posts"].append(post)
        return post

    def _timeline(self, topic: dict[str, Any], path: tuple[str, ...] | list[str]) -> None:
        """The changes of status from "new" along ``path``, spread between the idea's creation
        and now; a shipped idea ships in the first release after its last change, a duplicate
        duplicates an older idea of its space."""
        if not path:
            return
        rng = self.rng
        created = topic["created_at"]
        room = (self.now - created).total_seconds()
        moments = sorted(created + timedelta(seconds=room * rng.random()) for _ in path)
        previous = "new"
        for status, moment in zip(path, moments, strict=True):
            release_id = None
            if status == "shipped":
                release_id = self._release_after(moment)
                if release_id is not None:
                    self.rows["shipped"].append({"topic_id": topic["id"], "release_id": release_id})
            response = (
                RESPONSES[status]
                if status in ("declined", "shipped", "duplicate") or (rng.random() < 0.5)
                else ""
            )
            self.rows["changes"].append(
                {
                    "id": len(self.rows["changes"]) + 1,
                    "topic_id": topic["id"],
                    "actor_id": rng.choice(self.staff_ids),
                    "from_status": previous,
                    "to_status": status,
                    "response_source": response,
                    "response_html": f"<p>{response}</p>" if response else "",
                    "release_id": release_id,
                    "created_at": moment,
                }
            )
            previous = status
        topic["last_activity_at"] = moments[-1]
        if path[-1] == "duplicate":
            earlier = [
                t
                for t in self.rows["topics"][-400:-1]
                if t["space_id"] == topic["space_id"] and t["status"] in OPEN
            ]
            if earlier:
                target = rng.choice(earlier)
                self.rows["duplicates"].append(
                    {
                        "source_id": topic["id"],
                        "target_id": target["id"],
                        "actor_id": rng.choice(self.staff_ids),
                        "created_at": moments[-1],
                    }
                )

    def _release_after(self, moment: Any) -> int | None:
        day = moment.date()
        for n, released in enumerate(self.release_days):
            if released >= day:
                return n + 1
        return None

    # --- votes -------------------------------------------------------------------------------

    def _vote(self, topic: dict[str, Any], voter: int, when: Any | None = None) -> None:
        rng = self.rng
        created = topic["created_at"]
        if when is None:
            age = (self.now - created).total_seconds()
            when = created + timedelta(seconds=age * rng.random() ** 3)
        self.rows["votes"].append(
            {
                "id": len(self.rows["votes"]) + 1,
                "post_id": topic["opening"]["id"],
                "user_id": voter,
                "value": 1,
                "created_at": when,
            }
        )
        self.voted.setdefault(topic["id"], set()).add(voter)
        self.rows["follows"].append(
            {
                "user_id": voter,
                "target_type": "topic",
                "target_id": topic["id"],
                "active": True,
                "created_at": when,
            }
        )
        if rng.random() < IMPORTANCE_SHARE:
            self.rows["importance"].append(
                {
                    "id": len(self.rows["importance"]) + 1,
                    "user_id": voter,
                    "topic_id": topic["id"],
                    "level": rng.choices(["nice", "important", "critical"], [5, 3, 1])[0],
                }
            )

    def _votes(self) -> None:
        """Up votes on the ideas' opening posts, by distinct members, heavy-tailed (a few ideas
        draw hundreds), fewer on duplicates and declined ideas."""
        rng = self.rng
        ideas = self.rows["topics"]
        weights = [rng.paretovariate(1.2) * VOTE_WEIGHT.get(t["status"], 1.0) for t in ideas]
        counts = Counter(t["id"] for t in rng.choices(ideas, weights, k=self.args.votes))
        for topic_id, wanted in sorted(counts.items()):
            topic = ideas[topic_id - 1]
            for voter in rng.sample(self.voters, min(wanted, MAX_VOTES)):
                if voter != topic["author_id"]:
                    self._vote(topic, voter)

    # --- the ideas of the pages and the writes -----------------------------------------------

    def _showcase(self) -> None:
        """The idea page: 2,000 votes, 39 changes of status, replies, staff notes."""
        rng = self.rng
        created = self.now - timedelta(days=400)
        topic = self._idea(BIG_SPACE, created, "in_progress")
        self._timeline(topic, SHOWCASE_PATH)
        for voter in rng.sample(self.voters, SHOWCASE_VOTES + 1)[:SHOWCASE_VOTES]:
            if voter != topic["author_id"]:
                self._vote(topic, voter)
        when = created
        for _ in range(SHOWCASE_REPLIES):
            when = when + timedelta(hours=rng.uniform(1, 200))
            self._post(topic, rng.choice(self.member_ids), when, opening=False)
        topic["reply_count"] = SHOWCASE_REPLIES
        for n in range(SHOWCASE_NOTES):
            self._note(topic, created + timedelta(days=10 * (n + 1)))
        self.special["showcase"] = topic["id"]

    def _note(self, topic: dict[str, Any], when: Any) -> None:
        self.rows["notes"].append(
            {
                "id": len(self.rows["notes"]) + 1,
                "topic_id": topic["id"],
                "author_id": self.rng.choice(self.staff_ids),
                "body": "Effort: about two sprints. Linked to the backlog item APP-1234.",
                "created_at": when,
            }
        )

    def _pairs(self) -> None:
        """MERGE_RUNS + 1 pairs of new ideas in the big space, 1,000 votes each, 500 voters
        in common: the source of each is merged into its target."""
        rng = self.rng
        pairs = []
        for _ in range(MERGE_RUNS + 1):
            created = self.now - timedelta(days=rng.uniform(30, 200))
            source = self._idea(BIG_SPACE, created, "new")
            target = self._idea(BIG_SPACE, created - timedelta(days=20), "new")
            people = [
                v
                for v in rng.sample(self.voters, 2 * MERGE_VOTES + 2)
                if v not in (source["author_id"], target["author_id"])
            ]
            shared = people[:MERGE_SHARED]
            only_source = people[MERGE_SHARED:MERGE_VOTES]
            only_target = people[MERGE_VOTES : 2 * MERGE_VOTES - MERGE_SHARED]
            for voter in shared + only_source:
                self._vote(source, voter)
            for voter in shared + only_target:
                self._vote(target, voter)
            pairs.append((source["id"], target["id"], len(only_source)))
        self.special["pairs"] = pairs

    def _status_ideas(self) -> None:
        """Planned ideas of the big space (not on the roadmap's first page) that the timed
        status changes move to In progress, with an official response."""
        big = self.space_ids[BIG_SPACE]
        planned = [
            t for t in self.rows["topics"] if t["space_id"] == big and t["status"] == "planned"
        ]
        planned.sort(key=lambda t: len(self.voted.get(t["id"], ())))
        middle = len(planned) // 2
        self.special["status_ideas"] = [
            t["id"] for t in planned[middle : middle + self.args.runs + 1]
        ]
        self.special["planned_big"] = len(planned)

    def _budget_voters(self) -> None:
        """bench.voter: BUDGET - 1 votes on open ideas of the big space; bench.full: BUDGET;
        both CLOSED_VOTES on its closed ideas (shipped, declined: they do not count). The
        timed votes go to open ideas neither voted for."""
        rng = self.rng
        big = self.space_ids[BIG_SPACE]
        skip = {self.special["showcase"], *self.special["status_ideas"]}
        skip.update(i for pair in self.special["pairs"] for i in pair[:2])
        ideas = [t for t in self.rows["topics"] if t["space_id"] == big and t["id"] not in skip]
        open_ideas = [t for t in ideas if t["status"] in OPEN]
        closed = [t for t in ideas if t["status"] in ("shipped", "declined")]
        chosen = rng.sample(open_ideas, BUDGET + 2 * (self.args.runs + 1))
        for voter, n in ((VOTER_ID, BUDGET - 1), (FULL_ID, BUDGET)):
            for topic in chosen[:n]:
                self._vote(topic, voter)
            for topic in rng.sample(closed, min(CLOSED_VOTES, len(closed))):
                self._vote(topic, voter)
        rest = chosen[BUDGET:]
        self.special["vote_ideas"] = [t["id"] for t in rest[: self.args.runs + 1]]
        self.special["refused_ideas"] = [t["id"] for t in rest[self.args.runs + 1 :]]

    def _counters(self) -> None:
        """posts.upvotes/score and topics.score from the votes (all up)."""
        posts = {p["id"]: p for p in self.rows["posts"]}
        for post_id, n in Counter(v["post_id"] for v in self.rows["votes"]).items():
            posts[post_id]["upvotes"] = n
            posts[post_id]["score"] = n
        for topic in self.rows["topics"]:
            topic["score"] = topic["opening"]["score"]

    def _insert_all(self) -> None:
        from community_ideation.models import (
            Change,
            Duplicate,
            Importance,
            Release,
            ShippedIn,
            StaffNote,
        )

        from community.notifications.models import Follow
        from community.topics.models import Post, Topic, Vote

        rows = self.rows
        topics = [{k: v for k, v in t.items() if k != "opening"} for t in rows["topics"]]
        bulk_insert(Topic, topics)
        bulk_insert(Post, rows["posts"])
        bulk_insert(Vote, rows["votes"])
        bulk_insert(Follow, rows["follows"])
        bulk_insert(Release, rows["releases"])
        bulk_insert(Change, rows["changes"])
        bulk_insert(ShippedIn, rows["shipped"])
        bulk_insert(Duplicate, rows["duplicates"])
        bulk_insert(Importance, rows["importance"])
        bulk_insert(StaffNote, rows["notes"])


def reset_schema_with_plugin() -> None:
    """Every table dropped and created again (core's and the plugins'), the plugins'
    migrations recorded as done, the ideation plugin enabled as the admin's button does, and
    its vote budget set to BUDGET."""
    from alembic import command

    from community.extensions import db
    from community.plugins.migrations import alembic_config, migrated_plugins
    from community.plugins.services import enable_plugin
    from community.plugins.settings import plugin_settings, save_plugin_settings
    from community.testing import drop_every_table

    drop_every_table()
    db.create_all()
    for info in migrated_plugins():
        command.stamp(alembic_config(info), "heads")
    enable_plugin(PLUGIN)
    db.session.commit()
    values = dict(plugin_settings(PLUGIN))
    values["vote_budget"] = BUDGET
    errors = save_plugin_settings(PLUGIN, values)
    if errors:
        sys.exit(f"could not set the vote budget: {errors}")
    db.session.commit()


def fix_sequences() -> None:
    """Rows went in with their ids: move PostgreSQL's sequences past them."""
    from sqlalchemy import text

    from community.extensions import db

    if db.engine.dialect.name != "postgresql":
        return
    for table_name in (
        "users",
        "spaces",
        "topics",
        "posts",
        "votes",
        "ideation_product_team",
        "ideation_changes",
        "ideation_importance",
        "ideation_notes",
        "ideation_releases",
    ):
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table_name}))"
            )
        )
    db.session.commit()


# --- measuring -------------------------------------------------------------------------------


@contextmanager
def watching_hooks(sql: dict[str, float], sample: dict[str, float]) -> Iterator[None]:
    """Add the time and statements of the plugin's hook work (the timeline row, the webhook
    delivery, moving the importance rows, the vote gate) to ``sample`` as ``hook_ms`` and
    ``hook_sql``."""
    from community_ideation import changes, importance, voting, webhook

    targets = [
        (changes, "record"),
        (webhook, "queue_event"),
        (importance, "move"),
        (importance, "forget"),
        (voting, "vote_gate"),
    ]
    originals = [getattr(module, name) for module, name in targets]
    sample.update(hook_ms=0.0, hook_sql=0)

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kw: Any) -> Any:
            part: dict[str, float] = {}
            with measured(sql, part):
                found = original(*args, **kw)
            sample["hook_ms"] += part["ms"]
            sample["hook_sql"] += part["sql"]
            return found

        return timed

    for (module, name), original in zip(targets, originals, strict=True):
        setattr(module, name, wrap(original))
    try:
        yield
    finally:
        for (module, name), original in zip(targets, originals, strict=True):
            setattr(module, name, original)


def plugin_fingerprint() -> str:
    """A hash of the plugin's ``*.py`` files: which version of its code a report measured."""
    import hashlib

    import community_ideation

    folder = Path(community_ideation.__file__).parent
    files = sorted(folder.glob("*.py"))
    return hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in files)).hexdigest()[
        :12
    ]


def fail_if_plugin_failed(app: Any, where: str) -> None:
    from community.plugins.host import current_host

    with app.app_context():
        failure = current_host().failures.get(PLUGIN)
    if failure:
        sys.exit(f"the ideation plugin failed during {where}: {failure}")


def run_worker(app: Any) -> dict[str, float]:
    """The worker's part of the writes: run the notification events the writes queued
    (``process_event``: the fan-out to the idea's followers, as a worker would) and count,
    without running them, the tasks that fan-out queues in turn (one mail a follower who gets
    mail): sending mail is core's and the mail server's business, not this benchmark's."""
    from community.tasks import task_queue

    huey = task_queue(app).huey
    events = []
    while (queued := huey.dequeue()) is not None:
        if queued.name.endswith(".process_event"):
            events.append(queued)
    sample: dict[str, float] = {}
    with count_sql(app) as sql, measured(sql, sample):
        for queued in events:
            huey.execute(queued)
    sample["tasks"] = len(events)
    later = 0
    while huey.dequeue() is not None:
        later += 1
    sample["queued"] = later
    return sample


def pages(world: World, gen: dict[str, Any]) -> list[tuple[str, str, int | None, int]]:
    """``(name, url, user id or None for anonymous, runs)`` of the pages measured."""
    runs = world.args.runs
    showcase = world.special["showcase"]
    deep = max(2, world.special["planned_big"] // 20)  # the last full page of Planned
    world.special["deep_page"] = deep
    release = gen["biggest_release"]
    return [
        ("roadmap, page 1", f"/roadmap/{BIG_SPACE}", None, runs),
        (
            f"roadmap, Planned page {deep}",
            f"/roadmap/{BIG_SPACE}?column=planned&page={deep}",
            None,
            runs,
        ),
        ("roadmap, product team (notes)", f"/roadmap/{BIG_SPACE}", PM_ID, runs),
        ("roadmap index", "/roadmap/", None, runs),
        ("idea page, anonymous", f"/t/{showcase}/idea-{showcase}", None, runs),
        ("idea page, product team", f"/t/{showcase}/idea-{showcase}", PM_ID, runs),
        ("insight", f"/ideas/insight/{BIG_SPACE}", PM_ID, runs),
        ("export.csv", f"/ideas/insight/{BIG_SPACE}/export.csv", PM_ID, min(runs, EXPORT_RUNS)),
        ("export.json", f"/ideas/insight/{BIG_SPACE}/export.json", PM_ID, min(runs, EXPORT_RUNS)),
        (f"release page ({release['ideas']} ideas)", f"/releases/{release['slug']}", None, runs),
        ("releases index", "/releases/", None, runs),
    ]


def measure_pages(app: Any, world: World, gen: dict[str, Any]) -> dict[str, Any]:
    results = {}
    for name, url, user_id, runs in pages(world, gen):
        log(f"  {name}…")
        client = app.test_client()
        if user_id is not None:
            with client.session_transaction() as session:
                session["_user_id"] = str(user_id)
                session["_fresh"] = True
        samples = []
        response = None
        for _ in range(runs + 1):
            sample: dict[str, float] = {}
            with count_sql(app) as sql, measured(sql, sample):
                response = client.get(url)
                body = response.get_data()  # the exports stream: read them whole
            if response.status_code != 200:
                sys.exit(f"GET {url}: {response.status_code}")
            samples.append(sample)
        assert response is not None
        results[name] = {
            "url": url,
            "user_id": user_id,
            **summary(samples[1:]),
            "kb": len(body) / 1024,
            "notes": body.count(b"ideation-note-body"),
            "timeline": body.count(b"badge-status status-"),
        }
    fail_if_plugin_failed(app, "the pages")
    return results


def biggest_release(app: Any) -> dict[str, Any]:
    from community_ideation.models import Release, ShippedIn
    from sqlalchemy import func, select

    from community.extensions import db

    with app.app_context():
        slug, number = db.session.execute(
            select(Release.slug, func.count())
            .join(ShippedIn, ShippedIn.release_id == Release.id)
            .group_by(Release.slug)
            .order_by(func.count().desc(), Release.slug)
            .limit(1)
        ).one()
    return {"slug": slug, "ideas": number}


def measure_status_change(app: Any, world: World) -> dict[str, Any]:
    """``changes.change_status`` (Planned → In progress with an official response) by the
    product team member, a different idea each run, in a request context of its own: core's
    write and commit, then the hooks inline (the plugin's timeline row and webhook, core's
    notification event); after each, the worker's tasks, timed apart."""
    from community_ideation import changes
    from sqlalchemy import func, select

    from community.extensions import db
    from community.topics.models import Topic

    samples, worker = [], []
    for topic_id in world.special["status_ideas"]:
        sample: dict[str, float] = {}
        with count_sql(app) as sql, request_as(app, PM_ID) as actor:
            topic = db.session.get_one(Topic, topic_id)
            with watching_hooks(sql, sample), measured(sql, sample):
                changes.change_status(actor, topic, "in_progress", RESPONSES["in_progress"])
        samples.append(sample)
        worker.append(run_worker(app))
    fail_if_plugin_failed(app, "the status changes")
    with app.app_context():
        moved = db.session.scalar(
            select(func.count())
            .select_from(Topic)
            .where(Topic.id.in_(world.special["status_ideas"]), Topic.status == "in_progress")
        )
    if moved != len(world.special["status_ideas"]):
        sys.exit(f"only {moved} of the ideas changed status")
    found = summary(samples[1:])
    found["worker"] = summary(worker[1:])
    found["worker"]["tasks"] = max(w["tasks"] for w in worker)
    found["worker"]["queued"] = statistics.median(w["queued"] for w in worker[1:])
    return found


def measure_merge(app: Any, world: World) -> dict[str, Any]:
    """``duplicates.mark_duplicate`` of an idea with 1,000 votes into one with 1,000 (500
    voters in common) by the product team member, a pair of its own each run."""
    from community_ideation import duplicates
    from sqlalchemy import select

    from community.extensions import db
    from community.topics.models import Topic

    samples, worker = [], []
    for source_id, target_id, expected in world.special["pairs"]:
        sample: dict[str, float] = {}
        with count_sql(app) as sql, request_as(app, PM_ID) as actor:
            source = db.session.get_one(Topic, source_id)
            target = db.session.get_one(Topic, target_id)
            with watching_hooks(sql, sample), measured(sql, sample):
                moved = duplicates.mark_duplicate(actor, source, target)
            score = db.session.scalar(select(Topic.score).where(Topic.id == target_id))
        if moved != expected or score != MERGE_VOTES + expected:
            sys.exit(f"merge {source_id} → {target_id}: {moved} votes moved, score {score}")
        samples.append(sample)
        worker.append(run_worker(app))
    fail_if_plugin_failed(app, "the duplicate merges")
    found = summary(samples[1:])
    found["worker"] = summary(worker[1:])
    found["worker"]["tasks"] = max(w["tasks"] for w in worker)
    found["worker"]["queued"] = statistics.median(w["queued"] for w in worker[1:])
    return found


def measure_votes(app: Any, world: World) -> dict[str, Any]:
    """``cast_vote`` on an idea's opening post with a vote budget of 10: by bench.voter (9
    active votes: the gate counts them and lets the vote through; the vote is taken back
    after each run, untimed) and by bench.full (10 active votes: refused)."""
    from community.errors import Refused
    from community.extensions import db
    from community.topics.models import Post
    from community.topics.queries import opening_post
    from community.topics.services import cast_vote

    results: dict[str, Any] = {}
    for name, user_id, ideas in (
        ("allowed", VOTER_ID, world.special["vote_ideas"]),
        ("refused", FULL_ID, world.special["refused_ideas"]),
    ):
        log(f"  vote ({name}) × {len(ideas)}…")
        samples = []
        for topic_id in ideas:
            sample: dict[str, float] = {}
            with count_sql(app) as sql, request_as(app, user_id) as voter:
                from community.topics.models import Topic

                post = opening_post(db.session.get_one(Topic, topic_id))
                refusal = None
                with watching_hooks(sql, sample), measured(sql, sample):
                    try:
                        cast_vote(voter, post, 1)
                    except Refused as exc:
                        refusal = exc
                if name == "allowed":
                    if refusal is not None:
                        sys.exit(f"the vote was refused: {refusal.message}")
                    cast_vote(voter, db.session.get_one(Post, post.id), 1)  # taken back
                elif refusal is None or "used your" not in refusal.message:
                    sys.exit(f"the vote over the budget was not refused by the budget: {refusal}")
            samples.append(sample)
        results[name] = summary(samples[1:])
    fail_if_plugin_failed(app, "the votes")
    return results


# --- report ----------------------------------------------------------------------------------


def report(results: dict[str, Any]) -> str:
    gen = results["generated"]
    args = results["options"]
    db_name = "SQLite" if gen["dialect"] == "sqlite" else f"PostgreSQL {gen['server_version']}"
    if gen.get("autovacuum") == "off":
        db_name += " (autovacuum off; ANALYZE run after the load)"
    statuses = gen["statuses"]
    mix = ", ".join(f"{k} {statuses.get(k, 0):,}" for k in STATUS_MIX)
    lines = [
        f"{db_name} · {gen['users']:,} users · {len(SPACES)} idea spaces · {gen['ideas']:,} "
        f"ideas over {DAYS} days · {gen['votes']:,} up votes · {gen['follows']:,} follows · "
        f"{gen['changes']:,} changes · {gen['importance']:,} importance · {gen['notes']:,} "
        f"staff notes · {gen['releases']} releases ({gen['shipped']:,} ideas shipped) · "
        f"{args['runs']} runs · seed {args['seed']}",
        f"statuses: {mix}",
        f"data: inserted in {gen['seconds']:.1f} s",
        "",
        f"1. pages ({BIG_SPACE}: {gen['big_ideas']:,} ideas; the idea: {SHOWCASE_VOTES:,} votes, "
        f"{len(SHOWCASE_PATH)} changes, {SHOWCASE_NOTES} staff notes; exports: "
        f"{min(args['runs'], EXPORT_RUNS)} runs)",
    ]
    header = ("page", "median", "p95", "SQL time", "SQL", "KiB")
    rows = [timing_row(name, page, f"{page['kb']:,.0f}") for name, page in results["pages"].items()]
    lines += ["   " + line for line in table(header, rows)]
    sc, merge, votes = results["status_change"], results["merge"], results["votes"]
    lines += [
        "",
        "2. writes (through the services, as the product team member / the voter; hooks inline)",
    ]
    header = ("", "median", "p95", "SQL time", "SQL", "plugin's hooks", "hooks SQL")
    rows = [
        timing_row(label, m, fmt_ms(m["hook_median_ms"]), f"{m['hook_sql']:g}")
        for label, m in (
            ("change_status planned → in_progress", sc),
            (f"mark_duplicate ({MERGE_VOTES:,} + {MERGE_VOTES:,}, {MERGE_SHARED} shared)", merge),
            (f"cast_vote, {BUDGET - 1} of {BUDGET} used", votes["allowed"]),
            (f"cast_vote, {BUDGET} of {BUDGET} used (refused)", votes["refused"]),
        )
    ]
    lines += ["   " + line for line in table(header, rows)]
    lines += [
        f"   then the worker's tasks: after a status change {fmt_ms(sc['worker']['median_ms'])} "
        f"· {sc['worker']['sql']:g} SQL, then {sc['worker']['queued']:,.0f} mail tasks queued; "
        f"after a merge {fmt_ms(merge['worker']['median_ms'])} · {merge['worker']['sql']:g} SQL, "
        f"then {merge['worker']['queued']:,.0f} mail tasks queued (not run)",
        f"   merges: {MERGE_RUNS} runs after a warm-up, a pair of ideas each",
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
        "--ideas", type=int, default=20_000, metavar="I", help=f"ideas over {DAYS} days"
    )
    parser.add_argument(
        "--votes",
        type=int,
        default=200_000,
        metavar="V",
        help="up votes on the ideas (the ideas set up for the writes get theirs on top)",
    )
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each page and write")
    parser.add_argument(
        "--database-url",
        help="database to fill (its tables are DROPPED); default: SQLite in a temporary folder",
    )
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same data")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the report")
    parser.add_argument("--json-out", metavar="FILE", help="also write the JSON to FILE")
    args = parser.parse_args(argv)
    if args.users < 2 * MERGE_VOTES or args.ideas < 1000 or args.runs < 1:
        parser.error(f"at least {2 * MERGE_VOTES} users, 1000 ideas and 1 run")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.database_url:
        check_database_url(args.database_url)
    load_before = os.getloadavg()[0]
    workdir = tempfile.mkdtemp(prefix="community-bench-ideation-")
    try:
        from community import create_app
        from community.extensions import db

        app = create_app(make_config(args, workdir))
        log(f"data: {args.ideas:,} ideas, {args.votes:,} votes, {args.users:,} members")
        log(f"in {workdir}")
        world = World(args)
        with app.app_context():
            generated = step("data", world.run)
        big = world.space_ids[BIG_SPACE]
        generated["big_ideas"] = sum(1 for t in world.rows["topics"] if t["space_id"] == big)
        generated["biggest_release"] = biggest_release(app)
        world.rows.clear()  # the rows are in the database now
        results: dict[str, Any] = {"options": vars(args), "generated": generated}
        measure_start = time.perf_counter()
        cpu_start = cpu_seconds()
        code = plugin_fingerprint()
        results["pages"] = step("pages", lambda: measure_pages(app, world, generated))
        run_worker(app)  # nothing of the pages' is left for the writes' workers
        results["status_change"] = step("status change", lambda: measure_status_change(app, world))
        results["merge"] = step("merge", lambda: measure_merge(app, world))
        results["votes"] = step("votes", lambda: measure_votes(app, world))
        generated["special"] = {k: v for k, v in world.special.items() if not isinstance(v, list)}
        with app.app_context():
            db.engine.dispose()
        results["machine"] = machine_summary(load_before, cpu_start, measure_start)
        results["plugin_code"] = {"start": code, "end": plugin_fingerprint()}
    finally:
        clean_up(args, workdir)
    return publish(args, results, report)


if __name__ == "__main__":
    sys.exit(main())
