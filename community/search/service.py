"""Searches as people make them: the permission rules of listings, checked twice.

1. The backend is asked only for topics in spaces the viewer may see (and, when the form asks,
   one space and its children): private hits are not in the results, the counts or the
   snippets.
2. Every hit is loaded again from the database with the listing rules (not deleted, not
   merged, not held, in a space the viewer may see): a backend that has not yet caught up with
   a deletion or a move to a private space can never show it.

Snippets come from the database text too, so an edit shows at once in the snippet.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from community.dbtypes import utcnow
from community.extensions import db
from community.permissions import all_spaces, visible_space_ids
from community.plugins import fire
from community.search import search_backend
from community.search.backend import SORTS, SearchFilters
from community.search.documents import html_text
from community.search.highlight import has_match, highlight_title, snippet
from community.search.models import SearchDeflection
from community.search.query import ParsedQuery, any_of, parse_query
from community.topics.models import Post, Topic
from community.topics.queries import visible_topics

log = logging.getLogger(__name__)

KINDS = ("question", "idea", "discussion")
DATE_RANGES = {"day": 1, "week": 7, "month": 31, "year": 366}
DEFLECT_SALT = "community.search.deflect"
DEFLECT_MAX_AGE = 24 * 3600


@dataclass
class Hit:
    topic: Topic
    title: Markup
    snippet: Markup
    # The first lines of the accepted answer (questions that have one).
    answer: str | None = None
    # True when the snippet is taken from the accepted answer (only it has the words).
    snippet_from_answer: bool = False


@dataclass
class SearchOutcome:
    query: ParsedQuery
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 20
    # Set when no topic had every word and the results have any of them instead.
    any_words: bool = False
    # Set when the backend did not count every hit: ``total`` is then a lower bound, one more
    # than the hits up to this page when another page follows ("more than 20 results").
    approximate: bool = False
    message: str | None = None

    @property
    def pages(self) -> int:
        """Pages to offer: no more than ``SEARCH_MAX_PAGES``, however many hits there are."""
        pages = max(1, -(-self.total // self.per_page))
        return min(pages, current_app.config["SEARCH_MAX_PAGES"])

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def at_least(self) -> int:
        """With an approximate total: how many hits there are at least, up to this page."""
        return (self.page - 1) * self.per_page + len(self.hits)


def subtree_ids(space_id: int) -> set[int]:
    """A space and every space below it."""
    spaces = all_spaces()
    children: dict[int | None, list[int]] = {}
    for space in spaces.values():
        children.setdefault(space.parent_id, []).append(space.id)
    found: set[int] = set()
    stack = [space_id]
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children.get(current, []))
    return found


def make_filters(
    viewer: Any,
    *,
    space_id: int | None = None,
    kind: str | None = None,
    solved: bool | None = None,
    tag: str | None = None,
    author_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> SearchFilters:
    allowed = set(visible_space_ids(viewer))
    excluded = None
    if space_id is not None:
        allowed &= subtree_ids(space_id)
    else:
        excluded = tuple(sorted(set(all_spaces()) - allowed))
    return SearchFilters(
        space_ids=tuple(sorted(allowed)),
        excluded_space_ids=excluded,
        kind=kind if kind in KINDS else None,
        solved=solved,
        tag=tag.lower() if tag else None,
        author_id=author_id,
        since=since,
        until=until,
    )


def since_for(date_range: str | None) -> datetime | None:
    days = DATE_RANGES.get(date_range or "")
    return utcnow() - timedelta(days=days) if days else None


def search_topics(
    viewer: Any, text: str, filters: SearchFilters, sort: str = "relevance", page: int = 1
) -> SearchOutcome:
    """One page of results for what ``viewer`` typed, or a message saying why there are none."""
    per_page = current_app.config["SEARCH_RESULTS_PER_PAGE"]
    query = parse_query(text)
    outcome = SearchOutcome(query=query, page=page, per_page=per_page)
    if query.is_empty:
        outcome.message = _("Type one or more words to search for.")
        return outcome
    if page > current_app.config["SEARCH_MAX_PAGES"]:
        outcome.message = _("There are no more results: try more precise words or filters.")
        return outcome
    sort = sort if sort in SORTS else "relevance"
    backend = search_backend()
    offset = (page - 1) * per_page
    result = backend.search(query, filters, sort, offset, per_page)
    if result.total == 0 and _is_plain_words(query):
        # Nothing has every word: show what has some of them, best first (on every page).
        wider = any_of(" ".join(query.positive_words()))
        result = backend.search(wider, filters, sort, offset, per_page)
        outcome.any_words = result.total > 0
    outcome.hits = _hits(viewer, result.topic_ids, query.positive_words())
    # Hits the database check dropped (the index is catching up with a deletion or a move to
    # a private space) are not counted either.
    outcome.total = max(0, result.total - (len(result.topic_ids) - len(outcome.hits)))
    outcome.approximate = result.approximate
    if result.partial:
        outcome.message = _(
            "So many topics match that only the best of those looked at are shown: "
            "add a word or a filter."
        )
    if result.total and page > outcome.pages:
        outcome.message = _("There are no more results: try more precise words or filters.")
    if query.truncated:
        outcome.message = _("Your search was long: only its first words were used.")
    return outcome


def _is_plain_words(query: ParsedQuery) -> bool:
    """One group of words, no phrase, no NOT: the case where "any of the words" helps."""
    return (
        len(query.groups) == 1
        and all(not t.negated and not t.is_phrase for t in query.groups[0])
        and len(query.groups[0]) > 1
    )


def _hits(viewer: Any, topic_ids: list[int], words: list[str]) -> list[Hit]:
    """Hits in the backend's order, each loaded again with the listing rules."""
    if not topic_ids:
        return []
    topics = {
        t.id: t
        for t in db.session.scalars(
            visible_topics(viewer).where(Topic.id.in_(topic_ids), Topic.merged_into_id.is_(None))
        )
    }
    shown = [topics[i] for i in topic_ids if i in topics]
    dropped = len(topic_ids) - len(shown)
    if dropped:
        log.info("search: %d hits dropped as not visible any more (index catching up)", dropped)
    texts = _texts(shown)
    hits = []
    for topic in shown:
        body, answer = texts.get(topic.id, ("", None))
        # The question's text, or the accepted answer's when only the answer has the words.
        use_answer = answer and not has_match(body, words) and has_match(answer, words)
        text = answer if use_answer and answer else body
        hits.append(
            Hit(
                topic=topic,
                title=highlight_title(topic.title, words),
                snippet=snippet(text, words),
                answer=_first_lines(answer) if answer else None,
                snippet_from_answer=bool(use_answer),
            )
        )
    return hits


