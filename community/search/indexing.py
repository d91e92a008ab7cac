"""Keeping the index in step with the database.

1. Every transaction that changes a topic or a post adds a row to ``search_queue`` naming the
   topic, inside the same transaction: ORM changes to topics and posts are noticed on flush,
   and services that change rows in SQL call :func:`queue_topics`. A change can therefore never
   be committed without its queue row.
2. After the commit, a ``flush`` task goes to the worker. It takes the queued rows in batches,
   builds each topic's document from the database as it is now, writes the batch in one go
   and deletes the rows it handled. Documents of deleted, merged or held topics are removed.
3. A batch that fails is tried topic by topic; a topic that fails keeps its row with the
   error (``community search status`` lists them) and is tried again by the sweep, once a
   minute, up to :data:`MAX_ATTEMPTS` times; ``community search retry`` starts it over.

Only one process writes at a time (:func:`index_lock`): a PostgreSQL advisory lock, or a file
lock in the instance folder on SQLite. A flush that finds the lock taken leaves its rows to
the holder, which looks for new rows again after letting the lock go.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import delete, event, insert, select, text, update
from sqlalchemy.orm import Session

from community.extensions import db
from community.search.models import SearchQueue
from community.tasks import crontab, enqueue, periodic_task, task

log = logging.getLogger(__name__)

BATCH_SIZE = 200
MAX_ATTEMPTS = 5
# Any 64-bit number unique to this lock among the site's advisory locks.
ADVISORY_LOCK_KEY = 0x636F6D6D_73726368  # "comm" "srch"
_SESSION_KEY = "community.search.topics"


# --- noticing changes ------------------------------------------------------------------------


def queue_topics(*topic_ids: int | None) -> None:
    """Have these topics' documents written again once the current transaction commits.
    Call it from code that changes topics or posts with SQL statements (ORM changes to
    ``Topic`` and ``Post`` objects are noticed without it)."""
    pending = db.session.info.setdefault(_SESSION_KEY, set())
    pending.update(i for i in topic_ids if i)


def _after_flush(session: Session, flush_context: Any) -> None:
    from community.topics.models import Post, Topic

    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Topic):
            ids.add(obj.id)
            if obj.merged_into_id:
                ids.add(obj.merged_into_id)
        elif isinstance(obj, Post):
            ids.add(obj.topic_id)
    if ids:
        session.info.setdefault(_SESSION_KEY, set()).update(ids)


def _before_commit(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # so that _after_flush notices what the commit would flush
    ids = session.info.pop(_SESSION_KEY, None)
    if ids:
        session.execute(insert(SearchQueue), [{"topic_id": i} for i in sorted(ids)])
        session.info["community.search.flush"] = True


def _after_commit(session: Session) -> None:
    if session.info.pop("community.search.flush", False) and has_app_context():
        try:
            enqueue(flush)
        except Exception:
            # The rows are committed: the periodic sweep will pick them up.
            log.exception("could not queue the search index update; the sweep will do it")


def install_listeners() -> None:
    """Listen to every session (idempotent). Topics noticed in a transaction that is rolled
    back stay noticed until the session's next commit: writing a document again is harmless."""
    for name, fn in (
        ("after_flush", _after_flush),
        ("before_commit", _before_commit),
        ("after_commit", _after_commit),
    ):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


# --- one writer at a time --------------------------------------------------------------------


