"""HTTP benchmark: the site under gunicorn against a bare Flask "floor", page by page.

    python bench/pages.py [--sqlite FILE | --database-url URL | --size S|M|L]
                         [--workers N] [--threads T] [--concurrency C] [--seconds S]

The site runs as ``community serve`` runs it (gunicorn, ``--workers`` processes of
``--threads`` threads, bound to 127.0.0.1 on a free port) on a database made by
``bench/generate.py`` (given with ``--sqlite``/``--database-url``, else generated at ``--size``
into a temporary folder). Next to it, under the same gunicorn settings, the **floor**: a bare
Flask app rendering a Jinja template of the same HTML size with no database. A load generator
(processes of threads, each thread one keep-alive ``http.client`` connection) warms each page
up, then measures requests/s, p50 and p99 latency and errors, with ``--concurrency``
connections and again with a single one; for anonymous visitors, for a member signed in
through the real login form, and for a write mix (an answer and a vote). Afterwards: each
worker's RSS, and a check that concurrent up votes by different members lose no update
(the exit status is 1 when one is lost).

The run writes answers and votes: a ``--sqlite`` file is copied first (``--in-place`` not to);
a ``--database-url`` database is written to. ``--instance DIR`` keeps the site's instance
folder, so that the Whoosh index is built once (``community search reindex``) and reused.
This is a measuring tool, not a test: it fails only when something does not work at all.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``community`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

if __name__ != "http":  # not when standing in for the standard library (see above)
    from bench.experts import table
    from bench.search import (
        PROTECTED_DATABASES,
        cpu_seconds,
        log,
        machine_line,
        machine_summary,
        percentile,
    )

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
MEMBER_PASSWORD = "community-demo"  # noqa: S105 - community.demo.DEMO_PASSWORD, as generated
SEARCH_QUERY = "router firmware"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')

FLOOR_APP = '''\
"""The floor: a bare Flask app rendering a Jinja template of N bytes, with no database."""

from flask import Flask, render_template_string, request

app = Flask(__name__)
TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main>{% for item in items %}
<article class="post"><h2><a href="/t/{{ item.id }}">{{ item.title }}</a></h2>
<p>{{ item.text }}</p></article>{% endfor %}
</main></body></html>"""
TEXT = "The router drops the Wi-Fi connection every few minutes & reconnects <again>. "


def items(count):
    text = TEXT * 2
    return [{"id": n, "title": f"Topic number {n}", "text": text} for n in range(count)]


def render(count):
    return render_template_string(TEMPLATE, title="Floor", items=items(count))


COUNTS = {}


def count_for(size):
    """How many items make a page of ``size`` bytes (UTF-8), worked out once a size."""
    if size not in COUNTS:
        base = len(render(0).encode())
        item = len(render(1).encode()) - base
        COUNTS[size] = max(1, round((size - base) / item))
    return COUNTS[size]


@app.route("/")
def index():
    size = int(request.args.get("bytes", "20000"))
    return render(count_for(size))
