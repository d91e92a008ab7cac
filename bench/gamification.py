"""Gamification benchmark: the leaderboards and a profile page on a large points ledger.

    python bench/gamification.py [--users U] [--rows N] [--runs R]
                                 [--database-url URL] [--json]

A fresh app in a temporary instance folder, with a database of its own (a SQLite file there,
or ``--database-url``, whose tables are dropped and created again), with the gamification
plugin enabled. Users, spaces, a ledger of N rows spread over a year and the members' totals
are inserted in bulk; then the leaderboard pages (all time, this month, this week; the whole
site and one space with the spaces inside it) and profile pages are requested through the
test client, signed in as a member, and the time and the SQL statements of each are printed.
See ``bench/README.md`` for what each number means. This is a measuring tool, not a test: it
fails only when something does not work at all.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``community`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
    publish,
)

PROTECTED_DATABASES = {"test", "helper_pg", "main_notif"}
PLUGIN = "gamification"
INSERT_ROWS = 5000
VIEWER_ID = 1  # the member the pages are requested as
FIRST_MEMBER_ID = 2
STAFF = 20  # staff accounts with points (left out of the boards)
SUSPENDED_EVERY = 97  # one member in 97 is suspended (left out)
# (slug, visibility, parent slug, share of the ledger rows)
SPACES = [
    ("help", "public", None, 0.40),
    ("wifi", "public", "help", 0.18),
    ("mesh", "public", "wifi", 0.07),
    ("ideas", "public", None, 0.20),
    ("lounge", "members", None, 0.08),
    ("staff-room", "staff", None, 0.04),
]
SITE_WIDE_SHARE = 0.03  # rows with no space (manual adjustments)
# (reason, amount, weight): what the points engine writes, roughly in these proportions.
REASONS = [
    ("answer_upvoted", 10, 45),
    ("question_upvoted", 5, 18),
    ("answer_accepted", 15, 14),
    ("asker_accepted", 2, 8),
    ("idea_voted", 2, 8),
    ("answer_downvoted", -2, 4),
    ("downvote_cast", -1, 2),
    ("idea_shipped", 50, 1),
]


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
        "DATABASE_URL": url,
        "INSTANCE_PATH": os.path.join(workdir, "instance"),
        "PASSWORD_HASH_METHOD": PASSWORD_HASH_METHOD,
    }


@contextmanager
def count_sql(app: Any) -> Iterator[dict[str, float]]:
    """Count the SQL statements sent to the database meanwhile (``total``) and the seconds
    spent waiting for them (``seconds``)."""
    from sqlalchemy import event

    from community.extensions import db

    counts: dict[str, float] = {"total": 0, "seconds": 0.0}
    started: list[float] = []

    def before(*args: Any) -> None:
        counts["total"] += 1
        started.append(time.perf_counter())

    def after(*args: Any) -> None:
        if started:
            counts["seconds"] += time.perf_counter() - started.pop()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


# --- data ------------------------------------------------------------------------------------


class Data:
    """Users, spaces, the ledger and the totals, in bulk (rows with their ids)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from community.dbtypes import utcnow

        self.args = args
        self.rng = random.Random(args.seed)
        self.now = utcnow().replace(microsecond=0)
        self.member_ids = list(range(FIRST_MEMBER_ID, FIRST_MEMBER_ID + args.users))
        first_staff = FIRST_MEMBER_ID + args.users
        self.staff_ids = list(range(first_staff, first_staff + STAFF))
        self.space_ids: dict[str, int] = {}
        self.totals: Counter[int] = Counter()

    def run(self) -> dict[str, Any]:
        from community.extensions import db

        t0 = time.perf_counter()
        reset_schema_with_plugin()
        self._users()
        self._spaces()
        rows = self._ledger()
        self._totals()
        self._awards()
        db.session.commit()
        fix_sequences()
        stats = analyze()
        stats.update(
            seconds=time.perf_counter() - t0,
            ledger_rows=rows,
            dialect=db.engine.dialect.name,
            server_version=".".join(str(v) for v in db.engine.dialect.server_version_info or ()),
            accounts_with_points=sum(1 for uid, p in self.totals.items() if p > 0),
        )
        return stats

    def _insert(self, model: Any, rows: list[dict[str, Any]]) -> None:
        from sqlalchemy import insert

        from community.extensions import db

        for start in range(0, len(rows), INSERT_ROWS):
            db.session.execute(insert(model), rows[start : start + INSERT_ROWS])
        db.session.commit()

    def _users(self) -> None:
        from community.accounts.models import User

        template = User(username="x", username_key="x", email="x")
        template.set_password("bench")
        joined = self.now - timedelta(days=500)
        names = {VIEWER_ID: "bench.viewer"}
        names.update({i: f"member.{i}" for i in self.member_ids})
        names.update({i: f"staff.{i}" for i in self.staff_ids})
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
                    "is_staff": i in self.staff_ids,
                    "email_confirmed_at": joined,
                    "created_at": joined,
                    "locale": "en",
                    "bio": "",
                    "active": i % SUSPENDED_EVERY != 0,
                }
                for i, name in names.items()
            ],
        )

    def _spaces(self) -> None:
        from community.spaces.models import Space

        rows = []
        for position, (slug, visibility, parent, _share) in enumerate(SPACES, start=1):
            self.space_ids[slug] = position
            rows.append(
                {
                    "id": position,
                    "parent_id": self.space_ids[parent] if parent else None,
                    "slug": slug,
                    "title": slug.replace("-", " ").title(),
                    "description": "",
                    "visibility": visibility,
                    "default_kind": "question",
                    "position": position,
                    "created_at": self.now - timedelta(days=500),
                }
            )
        self._insert(Space, rows)

    def _ledger(self) -> int:
        """``rows`` ledger rows over a year: a few members earn most points (a Zipf-like
        spread, as on real forums); the viewer earns some too, so that their own place is
        worked out."""
        from community_gamification.models import LedgerEntry

        rng = self.rng
        earners = self.member_ids + self.staff_ids + [VIEWER_ID]
        weights = [1 / (rank + 10) ** 0.9 for rank in range(len(earners))]
        rng.shuffle(earners)
        spaces = [(self.space_ids[slug], share) for slug, _v, _p, share in SPACES]
        space_choices = [sid for sid, _ in spaces] + [None]
        space_weights = [share for _, share in spaces] + [SITE_WIDE_SHARE]
        reasons = [(r, a) for r, a, _w in REASONS]
        reason_weights = [w for _r, _a, w in REASONS]
        n = self.args.rows
        users = rng.choices(earners, weights, k=n)
        where = rng.choices(space_choices, space_weights, k=n)
        what = rng.choices(reasons, reason_weights, k=n)
        batch: list[dict[str, Any]] = []
        year = timedelta(days=365).total_seconds()
        for i in range(n):
            when = self.now - timedelta(seconds=year * rng.random() ** 1.3)  # more recent rows
            reason, amount = what[i]
            self.totals[users[i]] += amount
            batch.append(
                {
                    "id": i + 1,
                    "user_id": users[i],
                    "amount": amount,
                    "reason": reason,
                    "key": f"bench:{i + 1}",
                    "object_type": "post",
                    "object_id": i + 1,
                    "space_id": where[i],
                    "occurred_at": when,
                    "created_at": when,
                }
            )
            if len(batch) == INSERT_ROWS:
                self._insert(LedgerEntry, batch)
                batch = []
        self._insert(LedgerEntry, batch)
        return n

    def _totals(self) -> None:
        from community_gamification.models import Total

        self._insert(
            Total,
            [
                {"user_id": uid, "points": points, "updated_at": self.now}
                for uid, points in sorted(self.totals.items())
            ],
        )

    def _awards(self) -> None:
        """A few badges per member with points (for the profile card)."""
        from community_gamification.badges import RULES
        from community_gamification.models import Award

        slugs = list(RULES)
        rows = []
        for uid, points in sorted(self.totals.items()):
            if points <= 0:
                continue
            for slug in self.rng.sample(slugs, k=min(len(slugs), 1 + points // 400)):
                rows.append(
                    {
                        "user_id": uid,
                        "badge": slug,
                        "awarded_at": self.now - timedelta(days=self.rng.randint(0, 300)),
                        "reason": "",
                    }
                )
        self._insert(Award, rows)


def reset_schema_with_plugin() -> None:
    """Drop every table, create the schema (core's and the plugins'), record the plugins'
    tables as migrated, and enable the plugin as the admin's button does."""
    from alembic import command

    from community.extensions import db
    from community.plugins.migrations import alembic_config, migrated_plugins
    from community.plugins.services import enable_plugin
    from community.testing import drop_every_table

    drop_every_table()
    db.create_all()
    for info in migrated_plugins():
        command.stamp(alembic_config(info), "heads")
    enable_plugin(PLUGIN)
    db.session.commit()


def fix_sequences() -> None:
    """Rows went in with their ids: move PostgreSQL's sequences past them."""
    from sqlalchemy import text

    from community.extensions import db

    if db.engine.dialect.name != "postgresql":
        return
    for table in ("users", "spaces", "gamification_ledger", "gamification_awards"):
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )
    db.session.commit()


# --- pages -----------------------------------------------------------------------------------


ROW = re.compile(rb'<tr id="rank-\d+"')


def pages(data: Data) -> list[tuple[str, str]]:
    """``(name, url)`` of the pages measured."""
    from community_gamification.models import Total
    from sqlalchemy import select

    from community.extensions import db

    best = db.session.scalar(
        select(Total.user_id)
        .where(Total.user_id.in_(data.member_ids[:500]))
        .order_by(Total.points.desc())
        .limit(1)
    )
    return [
        ("all time", "/leaderboard/"),
        ("all time, page 20", "/leaderboard/?page=20"),
        ("this month", "/leaderboard/?period=month"),
        ("this week", "/leaderboard/?period=week"),
        ("space: all time", "/leaderboard/?space=help"),
        ("space: this month", "/leaderboard/?space=help&period=month"),
        ("space: this week", "/leaderboard/?space=help&period=week"),
        ("visitor: this month", "/leaderboard/?period=month&visitor=1"),
        ("profile: the best member", f"/u/member.{best}"),
        ("profile: the viewer", "/u/bench.viewer"),
    ]


def measure_page(app: Any, url: str, runs: int) -> dict[str, Any]:
    """``GET url`` signed in as the viewer (as a visitor when the URL says ``visitor=1``):
    ``runs`` timed requests after a warm-up one."""
    visitor = "visitor=1" in url
    client = app.test_client()
    if not visitor:
        with client.session_transaction() as session:
            session["_user_id"] = str(VIEWER_ID)
            session["_fresh"] = True
    times, sql_times = [], []
    statements = 0
    rows = 0
    for i in range(runs + 1):
        with count_sql(app) as sql:
            t0 = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            sys.exit(f"GET {url}: {response.status_code}")
        statements = int(sql["total"])
        rows = len(ROW.findall(response.data))
        if i:  # the first one warms up
            times.append(elapsed)
            sql_times.append(sql["seconds"] * 1000)
    return {
        "url": url,
        "runs": runs,
        "median_ms": statistics.median(times),
        "p95_ms": percentile(times, 95),
        "sql_median_ms": statistics.median(sql_times),
        "sql": statements,
        "rows": rows,
    }


def measure_pages(app: Any, data: Data, runs: int) -> dict[str, dict[str, Any]]:
    with app.app_context():
        named = pages(data)
    results = {}
    for name, url in named:
        log(f"  {name}…")
        results[name] = measure_page(app, url, runs)
    return results


# --- report ----------------------------------------------------------------------------------


def report(results: dict[str, Any]) -> str:
    gen = results["generated"]
    args = results["options"]
    db_name = "SQLite" if gen["dialect"] == "sqlite" else f"PostgreSQL {gen['server_version']}"
    if gen.get("autovacuum") == "off":
        db_name += " (autovacuum off; ANALYZE run after the load)"
    lines = [
        f"{db_name} · {gen['ledger_rows']:,} ledger rows · {args['users']:,} members "
        f"({gen['accounts_with_points']:,} accounts with points, staff included) · "
        f"{len(SPACES)} spaces · {args['runs']} runs per page · seed {args['seed']}",
        f"data: inserted in {gen['seconds']:.1f} s",
        "",
    ]
    header = ("page", "median", "p95", "SQL time", "SQL", "rows")
    table = [header]
    for name, page in results["pages"].items():
        table.append(
            (
                name,
                fmt_ms(page["median_ms"]),
                fmt_ms(page["p95_ms"]),
                fmt_ms(page["sql_median_ms"]),
                str(page["sql"]),
                str(page["rows"]) if page["url"].startswith("/leaderboard") else "",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for n, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    machine = results["machine"]
    lines += [
        "",
        "SQL: statements per request (the same on every run); SQL time: median time waiting "
        "for them.",
        machine_line(machine),
    ]
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=2000, metavar="U", help="members")
    parser.add_argument(
        "--rows", type=int, default=100_000, metavar="N", help="ledger rows (over a year)"
    )
    parser.add_argument("--runs", type=int, default=20, help="timed requests of each page")
    parser.add_argument(
        "--database-url",
        help="database to fill (its tables are DROPPED); default: SQLite in a temporary folder",
    )
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same data")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the report")
    parser.add_argument("--json-out", metavar="FILE", help="also write the JSON to FILE")
    args = parser.parse_args(argv)
    if min(args.users, args.rows, args.runs) < 1:
        parser.error("the counts must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.database_url:
        check_database_url(args.database_url)
    load_before = os.getloadavg()[0]
    workdir = tempfile.mkdtemp(prefix="community-bench-gamification-")
    try:
        from community import create_app
        from community.extensions import db

        app = create_app(make_config(args, workdir))
        log(f"data: {args.rows:,} ledger rows over {args.users:,} members, in {workdir}")
        data = Data(args)
        with app.app_context():
            generated = data.run()
        log(f"data: {generated['seconds']:.1f} s")
        results: dict[str, Any] = {"options": vars(args), "generated": generated}
        measure_start = time.perf_counter()
        cpu_start = cpu_seconds()
        log("pages…")
        results["pages"] = measure_pages(app, data, args.runs)
        with app.app_context():
            db.engine.dispose()
        results["machine"] = machine_summary(load_before, cpu_start, measure_start)
    finally:
        clean_up(args, workdir)
    return publish(args, results, report)


if __name__ == "__main__":
    sys.exit(main())
