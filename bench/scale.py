"""Scale curves: the pages of ``bench/pages.py`` at S, M and L, in one table.

    python bench/scale.py [--sizes S,M,L] [--postgres URL] [--data DIR] [--readme]

For each size, a SQLite database made by ``bench/generate.py`` (kept in ``--data``, default
``instance/bench``, and made again only when missing or with ``--regenerate``) with its own
instance folder, whose Whoosh index is built once. With ``--postgres URL`` the largest size
runs once more on that PostgreSQL database, searched by the PostgreSQL backend (its tables
are dropped and filled when it holds no data of that size). ``bench/pages.py`` measures
each in turn with the same settings; this program gathers its JSON into one table: a page's
requests/s and its ratio to the floor (a bare Flask app rendering a page of the same size),
and its single-client p50/p99, size by size. ``--readme`` also writes the table into
``bench/README.md`` between its ``scale`` markers.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``community`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from bench.pages import PAGE_KEYS, fmt  # noqa: E402
from bench.search import PROTECTED_DATABASES, log  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"S": 10_000, "M": 100_000, "L": 1_000_000}
WHOOSH_SIZES = {"S", "M"}  # sizes whose search is measured on Whoosh (SQLite runs)
BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"


def run(argv: list[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(argv, check=True, cwd=ROOT, env=env)  # noqa: S603 - our own programs


def posts_in(url: str) -> int:
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        if not inspect(engine).has_table("posts"):
            return 0
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM posts")).scalar() or 0
    finally:
        engine.dispose()


def generate(size: str, target: list[str], env: dict[str, str]) -> float:
    log(f"generating size {size}…")
    t0 = time.perf_counter()
    run([sys.executable, "bench/generate.py", "--size", size, "--reset", *target], env)
    return time.perf_counter() - t0


def reindex(env: dict[str, str]) -> float:
    log("search reindex…")
    t0 = time.perf_counter()
    run([sys.executable, "-m", "community", "search", "reindex"], env)
    return time.perf_counter() - t0


def measure(
    label: str, extra: list[str], args: argparse.Namespace, data: Path, pages: str | None = None
) -> dict:
    out = data / f"pages-{label}.json"
    argv = [sys.executable, "bench/pages.py", *extra, "--json-out", str(out)]
    argv += ["--seconds", str(args.seconds), "--warmup", str(args.warmup)]
    argv += ["--pages", pages or args.pages]
    if args.workers:
        argv += ["--workers", str(args.workers)]
    log(f"measuring {label}…")
    run(argv)
    with open(out) as fh:
        return json.load(fh)


def sqlite_run(size: str, args: argparse.Namespace, data: Path) -> dict[str, Any]:
    db = data / f"community-{size}.db"
    instance = data / f"instance-{size}"
    env = dict(
        os.environ,
        COMMUNITY_DATABASE_URL=f"sqlite:///{db}",
        COMMUNITY_INSTANCE_PATH=str(instance),
    )
    made: dict[str, float] = {}
    if args.regenerate or not db.exists() or posts_in(f"sqlite:///{db}") < SIZES[size] * 0.9:
        if db.exists():
            db.unlink()
        made["generate_s"] = generate(size, ["--sqlite", str(db)], env)
        shutil.rmtree(instance / "search", ignore_errors=True)  # an index of the old data
    extra = ["--sqlite", str(db), "--instance", str(instance)]
    if size in WHOOSH_SIZES:
        if not (instance / "search").is_dir():
            made["reindex_s"] = reindex(env)
        result = measure(size, extra, args, data)
    else:
        # Whoosh builds about 300 posts/s: an hour for L. Its search is measured up to M,
        # and at L on PostgreSQL, as the README advises for large sites.
        chosen = ",".join(p for p in args.pages.split(",") if p != "search")
        result = measure(size, [*extra, "--no-reindex"], args, data, pages=chosen)
    result.update(made, label=f"{size} SQLite", posts=posts_in(f"sqlite:///{db}"))
    return result


def postgres_run(size: str, args: argparse.Namespace, data: Path) -> dict[str, Any]:
    url = args.postgres
    instance = data / "instance-pg"
    env = dict(
        os.environ,
        COMMUNITY_DATABASE_URL=url,
        COMMUNITY_INSTANCE_PATH=str(instance),
        COMMUNITY_SEARCH_BACKEND="postgresql",
    )
    made: dict[str, float] = {}
    if args.regenerate or posts_in(url) < SIZES[size] * 0.9:
        made["generate_s"] = generate(size, ["--database-url", url], env)
        made["reindex_s"] = reindex(env)
    extra = ["--database-url", url, "--instance", str(instance), "--no-reindex"]
    extra += ["--search-backend", "postgresql"]
    result = measure(f"{size}-pg", extra, args, data)
    result.update(made, label=f"{size} PostgreSQL", posts=posts_in(url))
    return result


def saved(label: str, title: str, url: str, data: Path) -> dict[str, Any]:
    """A run's results as ``bench/pages.py`` saved them."""
    with open(data / f"pages-{label}.json") as fh:
        result = json.load(fh)
    result.update(label=title, posts=posts_in(url))
    return result