'''


# --- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_ready(port: int, path: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with status {proc.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=10)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not answer in {timeout:.0f} s")


def stop(proc: subprocess.Popen | None) -> None:
    """Stop a gunicorn master by its PID (it stops its workers), then make sure it is gone."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def children_cpu_seconds() -> float:
    """CPU seconds of the ended child processes (the load generator's, once its pool ended)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def worker_pids(master: int) -> list[int]:
    try:
        with open(f"/proc/{master}/task/{master}/children") as fh:
            return [int(pid) for pid in fh.read().split()]
    except OSError:
        return []


def rss_of(pid: int) -> float | None:
    """VmRSS of a process in MiB."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def instance_path(args: argparse.Namespace, workdir: str) -> str:
    return os.path.abspath(args.instance) if args.instance else os.path.join(workdir, "instance")


def site_env(args: argparse.Namespace, workdir: str, url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "COMMUNITY_DATABASE_URL": url,
            "COMMUNITY_INSTANCE_PATH": instance_path(args, workdir),
            "COMMUNITY_SECRET_KEY": "bench-http",
            "COMMUNITY_TASKS_URL": "sqlite:///" + os.path.join(workdir, "tasks.db"),
            "COMMUNITY_RATELIMIT_ENABLED": "false",
            "COMMUNITY_MAIL_BACKEND": "memory",
            "COMMUNITY_SEARCH_BACKEND": args.search_backend,
            "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        }
    )
    return env


def start_site(args: argparse.Namespace, env: dict[str, str], port: int) -> subprocess.Popen:
    argv = [sys.executable, "-m", "community", "serve", "--host", HOST, "--port", str(port)]
    argv += ["--workers", str(args.workers), "--threads", str(args.threads)]
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open_log(env, "site")
    )
    wait_ready(port, "/", proc)
    return proc


def start_floor(args: argparse.Namespace, workdir: str, port: int) -> subprocess.Popen:
    """The floor under the same gunicorn settings as ``community serve`` (access log too)."""
    Path(workdir, "floor_app.py").write_text(FLOOR_APP)
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}"]
    argv += ["--workers", str(args.workers), "--threads", str(args.threads)]
    argv += ["--access-logfile", "-", "floor_app:app"]
    env = dict(os.environ, COMMUNITY_INSTANCE_PATH=os.path.join(workdir, "instance"))
    proc = subprocess.Popen(  # noqa: S603
        argv, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=open_log(env, "floor")
    )
    wait_ready(port, "/?bytes=100", proc)
    return proc


def open_log(env: dict[str, str], name: str) -> Any:
    folder = env["COMMUNITY_INSTANCE_PATH"]
    os.makedirs(folder, exist_ok=True)
    return open(os.path.join(folder, f"{name}.log"), "ab")  # noqa: SIM115 - lives with the server


# --- data ---------------------------------------------------------------------------------


def database_url(args: argparse.Namespace, workdir: str) -> str:
    if args.database_url:
        name = args.database_url.rsplit("/", 1)[-1].split("?")[0]
        if not args.database_url.startswith("sqlite") and name in PROTECTED_DATABASES:
            sys.exit(f"refusing to use the database {name!r}")
        return args.database_url
    if args.sqlite:
        if not os.path.exists(args.sqlite):
            sys.exit(f"{args.sqlite}: no such file (generate it with bench/generate.py)")
        if args.in_place:
            return "sqlite:///" + os.path.abspath(args.sqlite)
        # The write mix and the counter check add rows: work on a copy.
        path = os.path.join(workdir, os.path.basename(args.sqlite))
        shutil.copyfile(args.sqlite, path)
        return "sqlite:///" + path
    path = os.path.join(workdir, f"community-{args.size.lower()}.db")
    log(f"generating --size {args.size} into {path}…")
    t0 = time.perf_counter()
    subprocess.run(  # noqa: S603
        [
            sys.executable,
            str(ROOT / "bench" / "generate.py"),
            "--size",
            args.size,
            "--sqlite",
            path,
        ],
        check=True,
        cwd=ROOT,
        env=dict(os.environ, COMMUNITY_INSTANCE_PATH=os.path.join(workdir, "instance")),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log(f"generated in {time.perf_counter() - t0:.1f} s")
    return "sqlite:///" + path


def community(env: dict[str, str], *args: str, code: Path = ROOT) -> float:
    """Run ``community ARGS`` with the code in ``code``; returns the seconds it took."""
    t0 = time.perf_counter()
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "community", *args],
        check=True,
        cwd=code,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def reindex(env: dict[str, str]) -> float:
    return community(env, "search", "reindex")


def upgrade(env: dict[str, str], code: Path = ROOT) -> float:
    """``community db upgrade`` with the code under test, as a deployment runs it."""
    return community(env, "db", "upgrade", code=code)


# --- before and after -----------------------------------------------------------------------


def start_before(
    args: argparse.Namespace, workdir: str, url: str, env: dict[str, str], port: int
) -> tuple[subprocess.Popen, dict[str, str]]:
    """The site at ``--compare REF`` (a git worktree), on its own copy of the SQLite file
    upgraded by that code, sharing the search index of the site under test."""
    tree = os.path.join(workdir, "before")
    subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", tree, args.compare],  # noqa: S607
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    path = os.path.join(workdir, "before.db")
    shutil.copyfile(args.sqlite, path)  # as generated: not upgraded by this checkout
    before_env = dict(env)
    before_env.update(
        {
            "COMMUNITY_DATABASE_URL": "sqlite:///" + path,
            "COMMUNITY_INSTANCE_PATH": os.path.join(workdir, "before-instance"),
            "COMMUNITY_SEARCH_WHOOSH_PATH": os.path.join(
                env["COMMUNITY_INSTANCE_PATH"], "search", "whoosh"
            ),
            "COMMUNITY_TASKS_URL": "sqlite:///" + os.path.join(workdir, "before-tasks.db"),
            "PYTHONPATH": tree,
        }
    )
    # The file may be newer than REF's migrations: take it down to REF's head with this
    # checkout's migrations first (REF's `db upgrade` then has nothing to do but its own).
    mine = dict(before_env, PYTHONPATH=str(ROOT))
    heads = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "community", "db", "-d", os.path.join(tree, "migrations"),
         "heads"],
        check=True, cwd=ROOT, env=mine, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    community(mine, "db", "downgrade", heads[0])
    log(f"before ({args.compare}): db upgrade {upgrade(before_env, Path(tree)):.1f} s")
    argv = [sys.executable, "-m", "community", "serve", "--host", HOST, "--port", str(port)]
    argv += ["--workers", str(args.workers), "--threads", str(args.threads)]
    proc = subprocess.Popen(  # noqa: S603
        argv, env=before_env, cwd=tree, stdout=subprocess.DEVNULL,
        stderr=open_log(before_env, "site"),
    )  # fmt: skip
    wait_ready(port, "/", proc)
    return proc, before_env


def remove_worktree(workdir: str) -> None:
    tree = os.path.join(workdir, "before")
    if os.path.isdir(tree):
        subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", tree],  # noqa: S607
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def compare_report(results: dict[str, Any]) -> str:
    lines = [
        f"Before ({results['compare']}) and after (this checkout), in one run: "
        f"{results['database']} · gunicorn {results['workers']} workers × {results['threads']} "
        f"threads · {results['concurrency']} connections from {results['load']} · "
        f"{results['seconds']:g} s a page, single client {results['single_seconds']:g} s",
        "",
    ]
    header = ("page", "who", "req/s before", "after", "×", "1-client p50 before", "after",
              "p99 before", "after")  # fmt: skip
    rows = []
    for row in results["compared"]:
        b, a = row["before"], row["after"]
        rows.append(
            (
                row["page"],
                row["who"],
                fmt(b["loaded"]["rps"], 0),
                fmt(a["loaded"]["rps"], 0),
                f"{a['loaded']['rps'] / b['loaded']['rps']:.1f}" if b["loaded"]["rps"] else "",
                fmt(b["single"]["p50_ms"]),
                fmt(a["single"]["p50_ms"]),
                fmt(b["single"]["p99_ms"]),
                fmt(a["single"]["p99_ms"]),
            )  # fmt: skip
        )
    lines += table(header, rows)
    lines += ["", machine_line(results["machine"])]
    return "\n".join(lines)


def compare(
    args: argparse.Namespace,
    pool: Any,
    procs: int,
    targets: dict[str, Any],
    ports: dict,
    cookies: dict,
) -> list[dict[str, Any]]:
    """Each page on the site before, then after, back to back (the same minute of the
    machine's life for both)."""
    rows = []
    for who in ("anonymous", "member"):
        for _key, name, path in [p for p in pages(targets) if p[0] in args.pages]:
            row: dict[str, Any] = {"page": name, "who": who, "path": path}
            for side in ("before", "after"):
                spec = {"kind": "read", "port": ports[side], "path": path,
                        "cookies": cookies[side] if who == "member" else None}  # fmt: skip
                status = Client(ports[side], spec["cookies"]).request("GET", path)[0]
                if status != 200:
                    log(f"{name} ({side}, {who}): {status}")
                row[side] = measure(pool, spec, args, procs)
            log(
                f"{name} ({who}): {row['before']['loaded']['rps']:.0f} → "
                f"{row['after']['loaded']['rps']:.0f} req/s"
            )
            rows.append(row)
    return rows


def engine_for(url: str) -> Any:
    from sqlalchemy import create_engine

    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return create_engine(url)


def pick_targets(url: str, voters: int) -> dict[str, Any]:
    """Ids and slugs of the pages to measure, read from the database."""
    from sqlalchemy import bindparam, text

    engine = engine_for(url)
    public = "SELECT id FROM spaces WHERE visibility = 'public'"
    live = "t.deleted_at IS NULL AND t.held_at IS NULL AND t.merged_into_id IS NULL"
    with engine.connect() as conn:
        space, topics = conn.execute(
            text(f"SELECT slug, topic_count FROM spaces WHERE id IN ({public}) "  # noqa: S608
                 "ORDER BY topic_count DESC LIMIT 1")
        ).one()  # fmt: skip
        question = conn.execute(
            text(f"SELECT t.id, t.slug, t.reply_count FROM topics t WHERE t.kind = 'question' "  # noqa: S608
                 f"AND {live} AND t.space_id IN ({public}) ORDER BY t.reply_count DESC, t.id "
                 "LIMIT 1")
        ).one()  # fmt: skip
        ideas = conn.execute(
            text(f"SELECT slug FROM spaces WHERE default_kind = 'idea' AND id IN ({public}) "  # noqa: S608
                 "ORDER BY topic_count DESC LIMIT 1")
        ).scalar()  # fmt: skip
        profile = conn.execute(
            text("SELECT u.username FROM users u JOIN posts p ON p.author_id = u.id "
                 "WHERE u.role = 'member' AND NOT u.is_staff GROUP BY u.username "
                 "ORDER BY count(*) DESC LIMIT 1")
        ).scalar()  # fmt: skip
        # The write mix answers other questions (the measured one keeps its size) and votes
        # on their posts.
        write_topics = conn.execute(
            text(f"SELECT t.id FROM topics t WHERE t.kind = 'question' AND {live} "  # noqa: S608
                 f"AND NOT t.is_locked AND t.space_id IN ({public}) AND t.id != :q "
                 "ORDER BY t.id DESC LIMIT 50"),
            {"q": question.id},
        ).scalars().all()  # fmt: skip
        members = conn.execute(
            text("SELECT id, username FROM users WHERE role = 'member' AND NOT is_staff "
                 "AND active ORDER BY id LIMIT :n"),
            {"n": voters + 2},
        ).all()  # fmt: skip
        write_posts = conn.execute(
            text("SELECT p.id FROM posts p WHERE p.topic_id IN :ids AND p.deleted_at IS NULL "
                 "AND p.held_at IS NULL AND p.hidden_at IS NULL AND p.author_id != :me"
                 ).bindparams(bindparam("ids", expanding=True)),
            {"ids": list(write_topics), "me": members[0].id},
        ).scalars().all()  # fmt: skip
    engine.dispose()
    per_page = 20
    deep = max(1, min(int(topics * 0.9) // per_page, 10_000))
    return {
        "space": space,
        "space_topics": topics,
        "deep_page": deep,
        "question": {"id": question.id, "slug": question.slug, "answers": question.reply_count},
        "ideas": ideas,
        "profile": profile,
        "write_topics": list(write_topics),
        "write_posts": list(write_posts),
        "member": members[0].username,
        "voters": [m.username for m in members[1:]],  # one more: the author may be among them
        "voter_count": voters,
    }


PAGE_KEYS = ("home", "space", "deep", "question", "ideas", "profile", "search")


def pages(targets: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, name, path) of each measured page; ``--pages`` chooses among the keys."""
    q = targets["question"]
    space, deep = targets["space"], targets["deep_page"]
    ideas = urlencode({"filter": "ideas", "sort": "votes"})
    return [
        ("home", "home", "/"),
        ("space", "space page 1", f"/s/{space}"),
        ("deep", f"space page {deep:,}", f"/s/{space}?page={deep}"),
        ("question", f"question ({q['answers']} answers)", f"/t/{q['id']}/{q['slug']}"),
        ("ideas", "ideas by votes", f"/s/{targets['ideas']}?{ideas}"),
        ("profile", "profile", f"/u/{targets['profile']}"),
        ("search", "search", "/search?" + urlencode({"q": SEARCH_QUERY})),
    ]


def floor_size(page_bytes: int) -> int:
    """The floor's page size for a page: rounded to 8 KiB (at least 4 KiB), so that a few
    floor runs cover every page and each page is compared with a page of its own size."""
    return max(4096, round(page_bytes / 8192) * 8192)


# --- HTTP client --------------------------------------------------------------------------


class Client:
    """One connection with a cookie jar of its own (enough for a session cookie).

    Under load (``close=True``) each request asks for a new connection: a gunicorn worker
    takes every connection waiting to be accepted, so a handful of keep-alive connections
    opened at once often all went to one of the two workers, and the same page measured
    110 or 220 req/s from one run to the next. Browsers come and go; a connection per
    request is the steadier model (and costs the floor what it costs the site)."""

    def __init__(
        self, port: int, cookies: dict[str, str] | None = None, close: bool = False
    ) -> None:
        self.port = port
        self.cookies = dict(cookies or {})
        self.close_each = close
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, keep: bool = True
    ) -> tuple[int, bytes]:
        headers = {"Host": f"{HOST}:{self.port}"}
        if self.close_each:
            headers["Connection"] = "close"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
            return 0, b""
        if keep:
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key.strip()] = rest.split(";", 1)[0]
        if response.will_close:
            self.conn.close()
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        return response.status, data

    def close(self) -> None:
        self.conn.close()


def csrf_token(html: bytes) -> str:
    found = CSRF_RE.search(html.decode("utf-8", "replace"))
    if not found:
        raise RuntimeError("no csrf_token in the page")
    return found.group(1) or found.group(2)


def log_in(port: int, username: str) -> dict[str, str]:
    """Sign in through the real form; the session cookie (and a CSRF token for later forms)."""
    client = Client(port)
    status, html = client.request("GET", "/login")
    token = csrf_token(html)
    status, _ = client.request(
        "POST", "/login", {"csrf_token": token, "login": username, "password": MEMBER_PASSWORD}
    )
    if status != 302:
        raise RuntimeError(f"logging in as {username} answered {status}")
    client.close()
    return client.cookies


def page_token(port: int, cookies: dict[str, str], path: str) -> str:
    client = Client(port, cookies)
    status, html = client.request("GET", path, keep=False)
    client.close()
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")
    return csrf_token(html)


# --- load ---------------------------------------------------------------------------------


def _load_thread(spec: dict[str, Any], until: float, seed: int, out: list) -> None:
    client = Client(spec["port"], spec.get("cookies"), close=True)
    rng = random.Random(seed)
    n = 0
    while True:
        t0 = time.perf_counter()
        if t0 >= until:
            break
        if spec["kind"] == "read":
            status, _ = client.request("GET", spec["path"], keep=False)
            ok = status == 200
        elif n % 2 == 0:  # the write mix: an answer, then a vote
            topic = rng.choice(spec["topics"])
            body = (
                f"Bench answer {seed}-{n}: I had the same problem; after a factory reset and "
                f"the latest firmware the connection stays up ({rng.random():.6f})."
            )
            form = {"csrf_token": spec["token"], "body": body}
            status, _ = client.request("POST", f"/t/{topic}/reply", form, keep=False)
            ok = status in (200, 302)
        else:
            post = rng.choice(spec["posts"])
            form = {"csrf_token": spec["token"], "value": rng.choice(["up", "up", "down"])}
            status, _ = client.request("POST", f"/p/{post}/vote", form, keep=False)
            # 403: refused, e.g. "already voted" when two connections vote the same post
            ok = status in (200, 302, 403)
        out.append((time.perf_counter() - t0, ok, status))
        n += 1
    client.close()


def _load_process(job: tuple[dict[str, Any], int, float, int]) -> list:
    spec, threads, until, seed = job
    outs: list[list] = [[] for _ in range(threads)]
    workers = [
        threading.Thread(target=_load_thread, args=(spec, until, seed * 1000 + i, outs[i]))
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [sample for out in outs for sample in out]


def run_load(
    pool: Any, spec: dict[str, Any], concurrency: int, seconds: float, procs: int
) -> dict[str, Any]:
    """``concurrency`` connections over ``procs`` processes for ``seconds``."""
    procs = max(1, min(procs, concurrency))
    shares = [concurrency // procs + (1 if i < concurrency % procs else 0) for i in range(procs)]
    # perf_counter is per-process but monotonic across fork on Linux (CLOCK_MONOTONIC).
    until = time.perf_counter() + seconds + 0.05
    jobs = [(spec, share, until, i + 1) for i, share in enumerate(shares)]
    samples = [s for chunk in pool.map(_load_process, jobs) for s in chunk]
    latencies = [s[0] for s in samples]
    errors = sum(1 for s in samples if not s[1])
    statuses: dict[str, int] = {}
    failed: dict[str, int] = {}
    for s in samples:
        statuses[str(s[2])] = statuses.get(str(s[2]), 0) + 1
        if not s[1]:
            failed[str(s[2])] = failed.get(str(s[2]), 0) + 1
    return {
        "requests": len(samples),
        "rps": len(samples) / seconds,  # the requests started in those seconds
        "p50_ms": percentile(latencies, 50) * 1000 if latencies else math.nan,
        "p99_ms": percentile(latencies, 99) * 1000 if latencies else math.nan,
        "errors": errors,
        "statuses": statuses,
        "error_statuses": failed,
    }


WRK_DURATION_RE = re.compile(r"^\s*(\d+)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str, seconds: float) -> dict[str, Any]:
    """wrk's report (with ``--latency``) as :func:`run_load`'s dict."""
    percentiles = {
        int(m.group(1)): float(m.group(2)) * WRK_UNITS[m.group(3)]
        for m in WRK_DURATION_RE.finditer(output)
    }
    requests = re.search(r"^\s*(\d+) requests in", output, re.M)
    rate = re.search(r"^Requests/sec:\s*([\d.]+)", output, re.M)
    if not (requests and rate and 50 in percentiles and 99 in percentiles):
        raise RuntimeError(f"could not read wrk's report:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    failed: dict[str, int] = {}
    if bad:
        failed["non-2xx/3xx"] = int(bad.group(1))
    if sockets:
        names = ("connect", "read", "write", "timeout")
        for name, value in zip(names, sockets.groups(), strict=True):
            if int(value):
                failed[name] = int(value)
    return {
        "requests": int(requests.group(1)),
        "rps": float(rate.group(1)),
        "p50_ms": percentiles[50],
        "p99_ms": percentiles[99],
        "errors": sum(failed.values()),
        "statuses": {},
        "error_statuses": failed,
    }


def run_wrk(spec: dict[str, Any], concurrency: int, seconds: float) -> dict[str, Any]:
    """``concurrency`` keep-alive connections from wrk (C, one thread per 32 connections: it
    takes a fraction of a core where the Python generator takes one) for ``seconds``."""
    threads = max(1, min(concurrency // 32 + 1, concurrency))
    argv = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s"]
    # A new connection for each request, as for the Python generator (see Client).
    argv += ["--latency", "--timeout", "30s", "-H", "Connection: close"]
    if spec.get("cookies"):
        argv += ["-H", "Cookie: " + "; ".join(f"{k}={v}" for k, v in spec["cookies"].items())]
    argv.append(f"http://{HOST}:{spec['port']}{spec['path']}")
    done = subprocess.run(argv, capture_output=True, text=True, check=True)  # noqa: S603
    return parse_wrk(done.stdout, seconds)


def measure(
    pool: Any, spec: dict[str, Any], args: argparse.Namespace, procs: int
) -> dict[str, Any]:
    """Warm-up, ``--concurrency`` connections, then a single one. Reads go through wrk when
    ``--load`` says so; the write mix (a new answer each time) always through Python."""

    def load(concurrency: int, seconds: float, processes: int) -> dict[str, Any]:
        if spec["kind"] == "read" and args.load == "wrk":
            return run_wrk(spec, concurrency, seconds)
        return run_load(pool, spec, concurrency, seconds, processes)

    if args.warmup > 0:
        load(args.concurrency, args.warmup, procs)
    loaded = load(args.concurrency, args.seconds, procs)
    single = load(1, args.single_seconds, 1) if args.single_seconds > 0 else None
    return {"loaded": loaded, "single": single}


# --- the counter check --------------------------------------------------------------------


def counter_check(port: int, url: str, targets: dict[str, Any]) -> dict[str, Any]:
    """N members vote a post up at the same moment: its score must grow by exactly N."""
    from sqlalchemy import bindparam, text

    voters = targets["voters"]
    engine = engine_for(url)
    with engine.connect() as conn:
        ids = dict(
            conn.execute(
                text("SELECT username, id FROM users WHERE username IN :names").bindparams(
                    bindparam("names", expanding=True)
                ),
                {"names": voters},
            ).all()
        )
        # The question's opening post, with none of their votes (removed below); its author
        # cannot vote on it.
        post_id, author_id = conn.execute(
            text("SELECT p.id, p.author_id FROM posts p WHERE p.topic_id = :t AND p.is_opening"),
            {"t": targets["question"]["id"]},
        ).one()
        voters = [name for name in voters if ids[name] != author_id][: targets["voter_count"]]
        ids = {name: ids[name] for name in voters}
        conn.execute(
            text("DELETE FROM votes WHERE post_id = :p AND user_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"p": post_id, "ids": list(ids.values())},
        )
        conn.execute(
            text(
                "UPDATE posts SET score = (SELECT coalesce(sum(value), 0) FROM votes "
                "WHERE post_id = :p), upvotes = (SELECT count(*) FROM votes WHERE post_id = :p "
                "AND value > 0), downvotes = (SELECT count(*) FROM votes WHERE post_id = :p "
                "AND value < 0) WHERE id = :p"
            ),
            {"p": post_id},
        )
        conn.commit()
        score_before = conn.execute(
            text("SELECT score FROM posts WHERE id = :p"), {"p": post_id}
        ).scalar()
    sessions = []
    for name in voters:
        cookies = log_in(port, name)
        sessions.append((cookies, page_token(port, cookies, "/")))
    barrier = threading.Barrier(len(sessions))
    statuses: list[int] = []

    def vote(cookies: dict[str, str], token: str) -> None:
        client = Client(port, cookies)
        barrier.wait()
        status, _ = client.request(
            "POST", f"/p/{post_id}/vote", {"csrf_token": token, "value": "up"}, keep=False
        )
        statuses.append(status)
        client.close()

    threads = [threading.Thread(target=vote, args=s) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as conn:
        score_after, upvotes = conn.execute(
            text("SELECT score, upvotes FROM posts WHERE id = :p"), {"p": post_id}
        ).one()
        rows = conn.execute(
            text("SELECT count(*) FROM votes WHERE post_id = :p AND value > 0"), {"p": post_id}
        ).scalar()
    engine.dispose()
    accepted = sum(1 for s in statuses if s in (200, 302))
    return {
        "post_id": post_id,
        "voters": len(sessions),
        "accepted": accepted,
        "statuses": sorted(statuses),
        "score_before": score_before,
        "score_after": score_after,
        "upvotes": upvotes,
        "vote_rows": rows,
        "ok": score_after - score_before == accepted == len(sessions) and upvotes == rows,
    }


# --- report -------------------------------------------------------------------------------


def fmt(value: float, digits: int = 1) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def report(results: dict[str, Any]) -> str:
    floors = results["floors"]
    generator = {"wrk": "wrk", "python": "the Python load generator"}[results["load"]]
    lines = [
        f"HTTP: {results['database']} · gunicorn {results['workers']} workers × "
        f"{results['threads']} threads · {results['concurrency']} connections from "
        f"{generator} · {results['seconds']:g} s a page ({results['single_seconds']:g} s "
        "single client)",
        "floor: bare Flask + Jinja, no database, a page of each size: "
        + ", ".join(
            f"{int(size) // 1024} KiB {fmt(f['loaded']['rps'], 0)} req/s"
            for size, f in sorted(floors.items(), key=lambda kv: int(kv[0]))
        ),
        "",
    ]
    header = (
        "page",
        "who",
        "KiB",
        "req/s",
        "÷ floor",
        "p50 ms",
        "p99 ms",
        "errors",
        "1-client p50",
        "1-client p99",
    )
    rows = []
    for row in results["pages"]:
        loaded, single = row["loaded"], row["single"]
        rows.append(
            (
                row["page"],
                row["who"],
                fmt(row["bytes"] / 1024, 0) if row["bytes"] else "",
                fmt(loaded["rps"], 0),
                f"{loaded['rps'] / row['floor_rps']:.1%}" if row["floor_rps"] else "",
                fmt(loaded["p50_ms"]),
                fmt(loaded["p99_ms"]),
                str(loaded["errors"])
                + (f" {loaded['error_statuses']}" if loaded["errors"] else ""),
                fmt(single["p50_ms"]) if single else "",
                fmt(single["p99_ms"]) if single else "",
            )
        )
    lines += table(header, rows)
    rss = results["rss_mb"]
    lines += [
        "",
        "worker RSS after the run: "
        + (", ".join(f"{v:.0f}" for v in rss["workers"]) + " MiB" if rss["workers"] else "–")
        + f" (master {fmt(rss['master'], 0)} MiB; floor workers "
        + ", ".join(f"{v:.0f}" for v in rss["floor_workers"])
        + " MiB)",
    ]
    check = results.get("counter")
    if check:
        verdict = "no update lost" if check["ok"] else "UPDATES LOST"
        lines.append(
            f"counter: {check['voters']} members voted post {check['post_id']} up at once: "
            f"{check['accepted']} accepted, score {check['score_before']} → "
            f"{check['score_after']}, {check['vote_rows']} up-vote rows: {verdict}"
        )
    machine = results["machine"]
    share = results["load_generator_cpu_s"] / machine["seconds"]
    lines += [
        "",
        machine_line(machine),
        f"load generator ({generator}, on the same machine): "
        f"{results['load_generator_cpu_s']:.0f} CPU-seconds, {share:.2f} CPUs on average",
    ]
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--sqlite", metavar="FILE", help="a database made by bench/generate.py")
    target.add_argument("--database-url", metavar="URL", help="the same, on any database")
    parser.add_argument(
        "--size",
        choices=["S", "M", "L"],
        default="S",
        help="generate this size (no database given)",
    )
    parser.add_argument("--workers", type=int, default=cpus, help="gunicorn workers (CPUs)")
    parser.add_argument("--threads", type=int, default=4, help="threads a worker (as serve)")
    parser.add_argument(
        "--concurrency", type=int, default=4 * cpus, help="clients at once (4 × CPUs)"
    )
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds a page")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds a page")
    parser.add_argument(
        "--single-seconds", type=float, default=None, help="single-client seconds (--seconds / 2)"
    )
    parser.add_argument("--voters", type=int, default=20, help="members in the counter check")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="write into the --sqlite file itself (default: a copy in the temporary folder)",
    )
    parser.add_argument(
        "--instance",
        metavar="DIR",
        help="the site's instance folder, kept: its search index is built once and reused "
        "(for the same database)",
    )
    parser.add_argument(
        "--search-backend",
        choices=["whoosh", "postgresql"],
        default="whoosh",
        help="the site's SEARCH_BACKEND (postgresql needs a PostgreSQL --database-url)",
    )
    parser.add_argument(
        "--load",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="what sends the reads: wrk (Debian's package) or Python; auto: wrk when installed",
    )
    parser.add_argument(
        "--pages",
        default=",".join(PAGE_KEYS),
        help=f"the pages to measure, of {','.join(PAGE_KEYS)} (default: all)",
    )
    parser.add_argument(
        "--compare",
        metavar="REF",
        help="measure the pages on the code at git REF too (before) and on this checkout "
        "(after), page by page in one run; each on its own copy of the --sqlite file, "
        "upgraded by its own `community db upgrade`",
    )
    parser.add_argument("--no-reindex", action="store_true", help="skip the search reindex")
    parser.add_argument("--no-writes", action="store_true", help="skip the write mix")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the report")
    parser.add_argument("--json-out", metavar="FILE", help="also write the JSON to FILE")
    args = parser.parse_args(argv)
    args.pages = [key.strip() for key in args.pages.split(",") if key.strip()]
    unknown = set(args.pages) - set(PAGE_KEYS)
    if unknown:
        parser.error(f"--pages: no page {', '.join(sorted(unknown))} (use {', '.join(PAGE_KEYS)})")
    if args.compare and not args.sqlite:
        parser.error("--compare needs --sqlite FILE")
    if args.load == "auto":
        args.load = "wrk" if shutil.which("wrk") else "python"
    elif args.load == "wrk" and not shutil.which("wrk"):
        parser.error("--load wrk: wrk is not installed (apt-get install wrk)")
    if args.single_seconds is None:
        args.single_seconds = args.seconds / 2
    if args.workers < 1 or args.concurrency < 1 or args.seconds <= 0:
        parser.error("at least 1 worker, 1 connection and some seconds")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    workdir = tempfile.mkdtemp(prefix="community-bench-http-")
    site = floor = None
    pool = None
    try:
        url = database_url(args, workdir)
        env = site_env(args, workdir, url)
        log(f"db upgrade: {upgrade(env):.1f} s")
        index = os.path.join(env["COMMUNITY_INSTANCE_PATH"], "search")
        if args.no_reindex or (args.instance and os.path.isdir(index)):
            log("search index: not rebuilt")
        else:
            log("search reindex…")
            log(f"search reindex: {reindex(env):.1f} s")
        targets = pick_targets(url, args.voters)
        site_port, floor_port = free_port(), free_port()
        log(f"site on {HOST}:{site_port}, floor on {HOST}:{floor_port}, in {workdir}")
        site = start_site(args, env, site_port)
        member = log_in(site_port, targets["member"])
        procs = os.cpu_count() or 1
        pool = multiprocessing.get_context("fork").Pool(procs)
        measure_start = time.perf_counter()
        cpu_start = cpu_seconds()
        if args.compare:
            before_port = free_port()
            before, _ = start_before(args, workdir, url, env, before_port)
            try:
                ports = {"before": before_port, "after": site_port}
                cookies = {"before": log_in(before_port, targets["member"]), "after": member}
                compared = compare(args, pool, procs, targets, ports, cookies)
            finally:
                stop(before)
            results = {
                "compare": args.compare,
                "database": f"sqlite {os.path.basename(args.sqlite)}",
                "workers": args.workers,
                "threads": args.threads,
                "concurrency": args.concurrency,
                "seconds": args.seconds,
                "single_seconds": args.single_seconds,
                "load": args.load,
                "compared": compared,
                "machine": machine_summary(load_before, cpu_start, measure_start),
            }
            return finish(args, results, compare_report(results), 0)
        floor = start_floor(args, workdir, floor_port)
        children_start = children_cpu_seconds()
        rows: list[dict[str, Any]] = []
        chosen = [p for p in pages(targets) if p[0] in args.pages]
        for who, cookies in (("anonymous", None), ("member", member)):
            for _key, name, path in chosen:
                client = Client(site_port, cookies)
                status, html = client.request("GET", path, keep=False)
                client.close()
                if status != 200:
                    log(f"{name} ({path}) as {who}: {status}")
                spec = {"kind": "read", "port": site_port, "path": path, "cookies": cookies}
                row = {"page": name, "who": who, "path": path, "bytes": len(html)}
                row["floor_bytes"] = floor_size(len(html))
                row.update(measure(pool, spec, args, procs))
                log(f"{name} ({who}): {row['loaded']['rps']:.0f} req/s")
                rows.append(row)
        floors: dict[int, dict[str, Any]] = {}
        for size in sorted({row["floor_bytes"] for row in rows}):
            spec = {"kind": "read", "port": floor_port, "path": f"/?bytes={size}"}
            floors[size] = measure(pool, spec, args, procs)
            floors[size]["bytes"] = len(Client(floor_port).request("GET", spec["path"])[1])
            log(f"floor {size // 1024} KiB: {floors[size]['loaded']['rps']:.0f} req/s")
        for row in rows:
            row["floor_rps"] = floors[row["floor_bytes"]]["loaded"]["rps"]
        if not args.no_writes:
            token = page_token(site_port, member, pages(targets)[3][2])
            spec = {
                "kind": "write",
                "port": site_port,
                "cookies": member,
                "token": token,
                "topics": targets["write_topics"],
                "posts": targets["write_posts"],
            }
            row = {"page": "write mix (answer + vote)", "who": "member", "path": "", "bytes": 0}
            row["floor_bytes"], row["floor_rps"] = None, None
            row.update(measure(pool, spec, args, procs))
            log(f"write mix: {row['loaded']['rps']:.0f} req/s")
            rows.append(row)
        pool.close()
        pool.join()
        pool = None
        rss = {
            "master": rss_of(site.pid),
            "workers": [v for v in map(rss_of, worker_pids(site.pid)) if v is not None],
            "floor_workers": [v for v in map(rss_of, worker_pids(floor.pid)) if v is not None],
        }
        counter = counter_check(site_port, url, targets) if args.voters > 1 else None
        results: dict[str, Any] = {
            "database": (
                f"sqlite {os.path.basename(args.sqlite)}"
                if args.sqlite
                else url.split("://", 1)[0]
                + ("" if args.database_url else f" generated at size {args.size}")
            ),
            "url": url if url.startswith("sqlite") else "(given)",
            "workers": args.workers,
            "threads": args.threads,
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "single_seconds": args.single_seconds,
            "targets": {k: v for k, v in targets.items() if not k.startswith("write_")},
            "load": args.load,
            "floors": {str(k): v for k, v in floors.items()},
            "pages": rows,
            "rss_mb": rss,
            "counter": counter,
            "machine": machine_summary(load_before, cpu_start, measure_start),
            "load_generator_cpu_s": children_cpu_seconds() - children_start,
        }
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        stop(site)
        stop(floor)
        remove_worktree(workdir)
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return finish(args, results, report(results), 0 if counter is None or counter["ok"] else 1)


def finish(args: argparse.Namespace, results: dict[str, Any], text: str, status: int) -> int:
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(results, fh, indent=2, default=str)
    print(json.dumps(results, indent=2, default=str) if args.json else text)
    return status


if __name__ == "__main__":
    sys.exit(main())
