"""The PostgreSQL full-text backend, used directly: what it matches, filters, sorts and forgets.

tests/test_search.py runs the whole search feature on both backends; these tests look at the
backend's own rules (stems in two languages, weights, the SQL it may never build from what
people type).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from community import create_app
from community.dbtypes import utcnow
from community.extensions import db
from community.search import core_backend, postgres_backend
from community.search.backend import SearchFilters, SearchResult
from community.search.documents import build_documents
from community.search.models import SearchDocumentRow
from community.search.postgres_backend import PostgresBackend, tsquery_for
from community.search.query import MAX_TERMS, ParsedQuery, Term, parse_query
from community.testing import make_test_config
from community.topics import services
from community.topics.models import Topic

pytestmark = pytest.mark.skipif(
    not os.environ.get("COMMUNITY_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL backend: runs in make test-postgres",
)


@pytest.fixture
def app_config():
    return {"SEARCH_BACKEND": "postgresql"}


@pytest.fixture
def backend(app):
    backend = core_backend(app)
    assert isinstance(backend, PostgresBackend)
    return backend


@pytest.fixture
def asker(create_user):
    return create_user("asker")


@pytest.fixture
def space(create_space):
    return create_space("routers")


@pytest.fixture
def index(backend):
    """Write these topics' documents as the worker would, and commit."""

    def write(*topics: Topic) -> None:
        documents, gone = build_documents([t.id for t in topics])
        backend.index(documents)
        backend.delete(gone)
        db.session.commit()

    return write


@pytest.fixture
def find(backend, space):
    """Topic ids found for ``text`` (in ``space`` unless other ``space_ids`` are given)."""

    def search(
        text: str, sort: str = "relevance", offset: int = 0, limit: int = 20, **filters
    ) -> list[int]:
        return results(text, sort, offset, limit, **filters).topic_ids

    def results(
        text: str, sort: str = "relevance", offset: int = 0, limit: int = 20, **filters
    ) -> SearchResult:
        filters.setdefault("space_ids", (space.id,))
        return backend.search(parse_query(text), SearchFilters(**filters), sort, offset, limit)

    search.results = results  # type: ignore[attr-defined]
    return search


def ask(create_topic, asker, space, title, body="Some details about it.", **kwargs):
    return create_topic(asker, space, title=title, body=body, **kwargs)


# --- matching --------------------------------------------------------------------------------


def test_english_stems(index, find, create_topic, asker, space):
    topic = ask(create_topic, asker, space, "Forgot my password", "I was resetting it twice.")
    index(topic)
    assert find("passwords") == [topic.id]
    assert find("reset") == [topic.id]
    assert find("forgetting") == []  # "forgot" is not a form of "forget" to Snowball


def test_italian_stems(index, find, create_topic, asker, space):
    topic = ask(create_topic, asker, space, "Reimpostazione della rete", "Il router si è bloccato.")
    index(topic)
    assert find("reimpostare") == [topic.id]
    assert find("bloccata") == [topic.id]
    assert find("reti") == [topic.id]


def test_title_body_and_answers_are_searched_and_weighted(
    index, find, create_topic, create_post, create_user, asker, space
):
    # Made in the opposite order: equal ranks would list the newest topic first.
    in_title = ask(create_topic, asker, space, "Firmware download", "Where is it?")
    in_body = ask(create_topic, asker, space, "Router is slow", "The firmware is the latest.")
    in_answer = ask(create_topic, asker, space, "Lights are blinking", "What does it mean?")
    create_post(create_user(), in_answer, "Update the firmware from the admin page.")
    index(in_answer, in_body, in_title)
    assert find("firmware") == [in_title.id, in_body.id, in_answer.id]


def test_every_word_must_match(index, find, create_topic, asker, space):
    both = ask(create_topic, asker, space, "Router firmware", "Update it.")
    one = ask(create_topic, asker, space, "Router lights", "Blinking.")
    index(both, one)
    assert find("router firmware") == [both.id]
    assert sorted(find("router")) == sorted([both.id, one.id])


