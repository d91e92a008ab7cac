"""``community search ...``: rebuild the index, see how it is doing, retry failures."""

from __future__ import annotations

from collections.abc import Iterator

import click
from flask.cli import with_appcontext

from community.search.backend import SearchDocument


@click.group("search")
def search_group() -> None:
    """Manage the search index."""


@search_group.command("reindex")
@click.option("--batch-size", default=500, show_default=True, help="Topics read per batch.")
@with_appcontext
def reindex_command(batch_size: int) -> None:
    """Rebuild the whole index from the database, with a progress bar.

    The site keeps answering searches from the old index while the new one is built (the
    Whoosh backend builds it aside and swaps it in at the end; the PostgreSQL backend replaces
    rows in place). Changes made meanwhile wait in the queue and are written right after.
    """
    from sqlalchemy import delete, select

    from community.extensions import db
    from community.search import search_backend
    from community.search.documents import all_documents, count_indexable
    from community.search.indexing import flush_now, index_lock
    from community.search.models import SearchQueue

    backend = search_backend()
    total = count_indexable()
    click.echo(f"Indexing {total} topics with the {backend.name} backend.")
    with index_lock(wait=True):
        # Changes committed before the build reads the database are in the new index: their
        # queue rows can go once it is in place. Later ones are written after the swap.
        covered = list(db.session.scalars(select(SearchQueue.id).where(SearchQueue.attempts == 0)))
        db.session.rollback()
        with click.progressbar(length=total, label="Topics") as bar:

            def batches() -> Iterator[list[SearchDocument]]:
                for batch in all_documents(batch_size):
                    yield batch
                    bar.update(len(batch))

            backend.rebuild(batches())
        for start in range(0, len(covered), 5000):
            chunk = covered[start : start + 5000]
            db.session.execute(delete(SearchQueue).where(SearchQueue.id.in_(chunk)))
        db.session.commit()
    written = flush_now()
    click.echo(f"Done: {backend.count()} documents; {written} changes made meanwhile written.")


@search_group.command("status")
@with_appcontext
def status_command() -> None:
    """Show the backend, how many documents it holds, and the update queue."""
    from community.search import search_backend
    from community.search.documents import count_indexable
    from community.search.indexing import MAX_ATTEMPTS, queue_status

    backend = search_backend()
    status = queue_status()
    click.echo(f"Backend: {backend.name}")
    click.echo(f"Documents in the index: {backend.count()}")
    click.echo(f"Published topics: {count_indexable()}")
    click.echo(f"Waiting for the worker: {status['waiting']}")
    failing = status["failing"]
    click.echo(f"Failing: {len(failing)}")
    for topic_id, attempts, error in failing:
        state = "given up" if attempts >= MAX_ATTEMPTS else "will retry"
        click.echo(f"  topic {topic_id}: {attempts} attempts ({state}): {error}")


@search_group.command("retry")
@with_appcontext
def retry_command() -> None:
    """Try again the topics whose index update failed, now."""
    from community.search.indexing import flush_now, retry_failed

    count = retry_failed()
    written = flush_now()
    click.echo(f"{count} failed updates queued again; {written} topics written.")
