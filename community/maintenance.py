"""Database upkeep: the query planner's statistics.

A page's query is fast only when the database picks the right index. SQLite picks from
statistics it keeps only once ``ANALYZE`` ran; without them it guesses, and on a million
posts the home page sorted 190,000 topics where reading the newest twenty of an index was
enough (400 ms instead of under 1 ms). PostgreSQL's autovacuum keeps its statistics, but a
database just filled by an import has none until it runs.

So statistics are refreshed by ``community db upgrade``, by ``community db analyze``, and
every night by the worker. A full ``ANALYZE`` of SQLite took 1.3 s on a million posts.
"""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from community.extensions import db
from community.tasks import crontab, periodic_task


def analyze_database() -> float:
    """Refresh the planner's statistics of every table; returns the seconds it took."""
    started = time.perf_counter()
    engine = db.engine
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # Every row, not a sample: a sample of 1,000 rows guessed that each space held
            # 0.5 % of the topics, and the planner kept the slow plan.
            conn.exec_driver_sql("PRAGMA analysis_limit=0")
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return time.perf_counter() - started


@periodic_task(crontab(minute="40", hour="3"))
def refresh_statistics() -> None:
    """Nightly: a growing community changes which index is the best."""
    analyze_database()


@click.command("analyze")
@with_appcontext
def analyze_command() -> None:
    """Refresh the database's statistics, which the query planner uses to choose indexes.

    The worker does it every night and `community db upgrade` after upgrading; run it after
    importing or generating much data.
    """
    click.echo(f"Statistics refreshed in {analyze_database():.1f} s.")