def test_phrase(index, find, create_topic, asker, space):
    exact = ask(create_topic, asker, space, "How to reset the password", "Please help.")
    apart = ask(create_topic, asker, space, "Password of the admin", "I tried a reset.")
    index(exact, apart)
    assert find('"reset the password"') == [exact.id]
    assert find('"reset password"') == []  # "the" still stands between them
    assert sorted(find("reset password")) == sorted([exact.id, apart.id])


def test_phrase_never_spans_two_fields_or_languages(index, find, create_topic, asker, space):
    topic = ask(create_topic, asker, space, "Reset password", "Firmware upgrade.")
    index(topic)
    assert find('"reset password"') == [topic.id]
    # The title is indexed in English and then in Italian, then comes the opening post.
    assert find('"password reset"') == []
    assert find('"password firmware"') == []


def test_or(index, find, create_topic, asker, space):
    wifi = ask(create_topic, asker, space, "Wifi drops", "Every hour.")
    cable = ask(create_topic, asker, space, "Cable modem", "No light.")
    other = ask(create_topic, asker, space, "Billing question", "Invoice missing.")
    index(wifi, cable, other)
    assert sorted(find("wifi OR modem")) == sorted([wifi.id, cable.id])
    assert sorted(find("wifi hour OR invoice")) == sorted([wifi.id, other.id])
    assert find("wifi billing OR cable light") == [cable.id]


def test_not(index, find, create_topic, asker, space):
    wifi = ask(create_topic, asker, space, "Router wifi", "Drops.")
    cable = ask(create_topic, asker, space, "Router cable", "Loose.")
    index(wifi, cable)
    assert find("router -wifi") == [cable.id]
    assert find("router NOT cable") == [wifi.id]
    assert find('router -"router wifi"') == [cable.id]
    assert find("router -wifi -cable") == []


def test_stop_words_alone_find_nothing(index, find, create_topic, asker, space):
    topic = ask(create_topic, asker, space, "How to do the thing", "It is the one of the two.")
    index(topic)
    assert find("the") == []
    assert find("how to") == []
    assert find("come il della") == []  # Italian ones
    assert find("the thing") == [topic.id]


def test_a_group_left_with_only_negations_is_dropped(index, find, create_topic, asker, space):
    # "___" has no lexeme for PostgreSQL: the group would be "not wifi", matching everything.
    wifi = ask(create_topic, asker, space, "Router wifi", "Drops.")
    cable = ask(create_topic, asker, space, "Router cable", "Loose.")
    index(wifi, cable)
    assert find("___ -wifi") == []
    assert find("___ -wifi OR cable") == [cable.id]


def test_nothing_indexed_or_nothing_visible(backend, index, find, create_topic, asker, space):
    assert find("router") == []
    topic = ask(create_topic, asker, space, "Router wifi")
    index(topic)
    assert find("router", space_ids=()) == []
    assert find("", space_ids=(space.id,)) == []


# --- filters ---------------------------------------------------------------------------------


def test_space_filter(index, find, create_topic, create_space, asker, space):
    other_space = create_space("phones")
    here = ask(create_topic, asker, space, "Router reboot")
    there = ask(create_topic, asker, other_space, "Phone reboot")
    index(here, there)
    assert find("reboot") == [here.id]
    assert find("reboot", space_ids=(other_space.id,)) == [there.id]
    assert sorted(find("reboot", space_ids=(space.id, other_space.id))) == sorted(
        [here.id, there.id]
    )


def test_kind_filter(index, find, create_topic, asker, space):
    question = ask(create_topic, asker, space, "Router reboot")
    idea = ask(create_topic, asker, space, "Router reboot button", kind="idea")
    index(question, idea)
    assert find("router", kind="question") == [question.id]
    assert find("router", kind="idea") == [idea.id]
    assert find("router", kind="discussion") == []


