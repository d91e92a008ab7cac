"""Search documents made from the database: what the worker writes into the index."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import nh3
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from community.extensions import db
from community.markdown import _parser
from community.search.backend import SearchDocument
from community.topics.models import Post, Topic

# Replies of a long topic beyond this many characters are not indexed (the title, the
# question and the first replies are what a search for it matches).
MAX_ANSWERS_CHARS = 60_000


def markdown_text(source: str) -> str:
    """The words of a Markdown post without its markup (code and link text included)."""
    text = nh3.clean(_parser().render(source), tags=set())
    return " ".join(html.unescape(text).split())


def html_text(body_html: str) -> str:
    """The words of a post's stored (sanitized) HTML: what snippets are made of. Ten times
    cheaper than rendering its Markdown again, and the same text the page shows."""
    return " ".join(html.unescape(nh3.clean(body_html, tags=set())).split())


def is_indexable(topic: Topic) -> bool:
    """Published topics only: not deleted, merged away or waiting for review."""
    return topic.deleted_at is None and topic.held_at is None and topic.merged_into_id is None


def build_documents(topic_ids: list[int]) -> tuple[list[SearchDocument], list[int]]:
    """Documents for the topics that should be in the index, and the ids of those that
    should not be there (deleted, merged, held, or gone)."""
    topics = {
        t.id: t
        for t in db.session.scalars(
            select(Topic).where(Topic.id.in_(topic_ids)).options(selectinload(Topic.tags))
        )
    }
    indexable = [topics[i] for i in topic_ids if i in topics and is_indexable(topics[i])]
    gone = [i for i in topic_ids if i not in topics or not is_indexable(topics[i])]
    return _documents(indexable, db.session), gone


def _documents(topics: list[Topic], session: Any) -> list[SearchDocument]:
    if not topics:
        return []
    bodies: dict[int, str] = {}
    answers: dict[int, list[str]] = {t.id: [] for t in topics}
    sizes: dict[int, int] = dict.fromkeys(answers, 0)
    rows = session.execute(
        select(Post.topic_id, Post.is_opening, Post.body_source)
        .where(
            Post.topic_id.in_(list(answers)),
            Post.deleted_at.is_(None),
            Post.held_at.is_(None),
        )
        .order_by(Post.topic_id, Post.created_at, Post.id)
    )
    for topic_id, is_opening, source in rows:
        if is_opening:
            bodies[topic_id] = markdown_text(source)
        elif sizes[topic_id] < MAX_ANSWERS_CHARS:
            text = markdown_text(source)
            answers[topic_id].append(text)
            sizes[topic_id] += len(text)
    return [
        SearchDocument(
            topic_id=t.id,
            space_id=t.space_id,
            kind=t.kind,
            title=t.title,
            body=bodies.get(t.id, ""),
            answers="\n".join(answers[t.id])[:MAX_ANSWERS_CHARS],
            tags=[tag.name for tag in t.tags],
            author_id=t.author_id,
            solved=t.accepted_answer_id is not None,
            created_at=t.created_at,
            activity_at=t.last_activity_at,
            votes=t.score,
        )
        for t in topics
    ]


def all_documents(batch_size: int = 500) -> Iterator[list[SearchDocument]]:
    """Every indexable topic's document, in batches (for a rebuild). Reads with a session of
    its own, emptied after each batch, so memory stays flat however many topics there are."""
    last_id = 0
    with Session(db.engine) as session:
        while True:
            topics = list(
                session.scalars(
                    select(Topic)
                    .where(
                        Topic.id > last_id,
                        Topic.deleted_at.is_(None),
                        Topic.held_at.is_(None),
                        Topic.merged_into_id.is_(None),
                    )
                    .options(selectinload(Topic.tags))
                    .order_by(Topic.id)
                    .limit(batch_size)
                )
            )
            if not topics:
                return
            last_id = topics[-1].id
            documents = _documents(topics, session)
            session.expunge_all()
            session.rollback()
            yield documents


def count_indexable() -> int:
    stmt = (
        select(func.count())
        .select_from(Topic)
        .where(Topic.deleted_at.is_(None), Topic.held_at.is_(None), Topic.merged_into_id.is_(None))
    )
    return int(db.session.scalar(stmt) or 0)
