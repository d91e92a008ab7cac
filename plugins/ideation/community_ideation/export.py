"""The export of a space's ideas (CSV or JSON): one row per idea with its votes, status,
importance counts and its voters' segments (staff or customers, language, account age).

Rows are read in batches of :data:`BATCH` ideas (keyset pagination on the id, three queries a
batch) and streamed, so a large space never sits in memory at once."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, or_, select

from community.accounts.models import Role, User
from community.dbtypes import utcnow
from community.extensions import db
from community.topics.models import Post, Topic, Vote
from community_ideation.models import Importance
from community_ideation.roadmap import visible_ideas
from community_ideation.workflow import Workflow

BATCH = 500
LEVELS = ("nice", "important", "critical")
AGES = ("under_30_days", "30_to_365_days", "over_365_days")
FIELDS = [
    "id",
    "title",
    "url",
    "status",
    "status_name",
    "votes",
    "created_at",
    "author",
    *(f"importance_{level}" for level in LEVELS),
    "voters_staff",
    "voters_customers",
    *(f"voters_{age}" for age in AGES),
    "voters_languages",
]


def rows(
    space_ids: list[int], flow: Workflow, url_for_topic: Callable[[Any], str]
) -> Iterator[dict[str, Any]]:
    """One dict per idea of these spaces (oldest first); ``voters_languages`` is a dict of
    language → voters (``"unknown"`` when the member chose none)."""
    if not space_ids:
        return
    now = utcnow()
    # Admins work for the company too.
    employee_case = case((or_(User.is_staff.is_(True), User.role == Role.ADMIN), 1), else_=0)
    age_case = case(
        (User.created_at.is_(None), AGES[0]),
        (User.created_at > now - timedelta(days=30), AGES[0]),
        (User.created_at >= now - timedelta(days=365), AGES[1]),
        else_=AGES[2],
    )
    after = 0
    while True:
        # Columns, not ORM objects (with their joined space and author): a third of the time.
        batch = list(
            db.session.execute(
                visible_ideas(space_ids)
                .with_only_columns(
                    Topic.id,
                    Topic.title,
                    Topic.slug,
                    Topic.status,
                    Topic.score,
                    Topic.created_at,
                    User.username,
                )
                .join(User, User.id == Topic.author_id)
                .where(Topic.id > after)
                .order_by(Topic.id)
                .limit(BATCH)
            )
        )
        if not batch:
            return
        ids = [t.id for t in batch]
        importance: dict[int, Counter] = {i: Counter() for i in ids}
        for topic_id, level, count in db.session.execute(
            select(Importance.topic_id, Importance.level, func.count())
            .where(Importance.topic_id.in_(ids))
            .group_by(Importance.topic_id, Importance.level)
        ):
            importance[topic_id][level] += count
        staff: Counter = Counter()
        customers: Counter = Counter()
        ages: dict[int, Counter] = {i: Counter() for i in ids}
        languages: dict[int, Counter] = {i: Counter() for i in ids}
        # Counted by the database: a few rows per idea, not one per vote.
        for topic_id, employee, locale, age, count in db.session.execute(
            select(Post.topic_id, employee_case, User.locale, age_case, func.count())
            .join(Vote, Vote.post_id == Post.id)
            .join(User, User.id == Vote.user_id)
            .where(Post.topic_id.in_(ids), Post.is_opening.is_(True), Vote.value > 0)
            .group_by(Post.topic_id, employee_case, User.locale, age_case)
        ):
            (staff if employee else customers)[topic_id] += count
            ages[topic_id][age] += count
            languages[topic_id][locale or "unknown"] += count
        for topic in batch:
            status = flow.status(topic.status)
            row: dict[str, Any] = {
                "id": topic.id,
                "title": topic.title,
                "url": url_for_topic(topic),
                "status": topic.status or "",
                "status_name": status.name if status else (topic.status or ""),
                "votes": topic.score,
                "created_at": topic.created_at.isoformat() if topic.created_at else "",
                "author": topic.username,
            }
            for level in LEVELS:
                row[f"importance_{level}"] = importance[topic.id][level]
            row["voters_staff"] = staff[topic.id]
            row["voters_customers"] = customers[topic.id]
            for age in AGES:
                row[f"voters_{age}"] = ages[topic.id][age]
            row["voters_languages"] = dict(sorted(languages[topic.id].items()))
            yield row
        after = ids[-1]


def csv_lines(items: Iterator[dict[str, Any]]) -> Iterator[str]:
    """The rows as CSV text, a header first; languages written ``en:3;it:1``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\r\n")
    writer.writeheader()
    yield buffer.getvalue()
    for item in items:
        buffer.seek(0)
        buffer.truncate()
        flat = dict(item)
        flat["voters_languages"] = ";".join(f"{k}:{v}" for k, v in item["voters_languages"].items())
        for key in ("title", "author"):
            flat[key] = _safe_cell(flat[key])
        writer.writerow(flat)
        yield buffer.getvalue()


def _safe_cell(value: str) -> str:
    """No formula injection when the file is opened in a spreadsheet."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def json_chunks(items: Iterator[dict[str, Any]], meta: dict[str, Any]) -> Iterator[str]:
    """``{...meta, "ideas": [rows]}`` written piece by piece."""
    head = json.dumps(meta, ensure_ascii=False)
    yield head[:-1] + (', "ideas": [' if meta else '"ideas": [')
    first = True
    for item in items:
        yield ("" if first else ",") + json.dumps(item, ensure_ascii=False)
        first = False
    yield "]}"