def test_solved_filter(index, find, create_topic, create_post, create_user, asker, space):
    solved = ask(create_topic, asker, space, "Router reboot")
    answer = create_post(create_user(), solved, "Hold the button.")
    services.accept_answer(asker, answer)
    open_one = ask(create_topic, asker, space, "Router lights")
    index(solved, open_one)
    assert find("router", solved=True) == [solved.id]
    assert find("router", solved=False) == [open_one.id]


def test_tag_filter(index, find, create_topic, asker, space):
    tagged = ask(create_topic, asker, space, "Router reboot", tags="wifi, setup")
    plain = ask(create_topic, asker, space, "Router lights")
    index(tagged, plain)
    assert find("router", tag="wifi") == [tagged.id]
    assert find("router", tag="WiFi") == [tagged.id]
    assert find("router", tag="cable") == []


def test_author_filter(index, find, create_topic, create_user, asker, space):
    other = create_user("other")
    mine = ask(create_topic, asker, space, "Router reboot")
    theirs = create_topic(other, space, title="Router lights")
    index(mine, theirs)
    assert find("router", author_id=asker.id) == [mine.id]
    assert find("router", author_id=other.id) == [theirs.id]


def test_date_filters(index, find, create_topic, asker, space):
    now = utcnow()
    old = ask(create_topic, asker, space, "Router reboot")
    new = ask(create_topic, asker, space, "Router lights")
    db.session.execute(
        update(Topic).where(Topic.id == old.id).values(created_at=now - timedelta(days=30))
    )
    db.session.commit()
    index(old, new)
    week_ago = now - timedelta(days=7)
    assert find("router", since=week_ago) == [new.id]
    assert find("router", until=week_ago) == [old.id]
    assert find("router", since=now - timedelta(days=31), until=week_ago) == [old.id]


def test_filters_read_the_topic_as_it_is_now(index, find, create_topic, asker, space):
    """Deleted, held and merged topics are never found, even before the worker removes
    their documents."""
    topics = [ask(create_topic, asker, space, f"Router problem {n}") for n in range(4)]
    index(*topics)
    now = utcnow()
    db.session.execute(update(Topic).where(Topic.id == topics[0].id).values(deleted_at=now))
    db.session.execute(update(Topic).where(Topic.id == topics[1].id).values(held_at=now))
    db.session.execute(
        update(Topic).where(Topic.id == topics[2].id).values(merged_into_id=topics[3].id)
    )
    db.session.commit()
    assert find("router") == [topics[3].id]


# --- sorting and pages -----------------------------------------------------------------------


def test_sorts(index, find, create_topic, create_post, create_user, asker, space):
    # Three different orders, none of them the order of the ids (the tie-breaker).
    now = utcnow()
    in_title = ask(create_topic, asker, space, "Router firmware", "Old one.")
    in_body = ask(create_topic, asker, space, "Blinking lights", "About the router.")
    in_answer = ask(create_topic, asker, space, "Slow downloads", "Since Monday.")
    create_post(create_user(), in_answer, "Restart the router.")
    for topic, days, score in ((in_title, 3, 1), (in_body, 1, 0), (in_answer, 2, 5)):
        db.session.execute(
            update(Topic)
            .where(Topic.id == topic.id)
            .values(created_at=now - timedelta(days=days), score=score)
        )
    db.session.commit()
    index(in_title, in_body, in_answer)
    assert find("router", "relevance") == [in_title.id, in_body.id, in_answer.id]
    assert find("router", "newest") == [in_body.id, in_answer.id, in_title.id]
    assert find("router", "votes") == [in_answer.id, in_title.id, in_body.id]


def test_equal_ranks_newest_topic_first(index, find, create_topic, asker, space):
    topics = [ask(create_topic, asker, space, "Router problems", "Same text.") for _ in range(3)]
    index(*topics)
    assert find("router") == [t.id for t in reversed(topics)]


