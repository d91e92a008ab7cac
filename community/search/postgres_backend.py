"""PostgreSQL full-text search: the index is a table of the site's database.

Every published topic has a row in ``search_documents`` holding its text as a weighted
``tsvector`` (title A, opening post B, replies C), made from English and Italian stems both, so
that "passwords" finds "password" and "reimpostare" finds "reimpostazione". Filters and
sorting read the ``topics`` row itself, so they are never behind the database.

Queries are built from :class:`~community.search.query.ParsedQuery` with ``plainto_tsquery``
and ``phraseto_tsquery`` on bound parameters: what people type is never part of the SQL, and
is never read as ``tsquery`` syntax (no prefixes, weights or operators of its own).

Writes run on ``db.session`` and are committed by the caller (the worker), except for
:meth:`PostgresBackend.rebuild` and :meth:`PostgresBackend.clear`, which commit themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    and_,
    case,
    delete,
    exists,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from community.extensions import db
from community.search.backend import SearchBackend, SearchDocument, SearchFilters, SearchResult
from community.search.models import SearchDocumentRow
from community.search.query import ParsedQuery, Term
from community.search.whoosh_backend import STOP_WORDS
from community.topics.models import Tag, Topic, TopicTag

log = logging.getLogger(__name__)

# The GIN index on search_documents.document (see community.search.models).
INDEX_NAME = "ix_search_documents_document"
# Text search configurations, as in the Whoosh backend's analyzers.
LANGUAGES = ("english", "italian")
# ts_rank_cd's weights of D, C, B, A: a word in the title counts as 3 in a reply and the
# opening post as 1.5 (the Whoosh backend's field boosts); D is unused.
RANK_WEIGHTS = "'{0.1, 0.2, 0.3, 0.6}'::real[]"

# One statement per batch: the documents travel as four arrays and every tsvector is made in
# the database. Each field is indexed once per language, and ``||`` numbers the positions of
# its right side after those of its left: a gap of 10 positions between the parts (a "§" at
# position 10, removed at the end) keeps a phrase from matching across two of them, as in
# "Reset password" (English) "Reset password" (Italian) for "password reset". Phrases have at
# most MAX_PHRASE_WORDS (8) words, so they never reach over a gap.
# Topics deleted since their document was built are skipped (the join) rather than failing
# the batch on the foreign key. Rows carry the time they were written, by the database's
# clock: what a rebuild compares with to find the rows it did not write.
_UPSERT = text(
    """
    INSERT INTO search_documents (topic_id, document, indexed_at)
    SELECT d.topic_id,
           ts_delete(
               setweight(to_tsvector('english', d.title), 'A') || gap.v
               || setweight(to_tsvector('italian', d.title), 'A') || gap.v
               || setweight(to_tsvector('english', d.body), 'B') || gap.v
               || setweight(to_tsvector('italian', d.body), 'B') || gap.v
               || setweight(to_tsvector('english', d.answers), 'C') || gap.v
               || setweight(to_tsvector('italian', d.answers), 'C'),
               '§'
           ),
           clock_timestamp()
    FROM unnest(
        CAST(:topic_ids AS integer[]),
        CAST(:titles AS text[]),
        CAST(:bodies AS text[]),
        CAST(:answers AS text[])
    ) AS d (topic_id, title, body, answers)
    JOIN topics ON topics.id = d.topic_id
    CROSS JOIN (SELECT CAST('§\\:10' AS tsvector) AS v) AS gap
    ON CONFLICT (topic_id) DO UPDATE
    SET document = excluded.document, indexed_at = excluded.indexed_at
    """
)


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: psycopg would refuse the whole batch.
    return value.replace("\x00", " ")


def _and(left: ColumnElement[Any], right: ColumnElement[Any]) -> ColumnElement[Any]:
    return left.op("&&", return_type=TSQUERY)(right).self_group()


def _or(left: ColumnElement[Any], right: ColumnElement[Any]) -> ColumnElement[Any]:
    return left.op("||", return_type=TSQUERY)(right).self_group()


def _not(operand: ColumnElement[Any]) -> ColumnElement[Any]:
    return UnaryExpression(
        operand.self_group(), operator=custom_op("!!"), type_=TSQUERY
    ).self_group()


def _all(parts: list[ColumnElement[Any]], combine: Any) -> ColumnElement[Any]:
    result = parts[0]
    for part in parts[1:]:
        result = combine(result, part)
    return result


def _term_query(term: Term, languages: tuple[str, ...]) -> ColumnElement[Any] | None:
    """The term in either language, or None for a lone stop word (matched by nothing, as in
    the Whoosh backend)."""
    if not term.is_phrase and term.words[0] in STOP_WORDS:
        return None
    words = _no_nul(" ".join(term.words))
    make = func.phraseto_tsquery if term.is_phrase else func.plainto_tsquery
    return _all([make(language, words) for language in languages], _or)


def tsquery_for(
    query: ParsedQuery, languages: tuple[str, ...] = LANGUAGES
) -> ColumnElement[Any] | None:
    """The ``tsquery`` of a parsed query, as an SQL expression on bound parameters; None when
    no group has a word that can match.

    A word PostgreSQL itself drops (one of its stop words, or "___") gives an empty
    ``tsquery``, which ``&&`` and ``||`` leave out. A group whose positive terms all came out
    empty is dropped in SQL (``numnode() = 0``): otherwise its negated terms alone would
    match, and rank, nearly every document.
    """
    groups: list[ColumnElement[Any]] = []
    for group in query.groups:
        required: list[ColumnElement[Any]] = []
        excluded: list[ColumnElement[Any]] = []
        for term in group:
            term_query = _term_query(term, languages)
            if term_query is not None:
                (excluded if term.negated else required).append(term_query)
        if not required:
            continue
        positive = _all(required, _and)
        if excluded:
            narrowed = _and(positive, _not(_all(excluded, _or)))
            groups.append(case((func.numnode(positive) == 0, positive), else_=narrowed))
        else:
            groups.append(positive)
    return _all(groups, _or) if groups else None


class PostgresBackend(SearchBackend):
    name = "postgresql"

    def __init__(
        self, exact_limit: int = 2000, candidates: int = 200, max_window: int = 10000
    ) -> None:
        # See _search_all and _search_newest.
        self.exact_limit = exact_limit
        self.candidates = candidates
        self.max_window = max_window
        # The engine is known only inside an app context: checked at first use.
        self._checked = False

    def _check_database(self) -> None:
        if self._checked:
            return
        dialect = db.engine.dialect.name
        if dialect != "postgresql":
            raise RuntimeError(
                f'SEARCH_BACKEND "postgresql" needs a PostgreSQL database, not {dialect}: '
                'use SEARCH_BACKEND "whoosh"'
            )
        self._checked = True

    # --- writing -----------------------------------------------------------------------------

    def index(self, documents: list[SearchDocument]) -> None:
        self._check_database()
        # One row per topic: ON CONFLICT cannot change the same row twice in one statement.
        latest = {document.topic_id: document for document in documents}
        if not latest:
            return
        db.session.execute(
            _UPSERT,
            {
                "topic_ids": list(latest),
                "titles": [_no_nul(d.title) for d in latest.values()],
                "bodies": [_no_nul(d.body) for d in latest.values()],
                "answers": [_no_nul(d.answers) for d in latest.values()],
            },
        )

    def delete(self, topic_ids: list[int]) -> None:
        self._check_database()
        if topic_ids:
            db.session.execute(
                delete(SearchDocumentRow).where(SearchDocumentRow.topic_id.in_(topic_ids))
            )

    def rebuild(self, batches: Iterable[list[SearchDocument]]) -> None:
        """In place: every document is written again, one committed batch at a time, while
        searches go on reading the table; then the rows not written since the start (topics
        no longer published) go."""
        self._check_database()
        started = db.session.scalar(select(func.clock_timestamp()))
        db.session.commit()
        for batch in batches:
            self.index(batch)
            db.session.commit()
        db.session.execute(delete(SearchDocumentRow).where(SearchDocumentRow.indexed_at < started))
        db.session.commit()
        self._settle()

    @staticmethod
    def _settle() -> None:
        """After a bulk write: move the entries waiting in the GIN index's pending list into
        the index proper, and refresh the planner's statistics. Until then the planner counts
        every pending page against the index and may read the whole table instead, taking each
        row's tsvector out of TOAST: hundreds of milliseconds per search on a large site.
        Autovacuum does the same later; only the table's owner may do it now."""
        try:
            with db.session.begin_nested():
                db.session.execute(
                    text("SELECT gin_clean_pending_list(CAST(:index AS regclass))"),
                    {"index": INDEX_NAME},
                )
        except DBAPIError as exc:
            log.warning("search: the index's pending list is left to autovacuum (%s)", exc.orig)
        # A user who does not own the table gets a warning from PostgreSQL, not an error.
        db.session.execute(text("ANALYZE search_documents"))
        db.session.commit()

    def clear(self) -> None:
        self._check_database()
        db.session.execute(delete(SearchDocumentRow))
        db.session.commit()

    def count(self) -> int:
        self._check_database()
        return int(db.session.scalar(select(func.count()).select_from(SearchDocumentRow)) or 0)

    # --- searching ---------------------------------------------------------------------------

    @staticmethod
    def _conditions(filters: SearchFilters) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [
            Topic.space_id.in_(filters.space_ids),
            Topic.deleted_at.is_(None),
            Topic.held_at.is_(None),
            Topic.merged_into_id.is_(None),
        ]
        if filters.kind:
            conditions.append(Topic.kind == filters.kind)
        if filters.solved is not None:
            solved = Topic.accepted_answer_id
            conditions.append(solved.is_not(None) if filters.solved else solved.is_(None))
        if filters.tag:
            conditions.append(
                exists()
                .where(TopicTag.topic_id == Topic.id, TopicTag.tag_id == Tag.id)
                .where(Tag.name == filters.tag.lower())
            )
        if filters.author_id is not None:
            conditions.append(Topic.author_id == filters.author_id)
        if filters.since is not None:
            conditions.append(Topic.created_at >= filters.since)
        if filters.until is not None:
            conditions.append(Topic.created_at < filters.until)
        return conditions

    # How a search is answered depends on how many documents its words are in, as the
    # planner's statistics tell (a statement planned, not run):
    #
    # - up to ``exact_limit``, or fewer than the window below would read (rare words; most
    #   searches): every match is found through the GIN index, then ranked and counted
    #   (_search_all);
    # - more (common words): ranking and counting every match takes each tsvector out of
    #   TOAST, and grows with the site: 9 s for "router firmware" on a million posts, where
    #   60 % of the topics match. Instead the newest visible topics are read and checked
    #   until enough match (_search_newest); the total is then "more than N", and ranked
    #   results say they are the best of the newest matches (``partial``).

    def search(
        self, query: ParsedQuery, filters: SearchFilters, sort: str, offset: int, limit: int
    ) -> SearchResult:
        self._check_database()
        tsquery = tsquery_for(query)
        if tsquery is None or not filters.space_ids:
            return SearchResult()
        # The tsquery is made once per search and kept out of the planner's sight: given its
        # lexemes, the planner may prefer reading the whole table to the GIN index for a
        # common word (it costs taking every tsvector out of TOAST at nothing), and that is
        # several times slower than the index even when half of the rows match.
        made = select(tsquery.label("query")).cte("q").prefix_with("MATERIALIZED")
        documents = self._documents()
        # Every document holds its text analysed in both languages, so the English stems
        # alone match nearly the same documents; the planner would count the OR of both
        # languages' stems as if they were different words, up to twice as many matches.
        share = self._share(tsquery_for(query, LANGUAGES[:1]), documents)
        if share is None:
            return self._search_all(made, filters, sort, offset, limit)
        # The page and one hit more (whether another page follows); ranking and sorting by
        # votes look at ``candidates`` matches at least.
        page_end = offset + limit + 1
        wanted = page_end if sort == "newest" else max(page_end, self.candidates)
        size = self._window(wanted, share)
        # What each reads: every match (ranking takes each one's tsvector out of TOAST, as
        # the window's check does for each of its topics; sorting by date or votes does not,
        # and costs about half as much a match), or the window's topics.
        matches = share * documents
        if matches <= self.exact_limit or matches * (1 if sort == "relevance" else 0.5) <= size:
            return self._search_all(made, filters, sort, offset, limit)
        return self._search_newest(made, filters, sort, offset, limit, wanted, size)

    @staticmethod
    def _share(tsquery: ColumnElement[Any] | None, documents: float) -> float | None:
        """The planner's estimate of the share of the documents matching, or None when the
        table has no statistics yet."""
        if documents <= 0 or tsquery is None:
            return None
        statement: Select[Any] = (
            select(literal_column("1"))
            .select_from(SearchDocumentRow)
            .where(SearchDocumentRow.document.op("@@")(tsquery))
        )
        compiled = statement.compile(dialect=db.engine.dialect)
        plan = db.session.connection().exec_driver_sql(
            f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params
        )
        rows = float(plan.scalar_one()[0]["Plan"]["Plan Rows"])
        return min(1.0, rows / documents)

    @staticmethod
    def _documents() -> float:
        """The planner's count of documents (-1 or 0 before the table is first analyzed)."""
        return float(
            db.session.scalar(
                text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                {"t": SearchDocumentRow.__tablename__},
            )
            or 0
        )

    @staticmethod
    def _order(
        sort: str, rank: ColumnElement[Any], created: Any, score: Any, topic_id: Any
    ) -> list[Any]:
        if sort == "newest":
            return [created.desc(), topic_id.desc()]
        if sort == "votes":
            return [score.desc(), topic_id.desc()]
        return [rank.desc(), topic_id.desc()]

    def _search_all(
        self, made: Any, filters: SearchFilters, sort: str, offset: int, limit: int
    ) -> SearchResult:
        document = SearchDocumentRow.document
        rank = func.ts_rank_cd(literal_column(RANK_WEIGHTS), document, made.c.query)
        hits = (
            select(SearchDocumentRow.topic_id)
            .select_from(made)
            .join(SearchDocumentRow, document.op("@@")(made.c.query))
            .join(Topic, Topic.id == SearchDocumentRow.topic_id)
            .where(and_(*self._conditions(filters)))
        )
        order = self._order(sort, rank, Topic.created_at, Topic.score, Topic.id)
        rows = db.session.execute(
            hits.add_columns(func.count().over().label("total"))
            .order_by(*order)
            .offset(offset)
            .limit(limit)
        ).all()
        if rows:
            return SearchResult([topic_id for topic_id, _total in rows], int(rows[0][1]))
        if offset == 0:
            return SearchResult()
        # A page past the last one: the window had no row to tell the total.
        total = db.session.scalar(select(func.count()).select_from(hits.subquery()))
        return SearchResult([], int(total or 0))

    def _search_newest(
        self,
        made: Any,
        filters: SearchFilters,
        sort: str,
        offset: int,
        limit: int,
        wanted: int,
        size: int,
    ) -> SearchResult:
        """Common words: the matches among the ``size`` newest visible topics, each document
        checked by its key. The window is sized from the words' share of the documents to hold
        ``wanted`` matches; it widens by what it found when the statistics promised more
        matches than there were."""
        page_end = offset + limit + 1
        while True:
            found, seen, matched = self._newest_window(made, filters, sort, offset, limit, size)
            if seen < size:
                # The window held every visible topic: every match, counted exactly.
                return SearchResult(found[:limit], matched)
            if matched >= wanted or (size >= self.max_window and matched >= page_end):
                # Newest first, that is the page; ranked or by votes, the best of the newest.
                return SearchResult(
                    found[:limit],
                    offset + len(found),
                    partial=sort != "newest" or matched < wanted,
                    approximate=True,
                )
            if size >= self.max_window or not matched:
                # Far fewer matches among the newest topics than the statistics said (the
                # words are rarer together, or their topics older): every match instead.
                return self._search_all(made, filters, sort, offset, limit)
            size = self._window(wanted, matched / seen)

    def _window(self, wanted: int, share: float) -> int:
        """How many of the newest topics to read to find ``wanted`` matches, with a margin."""
        return max(wanted, min(self.max_window, int(wanted / max(share, 1e-9) * 1.25) + 1))

    def _newest_window(
        self,
        made: Any,
        filters: SearchFilters,
        sort: str,
        offset: int,
        limit: int,
        size: int,
    ) -> tuple[list[int], int, int]:
        """One page of the matches among the ``size`` newest visible topics, how many topics
        the window held and how many of them match."""
        window = (
            select(Topic.id, Topic.created_at, Topic.score)
            .where(and_(*self._conditions(filters)))
            .order_by(Topic.id.desc())
            .limit(size)
            .cte("w")
            .prefix_with("MATERIALIZED")
        )
        # Each document of the window is read by its key (a LATERAL subquery with a LIMIT is
        # run for each row, never joined to the whole table) and checked with ts_match_vq,
        # the function behind @@, which the GIN index cannot serve: the index is never read.
        found = (
            select(SearchDocumentRow.document)
            .where(SearchDocumentRow.topic_id == window.c.id)
            .limit(1)
            .lateral("d")
        )
        matches = func.ts_match_vq(found.c.document, made.c.query)
        rank = func.ts_rank_cd(literal_column(RANK_WEIGHTS), found.c.document, made.c.query)
        order = self._order(sort, rank, window.c.created_at, window.c.score, window.c.id)
        seen = select(func.count()).select_from(window).scalar_subquery()
        matching = (
            select(window.c.id)
            .select_from(made)
            .join(window, literal_column("true"))
            .join(found, literal_column("true"))
            .where(matches)
        )
        page = (
            matching.add_columns(func.count().over().label("matched"), seen.label("seen"))
            .order_by(*order)
            .offset(offset)
            .limit(limit + 1)
        )
        rows = db.session.execute(page).all()
        if rows:
            return [row[0] for row in rows], int(rows[0][2]), int(rows[0][1])
        # Past the last match (or none): count them without a page.
        counts = select(
            seen, select(func.count()).select_from(matching.subquery()).scalar_subquery()
        )
        seen_count, matched = db.session.execute(counts).one()
        return [], int(seen_count), int(matched)
