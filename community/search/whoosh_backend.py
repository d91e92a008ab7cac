"""The embedded default: a Whoosh index in the instance folder.

Layout: ``instance/search/whoosh/<generation>/`` holds an index; the file ``CURRENT`` names
the generation searches read. A rebuild writes a new generation beside the live one and swaps
``CURRENT`` when it is complete, so searches go on during a rebuild and never see half of it.

Searches open a new searcher whenever the index changed (never ``refresh()``, which in the
Whoosh forks could keep returning edited and deleted documents). Queries are built as query
objects from :class:`~community.search.query.ParsedQuery`; Whoosh's own query parser (with its
wildcards, ranges and field names) is never used.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterable
from typing import Any

from whoosh.analysis import LanguageAnalyzer
from whoosh.collectors import TimeLimitCollector
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.lang.stopwords import stoplists
from whoosh.query import And, AndNot, DateRange, Not, Or, Phrase, Query, Term
from whoosh.searching import TimeLimit

from community.search.backend import SearchBackend, SearchDocument, SearchFilters, SearchResult
from community.search.query import ParsedQuery
from community.search.query import Term as QueryTerm

LANGUAGES = ("en", "it")
# Weight of each text field: a word in the title says more than one in a reply.
FIELD_BOOSTS = {"title": 3.0, "body": 1.5, "answers": 1.0}
# Alternatives kept from a long "any of these words" query (the rarest ones).
MAX_ALTERNATIVES = 6
WRITER_TIMEOUT = 60.0  # seconds to wait for Whoosh's own write lock
STOP_WORDS = frozenset().union(*(stoplists[lang] for lang in LANGUAGES))


def _schema() -> Schema:
    fields: dict[str, Any] = {
        "topic_id": ID(stored=True, unique=True),
        "space": ID,
        "kind": ID,
        "solved": BOOLEAN,
        "tags": KEYWORD(lowercase=True, commas=True),
        "author": ID,
        "created": DATETIME(sortable=True),
        "activity": DATETIME(sortable=True),
        "votes": NUMERIC(sortable=True, signed=True, bits=32),
    }
    for lang in LANGUAGES:
        analyzer = LanguageAnalyzer(lang)
        for name, boost in FIELD_BOOSTS.items():
            fields[f"{name}_{lang}"] = TEXT(analyzer=analyzer, field_boost=boost, phrase=True)
    return Schema(**fields)


def _fields(document: SearchDocument) -> dict[str, Any]:
    values: dict[str, Any] = {
        "topic_id": str(document.topic_id),
        "space": str(document.space_id),
        "kind": document.kind,
        "solved": document.solved,
        "tags": ",".join(document.tags),
        "author": str(document.author_id),
        "created": document.created_at.replace(tzinfo=None),
        "activity": document.activity_at.replace(tzinfo=None),
        "votes": document.votes,
    }
    for lang in LANGUAGES:
        values[f"title_{lang}"] = document.title
        values[f"body_{lang}"] = document.body
        values[f"answers_{lang}"] = document.answers
    return values


def _storage(directory: str) -> FileStorage:
    """Files read with plain reads, not memory maps: Whoosh leaves the maps of the segments a
    writer read in place until the process ends (a worker's memory grew by the size of the
    index on every batch, and deleted segments kept their disk space)."""
    return FileStorage(directory, supports_mmap=False)


class WhooshBackend(SearchBackend):
    name = "whoosh"

    def __init__(self, path: str, time_limit: float = 0.5) -> None:
        self.path = path
        #: Seconds a search may take; then the best hits found so far are returned.
        self.time_limit = time_limit
        self.schema = _schema()
        self._analyzers = {lang: LanguageAnalyzer(lang) for lang in LANGUAGES}
        self._opened: dict[str, Any] = {}
        self._lock = threading.Lock()

    # --- generations -------------------------------------------------------------------------

    def _current_name(self) -> str | None:
        try:
            with open(os.path.join(self.path, "CURRENT")) as fh:
                return fh.read().strip() or None
        except FileNotFoundError:
            return None

    def _open(self, name: str) -> Any:
        with self._lock:
            ix = self._opened.get(name)
            if ix is None:
                ix = _storage(os.path.join(self.path, name)).open_index()
                self._opened = {name: ix}  # older generations are let go
            return ix

    def _new_generation(self) -> tuple[str, Any]:
        os.makedirs(self.path, exist_ok=True)
        name = f"gen-{time.time_ns()}"
        directory = os.path.join(self.path, name)
        os.makedirs(directory)
        return name, _storage(directory).create_index(self.schema)

    def _make_current(self, name: str) -> None:
        tmp = os.path.join(self.path, f"CURRENT.{os.getpid()}.tmp")
        with open(tmp, "w") as fh:
            fh.write(name)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, os.path.join(self.path, "CURRENT"))
        self._drop_old_generations(keep={name})

    def _drop_old_generations(self, keep: set[str]) -> None:
        # The generation just replaced stays one more round: a search that read CURRENT a
        # moment ago may still be opening it.
        generations = sorted(
            (d for d in os.listdir(self.path) if d.startswith("gen-")),
            key=lambda d: int(d[4:]),
        )
        for old in generations[:-2]:
            if old not in keep:
                shutil.rmtree(os.path.join(self.path, old), ignore_errors=True)

    def _writable_index(self) -> Any:
        name = self._current_name()
        if name is None:
            name, ix = self._new_generation()
            self._make_current(name)
            return ix
        return self._open(name)

    # --- writing -----------------------------------------------------------------------------

    def index(self, documents: list[SearchDocument]) -> None:
        writer = self._writable_index().writer(timeout=WRITER_TIMEOUT)
        try:
            for document in documents:
                writer.update_document(**_fields(document))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def delete(self, topic_ids: list[int]) -> None:
        if self._current_name() is None:
            return
        writer = self._writable_index().writer(timeout=WRITER_TIMEOUT)
        try:
            for topic_id in topic_ids:
                writer.delete_by_term("topic_id", str(topic_id))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def rebuild(self, batches: Iterable[list[SearchDocument]]) -> None:
        name, ix = self._new_generation()
        writer = ix.writer(limitmb=128, procs=1)
        try:
            for batch in batches:
                for document in batch:
                    writer.add_document(**_fields(document))
        except BaseException:
            writer.cancel()
            shutil.rmtree(os.path.join(self.path, name), ignore_errors=True)
            raise
        writer.commit(optimize=True)
        self._make_current(name)

    def count(self) -> int:
        name = self._current_name()
        if name is None:
            return 0
        return int(self._open(name).doc_count())

    # --- searching ---------------------------------------------------------------------------

    def _term_query(self, term: QueryTerm) -> Query | None:
        if not term.is_phrase and term.words[0] in STOP_WORDS:
            return None  # "how", "the", "come": matched by nothing in either language
        alternatives: list[Query] = []
        for lang, analyzer in self._analyzers.items():
            tokens = [t.text for t in analyzer(" ".join(term.words))]
            if not tokens:
                continue
            for field in FIELD_BOOSTS:
                name = f"{field}_{lang}"
                if len(tokens) == 1:
                    alternatives.append(Term(name, tokens[0]))
                else:
                    alternatives.append(Phrase(name, tokens))
        return Or(alternatives) if alternatives else None

    def _rarest(self, query: ParsedQuery, searcher: Any) -> ParsedQuery:
        """A long list of alternative words (the similar-topics query, "any of the words")
        keeps only its :data:`MAX_ALTERNATIVES` rarest words: they decide the ranking, and
        each common word would add thousands of documents to score."""
        if len(query.groups) <= MAX_ALTERNATIVES or any(len(g) > 1 for g in query.groups):
            return query

        def frequency(group: tuple[QueryTerm, ...]) -> int:
            term = group[0]
            if term.negated or term.is_phrase or term.words[0] in STOP_WORDS:
                return 1 << 40
            total = 0
            for lang, analyzer in self._analyzers.items():
                for token in analyzer(term.words[0]):
                    total += searcher.doc_frequency(f"body_{lang}", token.text)
            return total

        kept = sorted(query.groups, key=frequency)[:MAX_ALTERNATIVES]
        return ParsedQuery(tuple(kept), text=query.text, truncated=query.truncated)

    def _query(self, query: ParsedQuery) -> Query | None:
        groups: list[Query] = []
        for group in query.groups:
            required: list[Query] = []
            excluded: list[Query] = []
            for term in group:
                q = self._term_query(term)
                if q is not None:
                    (excluded if term.negated else required).append(q)
            if not required:
                continue
            q = And(required) if len(required) > 1 else required[0]
            if excluded:
                q = And([q, Not(Or(excluded))])
            groups.append(q)
        if not groups:
            return None
        return Or(groups) if len(groups) > 1 else groups[0]

    @staticmethod
    def _restrictions(filters: SearchFilters) -> tuple[list[Query], Query | None]:
        """The filters as queries ANDed to the search (with no weight, or the same constant
        score for every document: they do not change the ranking), and a mask of the spaces
        to leave out. Whoosh's ``filter=`` would list every
        document of the filter first, on every search: on 100k posts that alone took 1.7 s."""
        parts: list[Query] = []
        mask = None
        excluded = filters.excluded_space_ids
        if excluded is not None and len(excluded) < len(filters.space_ids):
            if excluded:
                mask = Or([Term("space", str(i)) for i in excluded])
        else:
            parts.append(Or([Term("space", str(i), boost=0.0) for i in filters.space_ids]))
        if filters.kind:
            parts.append(Term("kind", filters.kind, boost=0.0))
        if filters.solved is not None:
            parts.append(Term("solved", filters.solved, boost=0.0))
        if filters.tag:
            parts.append(Term("tags", filters.tag.lower(), boost=0.0))
        if filters.author_id is not None:
            parts.append(Term("author", str(filters.author_id), boost=0.0))
        if filters.since or filters.until:
            since = filters.since.replace(tzinfo=None) if filters.since else None
            until = filters.until.replace(tzinfo=None) if filters.until else None
            parts.append(DateRange("created", since, until))
        return parts, mask

    def search(
        self, query: ParsedQuery, filters: SearchFilters, sort: str, offset: int, limit: int
    ) -> SearchResult:
        name = self._current_name()
        if name is None or not filters.space_ids:
            return SearchResult()
        ix = self._open(name)
        parts, mask = self._restrictions(filters)
        sortedby = {"newest": "created", "votes": "votes"}.get(sort)
        partial = False
        # A new searcher each time: it sees the last commit of every writer.
        with ix.searcher() as searcher:
            q = self._query(self._rarest(query, searcher))
            if q is None:
                return SearchResult()
            if parts:
                q = And([q, *parts])
            if mask is not None:
                # In the query, not as a collector's mask: Whoosh's time-limit collector
                # walks the matches itself and would skip a mask's check.
                q = AndNot(q, mask)
            # One hit more than the page: whether another page follows.
            collector = searcher.collector(
                limit=offset + limit + 1,
                sortedby=sortedby,
                reverse=sortedby is not None,
            )
            timed = TimeLimitCollector(collector, timelimit=self.time_limit, use_alarm=False)
            try:
                searcher.search_with_collector(q, timed)
            except TimeLimit:
                partial = True
            results = timed.results()
            found = [int(hit["topic_id"]) for hit in results[offset : offset + limit + 1]]
            hits = found[:limit]
            collected = results.scored_length()
            if collected <= offset + limit and not partial:
                # Every match was collected: that is the exact count.
                return SearchResult(hits, collected)
            # Counting every match would cost more than finding the best ones (Whoosh runs
            # the whole query again for it), and its estimate ignores the space mask (it
            # could count private topics): say only how many there are at least.
            return SearchResult(hits, offset + len(found), partial, approximate=True)