def report(runs: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """One row a page and visitor; for each run req/s, ÷ floor and single-client p50/p99."""
    first = runs[0]
    lines = [
        f"Machine: {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}; gunicorn {first['workers']} workers × "
        f"{first['threads']} threads; {first['concurrency']} connections from "
        f"{first['load']}; {first['seconds']:g} s a page, single client "
        f"{first['single_seconds']:g} s.",
        "",
    ]
    header = ["page", "who"]
    for r in runs:
        header += [f"{r['label']} req/s", "÷ floor", "1-client p50/p99 ms"]
    rows: dict[tuple[str, str], list[str]] = {}
    for i, r in enumerate(runs):
        for page in r["pages"]:
            # "space page 4,500" differs by size: the key is what the page is.
            name = page["page"].split(" (")[0]
            if name.startswith("space page ") and name != "space page 1":
                name = "space, deep page (90 %)"
            key = (name, page["who"])
            row = rows.setdefault(key, [name, page["who"]] + ["–"] * 3 * len(runs))
            loaded, single = page["loaded"], page["single"]
            ratio = f"{loaded['rps'] / page['floor_rps']:.0%}" if page.get("floor_rps") else ""
            row[2 + 3 * i : 5 + 3 * i] = [
                fmt(loaded["rps"], 0),
                ratio,
                (
                    f"{fmt(single['p50_ms'])} / {fmt(single['p99_ms'])}"
                    if single and single["requests"]
                    else "none done"
                ),
            ]
    lines += markdown(header, list(rows.values()))
    lines.append("")
    for r in runs:
        rss = r["rss_mb"]["workers"]
        counter = r.get("counter") or {}
        made = ", ".join(
            f"{what} {r[key]:.0f} s"
            for key, what in (("generate_s", "generated in"), ("reindex_s", "indexed in"))
            if key in r
        )
        floors = ", ".join(
            f"{int(size) // 1024} KiB {f['loaded']['rps']:.0f}"
            for size, f in sorted(r["floors"].items(), key=lambda kv: int(kv[0]))
        )
        lines.append(
            f"- **{r['label']}**: {r['posts']:,} posts"
            + (f" ({made})" if made else "")
            + f"; floor req/s by page size: {floors}; worker RSS after the run "
            + ", ".join(f"{v:.0f}" for v in rss)
            + " MiB; counter check: "
            + (
                f"{counter['voters']} simultaneous up votes, score "
                f"{counter['score_before']} → {counter['score_after']}, "
                + ("no update lost" if counter["ok"] else "UPDATES LOST")
                if counter
                else "not run"
            )
            + "."
        )
    return "\n".join(lines)


def markdown(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def write_readme(text: str) -> None:
    path = ROOT / "bench" / "README.md"
    content = path.read_text()
    if BEGIN not in content or END not in content:
        sys.exit(f"{path}: no {BEGIN} … {END} markers")
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
    log(f"wrote the table into {path}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="S,M,L", help="sizes on SQLite (default S,M,L)")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also the largest size on this PostgreSQL database (its tables are dropped)",
    )
    parser.add_argument(
        "--data",
        default=str(ROOT / "instance" / "bench"),
        help="where the generated databases and their indexes are kept",
    )
    parser.add_argument("--regenerate", action="store_true", help="generate them again")
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds a page")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds a page")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: CPUs)")
    parser.add_argument("--pages", default=",".join(PAGE_KEYS), help="pages, as bench/pages.py")
    parser.add_argument("--readme", action="store_true", help="write the table into the README")
    parser.add_argument(
        "--from-json",
        action="store_true",
        help="measure nothing: make the table again from the last run's JSON in --data",
    )
    args = parser.parse_args(argv)
    args.sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    if not args.sizes or set(args.sizes) - set(SIZES):
        parser.error("--sizes: a list of S, M, L")
    if args.postgres:
        if not args.postgres.startswith("postgresql"):
            parser.error("--postgres: a postgresql+psycopg:// URL")
        name = args.postgres.rsplit("/", 1)[-1].split("?")[0]
        if name in PROTECTED_DATABASES:
            parser.error(f"--postgres: refusing to drop the tables of {name!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data = Path(args.data).resolve()
    data.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    largest = max(args.sizes, key=SIZES.__getitem__)
    if args.from_json:
        runs = [saved(size, f"{size} SQLite", f"sqlite:///{data}/community-{size}.db", data)
                for size in args.sizes]  # fmt: skip
        if args.postgres:
            runs.append(saved(f"{largest}-pg", f"{largest} PostgreSQL", args.postgres, data))
        text = report(runs, args)
    else:
        runs = [sqlite_run(size, args, data) for size in args.sizes]
        if args.postgres:
            runs.append(postgres_run(largest, args, data))
        text = report(runs, args)
        text += f"\n\nThe whole run took {(time.perf_counter() - t0) / 60:.0f} minutes."
    print(text)
    if args.readme:
        write_readme(text)
    lost = [r["label"] for r in runs if r.get("counter") and not r["counter"]["ok"]]
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