def test_pages_and_total(index, find, create_topic, asker, space, count_queries):
    topics = [ask(create_topic, asker, space, f"Router case {n}") for n in range(7)]
    index(*topics)
    analyze()
    newest_first = [t.id for t in reversed(topics)]
    first = find.results("router", "newest", 0, 3)
    assert first == SearchResult(newest_first[:3], 7)
    assert find.results("router", "newest", 3, 3) == SearchResult(newest_first[3:6], 7)
    assert find.results("router", "newest", 6, 3) == SearchResult(newest_first[6:], 7)
    with count_queries() as queries:
        assert find.results("router", "newest", 9, 3) == SearchResult([], 7)
    # The planner's count of documents and estimate of the matches, the page, then the total
    # it could not tell.
    assert len(queries) == 4
    with count_queries() as queries:
        find.results("router", "relevance", 0, 3)
    assert len(queries) == 3


# --- writing ---------------------------------------------------------------------------------


def test_index_replaces_a_document(backend, index, find, create_topic, asker, space):
    topic = ask(create_topic, asker, space, "Router reboot")
    index(topic)
    topic.title = "Modem reboot"
    db.session.commit()
    index(topic)
    assert find("router") == []
    assert find("modem") == [topic.id]
    assert backend.count() == 1


def test_one_batch_may_name_a_topic_twice(backend, create_topic, asker, space, find):
    topic = ask(create_topic, asker, space, "Router reboot")
    documents, _gone = build_documents([topic.id])
    changed = documents[0].__class__(**{**documents[0].__dict__, "title": "Modem reboot"})
    backend.index([documents[0], changed])
    db.session.commit()
    assert find("modem") == [topic.id]
    assert backend.count() == 1


def test_documents_of_topics_gone_are_skipped(backend, create_topic, asker, space):
    topic = ask(create_topic, asker, space, "Router reboot")
    documents, _gone = build_documents([topic.id])
    db.session.delete(topic)
    db.session.commit()
    backend.index(documents)
    db.session.commit()
    assert backend.count() == 0


def test_nul_bytes_never_reach_the_database(backend, create_topic, asker, space, find):
    topic = ask(create_topic, asker, space, "Router reboot")
    documents, _gone = build_documents([topic.id])
    documents[0].body = "nul\x00byte"
    backend.index(documents)
    db.session.commit()
    assert find("byte") == [topic.id]
    # A query made by hand, not by the parser (which turns control characters into spaces).
    by_hand = ParsedQuery(((Term(("byte\x00",)),),))
    assert backend.search(by_hand, SearchFilters((space.id,)), "relevance", 0, 5).total == 1


def test_delete(backend, index, find, create_topic, asker, space):
    kept = ask(create_topic, asker, space, "Router reboot")
    gone = ask(create_topic, asker, space, "Router lights")
    index(kept, gone)
    backend.delete([gone.id, 999_999])
    db.session.commit()
    assert find("router") == [kept.id]
    assert backend.count() == 1
    backend.delete([])


def test_the_caller_commits(backend, create_topic, asker, space):
    topic = ask(create_topic, asker, space, "Router reboot")
    documents, _gone = build_documents([topic.id])
    backend.index(documents)
    db.session.rollback()
    assert backend.count() == 0


def test_rebuild_writes_everything_and_drops_stale_rows(
    backend, index, find, create_topic, asker, space
):
    topics = [ask(create_topic, asker, space, f"Router case {n}") for n in range(5)]
    stale = ask(create_topic, asker, space, "Router stale")
    index(topics[0], stale)
    documents, _gone = build_documents([t.id for t in topics])
    backend.rebuild([documents[:2], documents[2:], []])
    assert backend.count() == 5
    assert sorted(find("router")) == sorted(t.id for t in topics)
    assert not db.session.scalar(
        select(func.count())
        .select_from(SearchDocumentRow)
        .where(SearchDocumentRow.topic_id == stale.id)
    )


