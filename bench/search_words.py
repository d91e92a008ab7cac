"""Search latency by how common the words are, on a database that already holds a community.

    python bench/search_words.py --database-url URL [--backend postgresql] [--compare REF]

For a database filled by ``bench/generate.py`` (and indexed by ``community search reindex``):
a fixed set of searches, from words in most topics to words in none, each in the three sorts,
run as a signed-in member through the search service (``--runs`` times after a warm-up). It
prints, for each: how many topics match, the results' count as the page would say it, and the
median and p99 of the whole search and of the backend's part. With ``--compare REF`` the same
runs are made with the code at git ``REF`` first (a worktree, on the same database: nothing
is written), then with this checkout, and both are shown side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``community`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.search import (  # noqa: E402
    cpu_seconds,
    log,
    machine_line,
    machine_summary,
    make_config,
    percentile,
    request_as,
    run_query,
    timing_backend,
)

ROOT = Path(__file__).resolve().parent.parent
# From words in most topics of bench/generate.py's community to words in none; the last is
# what the ask form's similar-topics panel sends for a typed title (any of its words).
SEARCHES = [
    "router firmware",
    "guest network",
    "wifi password",
    "ripristino",
    "vpn",
    "antenna",
    "dark theme",
    "invoice refund",
]
SIMILAR = "my router drops the wifi every night"
SORTS = ("relevance", "newest", "votes")


def measure(args: argparse.Namespace, workdir: str) -> dict[str, Any]:
    """Every search, timed in this process with the code it imports."""
    from sqlalchemy import func, select

    from community import create_app
    from community.accounts.models import User
    from community.extensions import db

    config = make_config(args, workdir)
    if args.instance:
        config["INSTANCE_PATH"] = args.instance
    app = create_app(config)
    with app.app_context():
        member = db.session.scalar(
            select(User.id).where(User.role == "member", User.is_staff.is_(False)).limit(1)
        )
        topics = db.session.scalar(select(func.count()).select_from(db.metadata.tables["topics"]))
    searches = [(text, sort) for text in SEARCHES for sort in SORTS] + [(SIMILAR, "similar")]
    rows: list[dict[str, Any]] = []
    with timing_backend(app) as backend_calls:
        for text, sort in searches:
            timed_search(app, member, text, sort)  # warm-up
            backend_calls.clear()
            runs = [timed_search(app, member, text, sort) for _ in range(args.runs)]
            whole = [seconds for seconds, _shown in runs]
            rows.append(
                {
                    "search": text,
                    "sort": sort,
                    "shown": runs[-1][1],
                    "p50": statistics.median(whole) * 1000,
                    "p99": percentile(whole, 99) * 1000,
                    "backend_p50": statistics.median(backend_calls) * 1000,
                    "matches": matches(app, member, text, sort),
                }
            )
            log(f"{text} ({sort}): {rows[-1]['p50']:.1f} ms")
    return {"topics": topics, "rows": rows}


def timed_search(app: Any, member: int, text: str, sort: str) -> tuple[float, str]:
    """Seconds for one search as the member, and its count as the results page says it; for
    ``sort`` "similar", the ask form's similar topics for the title ``text``."""
    from community.search.service import similar_topics

    if sort != "similar":
        seconds, outcome = run_query(app, member, text, {"sort": sort})
        count = f"more than {outcome.at_least}" if outcome.approximate else str(outcome.total)
        return seconds, count
    with request_as(app, member) as viewer:
        t0 = time.perf_counter()
        similar_topics(viewer, text)
        return time.perf_counter() - t0, ""


def matches(app: Any, member: int, text: str, sort: str) -> int | None:
    """How many topics the member may see match (any of the words for similar topics),
    counted by the PostgreSQL backend when it is made to rank and count every match."""
    from community.search import any_of, parse_query, search_backend
    from community.search.postgres_backend import PostgresBackend
    from community.search.service import make_filters

    with request_as(app, member) as viewer:
        if not isinstance(search_backend(), PostgresBackend):
            return None
        query = any_of(text) if sort == "similar" else parse_query(text)
        exact = PostgresBackend(exact_limit=2**62)
        return exact.search(query, make_filters(viewer), "newest", 0, 1).total


def at(ref: str, args: argparse.Namespace, workdir: str) -> dict[str, Any]:
    """The same measurement with the code at ``ref``, in a worktree and a process of its own."""
    tree = os.path.join(workdir, "before")
    subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", tree, ref],  # noqa: S607
        check=True,
        capture_output=True,
    )
    try:
        out = os.path.join(workdir, "before.json")
        argv = [sys.executable, str(Path(__file__).resolve()), "--database-url", args.database_url]
        argv += ["--backend", args.backend, "--runs", str(args.runs), "--json-out", out]
        argv += ["--code", tree]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
        with open(out) as fh:
            return json.load(fh)
    finally:
        subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", tree],  # noqa: S607
            check=False,
            capture_output=True,
        )


def report(results: dict[str, Any], before: dict[str, Any] | None, ref: str | None) -> str:
    lines = [
        f"Search by how common the words are: {results['backend']} backend, "
        f"{results['topics']:,} topics, {results['runs']} runs each, as a member",
        "",
    ]
    head = ["search", "sort", "matches", "the page says", "p50 ms", "p99 ms", "backend p50"]
    if before:
        head[3:3] = [f"before ({ref}): says", "p50", "p99"]
    lines.append(" | ".join(head))
    lines.append(" | ".join("---" for _ in head))
    earlier = {(r["search"], r["sort"]): r for r in (before or {}).get("rows", [])}
    for row in results["rows"]:
        cells = [row["search"], row["sort"], f"{row['matches']:,}" if row["matches"] else "–"]
        old = earlier.get((row["search"], row["sort"]))
        if before:
            cells += (
                [old["shown"], f"{old['p50']:,.1f}", f"{old['p99']:,.1f}"] if old else ["", "", ""]
            )
        cells += [row["shown"], f"{row['p50']:,.1f}", f"{row['p99']:,.1f}"]
        cells.append(f"{row['backend_p50']:,.1f}")
        lines.append(" | ".join(cells))
    lines += ["", machine_line(results["machine"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a community's database")
    parser.add_argument("--backend", default="postgresql", choices=("postgresql", "whoosh"))
    parser.add_argument("--instance", help="the instance folder (Whoosh: holds the index)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each search")
    parser.add_argument("--compare", metavar="REF", help="measure the code at git REF first")
    parser.add_argument("--json-out", metavar="FILE", help="write the results as JSON to FILE")
    parser.add_argument("--code", help=argparse.SUPPRESS)  # --compare's worktree
    args = parser.parse_args(argv)
    if args.code:
        sys.path.insert(0, args.code)
    workdir = tempfile.mkdtemp(prefix="community-bench-words-")
    try:
        before = at(args.compare, args, workdir) if args.compare else None
        load, cpu, start = os.getloadavg()[0], cpu_seconds(), time.perf_counter()
        results = measure(args, workdir)
        results.update(
            backend=args.backend,
            runs=args.runs,
            machine=machine_summary(load, cpu, start),
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(results, fh, indent=1)
    print(report(results, before, args.compare))
    return 0


if __name__ == "__main__":
    sys.exit(main())
