"""The interface every search backend implements.

Core ships two: Whoosh (an index directory in the instance folder; the default) and
PostgreSQL full-text search (a table in the site's database; for several app servers). A
plugin may bring another one through the ``community_search_backend`` hook.

A backend only stores and matches documents. Everything about who may see what stays in core:
the search service gives the backend the spaces the user may see as a filter, and checks every
hit against the database again before showing it, so a backend that is a little behind can
never show a deleted post or a topic that moved to a private space.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from community.search.query import ParsedQuery

SORTS = ("relevance", "newest", "votes")


@dataclass
class SearchDocument:
    """One topic as the index sees it: its title, the text of its opening post and of its
    published replies (plain text made from the Markdown), and the fields filters use."""

    topic_id: int
    space_id: int
    kind: str
    title: str
    body: str
    answers: str
    tags: list[str]
    author_id: int
    solved: bool
    created_at: datetime
    activity_at: datetime
    votes: int


@dataclass(frozen=True)
class SearchFilters:
    """What the search form asks for. ``space_ids`` is always given: the spaces the user may
    see (narrowed to one space and its children when the form asks). When the form names no
    space, ``excluded_space_ids`` are all the other spaces, so that a backend may leave those
    out instead of keeping ``space_ids`` in, whichever costs less (usually few spaces are
    private); the result must be the same."""

    space_ids: tuple[int, ...]
    kind: str | None = None
    solved: bool | None = None
    tag: str | None = None
    author_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    excluded_space_ids: tuple[int, ...] | None = None


@dataclass
class SearchResult:
    """Topic ids of one page of hits, best first, and how many hits there are in all (an
    estimate, with ``approximate`` set, when counting them exactly would cost more than
    finding them). ``partial`` says the backend stopped at its time limit and gives the best
    hits it had found."""

    topic_ids: list[int] = field(default_factory=list)
    total: int = 0
    partial: bool = False
    approximate: bool = False


class SearchBackend(ABC):
    """Stores documents and finds them. Implementations must be safe to call from several
    threads and processes: writes come from the worker (one at a time, see
    :func:`community.search.indexing.index_lock`), reads from every web process."""

    #: Shown on the admin page and by ``community search status``.
    name: str = "backend"

    @abstractmethod
    def index(self, documents: list[SearchDocument]) -> None:
        """Add or replace these documents."""

    @abstractmethod
    def delete(self, topic_ids: list[int]) -> None:
        """Remove these topics' documents (missing ones are ignored)."""

    @abstractmethod
    def search(
        self, query: ParsedQuery, filters: SearchFilters, sort: str, offset: int, limit: int
    ) -> SearchResult:
        """One page of hits for a non-empty query. ``sort`` is one of :data:`SORTS`."""

    @abstractmethod
    def count(self) -> int:
        """How many documents the index holds."""

    @abstractmethod
    def rebuild(self, batches: Iterable[list[SearchDocument]]) -> None:
        """Replace the whole index with these documents while searches go on: build aside and
        swap at the end (or replace in place when that never shows a half-built index)."""

    def clear(self) -> None:
        """Remove every document (tests, ``community search reindex`` on a new backend)."""
        self.rebuild([])