def test_rebuild_ends_even_when_the_index_cannot_be_tidied(
    backend, create_topic, asker, space, find, monkeypatch, caplog
):
    # As for a database user who does not own the index: PostgreSQL refuses to clean it.
    monkeypatch.setattr(postgres_backend, "INDEX_NAME", "no_such_index")
    topic = ask(create_topic, asker, space, "Router reboot")
    documents, _gone = build_documents([topic.id])
    backend.rebuild([documents])
    assert "left to autovacuum" in caplog.text
    assert find("router") == [topic.id]
    assert backend.count() == 1


def test_rebuild_with_nothing_and_clear(backend, index, create_topic, asker, space):
    index(ask(create_topic, asker, space, "Router reboot"))
    backend.rebuild([])
    assert backend.count() == 0
    index(ask(create_topic, asker, space, "Router lights"))
    backend.clear()
    assert backend.count() == 0


# --- hostile input ---------------------------------------------------------------------------

HOSTILE = [
    '"',
    '""',
    '"unbalanced phrase',
    "*",
    "a*",
    "router*",
    "AND",
    "OR OR NOT",
    "NOT router",
    "-",
    "- -router",
    " ".join(f"word{n}" for n in range(2000)),
    "'; DROP TABLE topics; --",
    "\\",
    "\\'",
    "&|!():*",
    "router & !wifi | (modem:*)",
    "router:A",
    "<-> <2> !!",
    "x" * 5000,
    "\x00router\x00",
    "über café naïve",
    "路由器 重启",
    "___",
    "_ OR __ -___",
]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("sort", ["relevance", "newest", "votes"])
def test_hostile_queries_return_results(index, find, create_topic, asker, space, text, sort):
    topic = ask(create_topic, asker, space, "Router reboot", "Some words & symbols: a*b 'q'.")
    index(topic)
    result = find.results(text, sort)
    assert isinstance(result, SearchResult)
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 1


def test_every_term_and_every_group_at_once(index, find, create_topic, asker, space):
    topic = ask(create_topic, asker, space, "Router reboot")
    index(topic)
    # One term short of the parser's limit of terms, so "router" is still read.
    pairs = (MAX_TERMS - 1) // 2
    text = " OR ".join(f'w{n} -"x{n} y{n}"' for n in range(pairs)) + " OR router"
    assert not parse_query(text).truncated
    assert find.results(text) == SearchResult([topic.id], 1)


# --- set-up ----------------------------------------------------------------------------------


def test_core_backend_is_named_postgresql(backend):
    assert backend.name == "postgresql"


def test_refuses_a_database_that_is_not_postgresql(tmp_path):
    sqlite_app = create_app(
        {
            **make_test_config(f"sqlite:///{tmp_path / 'other.db'}", str(tmp_path / "instance")),
            "SEARCH_BACKEND": "postgresql",
        }
    )
    backend = PostgresBackend()  # nothing checked yet: no app needed to make one
    with sqlite_app.app_context():
        with pytest.raises(RuntimeError, match="PostgreSQL"):
            backend.count()
        db.engine.dispose()


# --- common words: the newest matches --------------------------------------------------------


def analyze() -> None:
    """Fresh planner statistics, as a rebuild leaves them (and autovacuum later)."""
    db.session.execute(text("ANALYZE search_documents"))
    db.session.commit()


@pytest.fixture
def common():
    """The backend as it answers a search for common words on a large site: every search is
    over the exact limit, and it ranks 4 candidates."""
    backend = PostgresBackend(exact_limit=0, candidates=4, max_window=1000)

    def results(text: str, sort: str = "relevance", offset: int = 0, limit: int = 2, **filters):
        return backend.search(parse_query(text), SearchFilters(**filters), sort, offset, limit)

    return results