@contextmanager
def index_lock(wait: bool = True) -> Iterator[bool]:
    """Hold the right to write the index. Yields False (without waiting) when ``wait`` is
    false and another process holds it."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
                got = True
            else:
                got = bool(
                    conn.execute(
                        text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}
                    ).scalar()
                )
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                    conn.commit()
        return
    path = os.path.join(current_app.instance_path, "search.lock")
    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --- the worker's side -----------------------------------------------------------------------


def _next_rows(skip: set[int], retry: bool) -> list[tuple[int, int]]:
    stmt = (
        select(SearchQueue.id, SearchQueue.topic_id)
        .where(SearchQueue.attempts < MAX_ATTEMPTS if retry else SearchQueue.attempts == 0)
        .order_by(SearchQueue.id)
        .limit(BATCH_SIZE)
    )
    if skip:
        stmt = stmt.where(SearchQueue.topic_id.not_in(skip))
    return [(row_id, topic_id) for row_id, topic_id in db.session.execute(stmt)]


def _write(topic_ids: list[int]) -> None:
    from community.search import search_backend
    from community.search.documents import build_documents

    documents, gone = build_documents(topic_ids)
    backend = search_backend()
    if documents:
        backend.index(documents)
    if gone:
        backend.delete(gone)


def process_queue(retry: bool = False) -> int:
    """Write every queued topic's document (the caller holds :func:`index_lock`); with
    ``retry``, also those that failed before (fewer than :data:`MAX_ATTEMPTS` times). Returns
    how many topics were written."""
    written = 0
    failed: set[int] = set()
    while True:
        rows = _next_rows(failed, retry)
        db.session.rollback()  # end the read transaction: nothing is held while indexing
        if not rows:
            return written
        topic_ids = sorted({topic_id for _row, topic_id in rows})
        try:
            _write(topic_ids)
        except Exception:
            db.session.rollback()
            log.warning("search batch of %d topics failed; trying one by one", len(topic_ids))
            written += _write_one_by_one(rows, failed)
            continue
        db.session.execute(delete(SearchQueue).where(SearchQueue.id.in_([r for r, _t in rows])))
        db.session.commit()
        written += len(topic_ids)


def _write_one_by_one(rows: list[tuple[int, int]], failed: set[int]) -> int:
    written = 0
    for topic_id in sorted({t for _r, t in rows}):
        row_ids = [r for r, t in rows if t == topic_id]
        try:
            _write([topic_id])
        except Exception as exc:
            db.session.rollback()
            log.exception("search: topic %d could not be indexed", topic_id)
            failed.add(topic_id)
            message = f"{type(exc).__name__}: {exc}"[:500]
            db.session.execute(
                update(SearchQueue)
                .where(SearchQueue.id.in_(row_ids))
                .values(attempts=SearchQueue.attempts + 1, last_error=message)
            )
        else:
            db.session.execute(delete(SearchQueue).where(SearchQueue.id.in_(row_ids)))
            written += 1
        db.session.commit()
    return written


def queue_waiting() -> bool:
    return (
        db.session.scalar(select(SearchQueue.id).where(SearchQueue.attempts == 0).limit(1))
        is not None
    )


def flush_now(retry: bool = False) -> int:
    """Process the queue unless another process is doing it. Looks again after letting the
    lock go, so that rows queued while it worked are never left behind. Topics that failed
    before are tried again only with ``retry`` (the sweep, once a minute)."""
    written = 0
    while True:
        with index_lock(wait=False) as got:
            if not got:
                return written
            written += process_queue(retry)
            retry = False
        waiting = queue_waiting()
        db.session.rollback()
        if not waiting:
            return written


@task(retries=3, retry_delay=30)
def flush() -> None:
    """Write the queued topics into the search index."""
    flush_now()


@periodic_task(crontab(minute="*"))
def sweep() -> None:
    """Once a minute: topics whose update failed or was never queued (the queue was down)."""
    flush_now(retry=True)


# --- status ----------------------------------------------------------------------------------


def queue_status() -> dict[str, Any]:
    from sqlalchemy import func

    waiting = db.session.scalar(
        select(func.count(SearchQueue.topic_id.distinct())).where(SearchQueue.attempts == 0)
    )
    failing = list(
        db.session.execute(
            select(SearchQueue.topic_id, SearchQueue.attempts, SearchQueue.last_error)
            .where(SearchQueue.attempts > 0)
            .order_by(SearchQueue.id)
            .limit(50)
        )
    )
    return {"waiting": waiting or 0, "failing": failing}


def retry_failed() -> int:
    result = db.session.execute(
        update(SearchQueue).where(SearchQueue.attempts > 0).values(attempts=0, last_error=None)
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def queue_all_topics() -> int:
    """Queue every topic (after a bulk import such as ``community demo``) and commit."""
    from sqlalchemy import func, literal

    from community.dbtypes import UTCDateTime, utcnow
    from community.topics.models import Topic

    db.session.execute(
        insert(SearchQueue).from_select(
            ["topic_id", "queued_at", "attempts"],
            select(Topic.id, literal(utcnow(), UTCDateTime()), literal(0)),
        )
    )
    db.session.info["community.search.flush"] = True
    db.session.commit()
    return int(db.session.scalar(select(func.count()).select_from(SearchQueue)) or 0)