def _texts(topics: list[Topic]) -> dict[int, tuple[str, str | None]]:
    """The opening post's text and the accepted answer's, as they are now (one query)."""
    if not topics:
        return {}
    accepted = {t.accepted_answer_id: t.id for t in topics if t.accepted_answer_id}
    rows = db.session.execute(
        select(Post.id, Post.topic_id, Post.is_opening, Post.body_html).where(
            Post.deleted_at.is_(None),
            Post.held_at.is_(None),
            (Post.topic_id.in_([t.id for t in topics]) & Post.is_opening.is_(True))
            | Post.id.in_(list(accepted) or [0]),
        )
    )
    bodies: dict[int, str] = {}
    answers: dict[int, str] = {}
    for post_id, topic_id, is_opening, body_html in rows:
        if is_opening:
            bodies[topic_id] = html_text(body_html)
        elif post_id in accepted:
            answers[accepted[post_id]] = html_text(body_html)
    return {t.id: (bodies.get(t.id, ""), answers.get(t.id)) for t in topics}


def _first_lines(text: str, length: int = 220) -> str:
    return text if len(text) <= length else text[: length - 1].rsplit(" ", 1)[0] + "…"


# --- similar topics while asking -------------------------------------------------------------


def similar_topics(viewer: Any, title: str, kind: str | None = None) -> list[Hit]:
    """Topics like the one being written, anywhere the viewer may look: those sharing the
    most words with the title, solved questions first."""
    query = any_of(title)
    if query.is_empty:
        return []
    count = current_app.config["SEARCH_SIMILAR_COUNT"]
    filters = make_filters(viewer, kind=kind if kind in KINDS else None)
    result = search_backend().search(query, filters, "relevance", 0, count * 2)
    hits = _hits(viewer, result.topic_ids, query.positive_words())
    # Solved first, keeping relevance order within each group.
    hits.sort(key=lambda hit: not hit.topic.is_solved)
    return hits[:count]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=DEFLECT_SALT)


def deflection_token(user: Any, topic: Topic, title: str, space_id: int | None) -> str:
    """The signed link of a suggestion: who was asking, what they had typed, where."""
    return _serializer().dumps(
        {
            "u": user.id,
            "t": topic.id,
            "q": " ".join(title.split())[:200],
            "s": space_id,
            "n": secrets.token_hex(8),
        }
    )


def read_deflection(token: str) -> dict[str, Any] | None:
    try:
        data = _serializer().loads(token, max_age=DEFLECT_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("t"), int):
        return None
    return data


def record_deflection(user: Any, topic: Topic, data: dict[str, Any]) -> bool:
    """Store a followed suggestion once per link and tell plugins. False if already counted."""
    row = SearchDeflection(
        user_id=user.id,
        topic_id=topic.id,
        space_id=data.get("s") if isinstance(data.get("s"), int) else None,
        query=str(data.get("q", ""))[:200],
        nonce=str(data.get("n", ""))[:32],
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    fire("community_search_deflected", user=user, topic=topic, query=row.query)
    return True