def test_common_words_rank_the_best_of_the_newest_matches(
    index, find, common, create_topic, asker, space
):
    best = ask(create_topic, asker, space, "Router router", "The router, the router again.")
    newer = [
        ask(create_topic, asker, space, f"Question number {n}", "About the router.")
        for n in range(11)
    ]
    index(best, *newer)
    analyze()
    # Every match ranked: the oldest topic is the best.
    assert find("router")[0] == best.id
    # The common-words path ranks the newest matches (4 candidates, and a margin), says so,
    # and counts only what it saw of the pages.
    result = common("router", space_ids=(space.id,))
    assert result.partial and result.approximate
    assert best.id not in result.topic_ids
    assert set(result.topic_ids) <= {t.id for t in newer[-6:]}
    assert len(result.topic_ids) == 2 and result.total == 3


def test_common_words_newest_first_pages_are_exact(index, common, create_topic, asker, space):
    topics = [ask(create_topic, asker, space, f"Router case {n}") for n in range(30)]
    index(*topics)
    analyze()
    newest_first = [t.id for t in reversed(topics)]
    pages = [
        common("router", "newest", offset, 3, space_ids=(space.id,)) for offset in range(0, 30, 3)
    ]
    assert [hit for page in pages for hit in page.topic_ids] == newest_first
    first, *_, last = pages
    # A page the window filled: no more than "more than 4"; the last window held every
    # topic, so its count is exact.
    assert (first.total, first.approximate, first.partial) == (4, True, False)
    assert (last.total, last.approximate, last.partial) == (30, False, False)


def test_the_window_widens_when_the_words_are_rarer_together(
    index, common, create_topic, asker, space
):
    # Half the documents say "router", half "firmware" (the planner expects a quarter to say
    # both), but only the three oldest and the newest say both: the first window finds one.
    both = [ask(create_topic, asker, space, f"Router firmware {n}") for n in range(3)]
    router = [ask(create_topic, asker, space, f"Router case {n}") for n in range(58)]
    firmware = [ask(create_topic, asker, space, f"Firmware case {n}") for n in range(57)]
    both.append(ask(create_topic, asker, space, "Router firmware again"))
    index(*both, *router, *firmware)
    analyze()
    result = common("router firmware", space_ids=(space.id,))
    assert set(result.topic_ids) <= {t.id for t in both} and len(result.topic_ids) == 2
    assert (result.total, result.approximate) == (4, False)


def test_matches_older_than_the_largest_window_are_all_found(index, create_topic, asker, space):
    backend = PostgresBackend(exact_limit=0, candidates=4, max_window=8)
    both = [ask(create_topic, asker, space, f"Router firmware {n}") for n in range(4)]
    others = [ask(create_topic, asker, space, f"Router case {n}") for n in range(58)]
    others += [ask(create_topic, asker, space, f"Firmware case {n}") for n in range(58)]
    index(*both, *others)
    analyze()
    result = backend.search(
        parse_query("router firmware"), SearchFilters((space.id,)), "relevance", 0, 2
    )
    # None in the 8 newest topics: every match is found and counted instead.
    assert set(result.topic_ids) <= {t.id for t in both} and len(result.topic_ids) == 2
    assert (result.total, result.approximate, result.partial) == (4, False, False)


def test_common_words_read_only_the_topics_the_filters_allow(
    index, common, create_topic, create_space, create_user, asker, space
):
    private = create_space("internal", visibility="staff")
    staff = create_user("boss", staff=True)
    visible = [ask(create_topic, asker, space, f"Router case {n}") for n in range(3)]
    hidden = [ask(create_topic, staff, private, f"Router secret {n}") for n in range(10)]
    index(*visible, *hidden)
    analyze()
    for sort in ("relevance", "newest", "votes"):
        # The window is the newest topics of the space: the three, then nothing more.
        result = common("router", sort, space_ids=(space.id,))
        assert set(result.topic_ids) <= {t.id for t in visible} and len(result.topic_ids) == 2
        assert (result.total, result.approximate) == (3, False)


def test_a_table_never_analyzed_is_searched_exactly(
    backend, index, find, create_topic, asker, space
):
    topics = [ask(create_topic, asker, space, f"Router case {n}") for n in range(3)]
    index(*topics)
    assert backend._share(tsquery_for(parse_query("router")), 0) is None
    assert find.results("router").total == 3
