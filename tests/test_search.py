"""Search: what it finds, what it never shows, and that the index follows every change.

Every test here runs with the Whoosh backend, and on PostgreSQL also with the PostgreSQL
full-text backend: both must pass the same suite.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from community.dbtypes import utcnow
from community.extensions import db
from community.search import search_backend
from community.search.models import SearchDeflection, SearchQueue
from community.search.service import make_filters, search_topics, similar_topics
from community.topics import services
from community.topics.models import Topic
from tests.plugins import recorder

BACKENDS = ["whoosh"]
if os.environ.get("COMMUNITY_TEST_DATABASE_URL", "").startswith("postgresql"):
    BACKENDS.append("postgresql")


@pytest.fixture(params=BACKENDS)
def app_config(request):
    return {"SEARCH_BACKEND": request.param, "PLUGINS": ["tests.plugins.recorder"]}


@pytest.fixture
def people(create_user):
    return {
        "asker": create_user("asker"),
        "helper": create_user("helper"),
        "member": create_user("member"),
        "staff": create_user("staffer", staff=True),
        "mod": create_user("moddy", role="moderator"),
    }


@pytest.fixture
def spaces(create_space):
    public = create_space("routers", title="Routers")
    return {
        "public": public,
        "child": create_space("mesh", title="Mesh", parent=public),
        "other": create_space("phones", title="Phones"),
        "staff": create_space("internal", title="Internal", visibility="staff"),
    }


@pytest.fixture
def router_question(people, spaces, create_topic, create_post):
    topic = create_topic(
        people["asker"],
        spaces["public"],
        title="How to reset the admin password of my router",
        body="I forgot the **admin password** of the router and cannot sign in.",
        tags="password, reset",
    )
    answer = create_post(
        people["helper"],
        topic,
        "Hold the reset button for 10 seconds; the password is on the label.",
    )
    services.accept_answer(people["asker"], answer)
    return topic


def search(viewer, text, sort="relevance", page=1, **filters):
    return search_topics(viewer, text, make_filters(viewer, **filters), sort, page)


# --- the index follows changes through the worker ----------------------------------------------


def test_a_new_topic_is_found_once_the_worker_ran(app, people, spaces, create_topic, run_tasks):
    topic = create_topic(people["asker"], spaces["public"], title="Firmware update bricked it")
    queued = db.session.scalar(select(func.count()).where(SearchQueue.topic_id == topic.id))
    assert queued == 1, "the change and its queue row commit together"
    assert search(people["member"], "firmware").total == 0
    assert run_tasks() >= 1
    assert [h.topic.id for h in search(people["member"], "firmware").hits] == [topic.id]
    assert db.session.scalar(select(func.count()).select_from(SearchQueue)) == 0


def test_stemming_in_english_and_italian(app, people, spaces, create_topic, run_tasks):
    english = create_topic(people["asker"], spaces["public"], title="Passwords are not accepted")
    italian = create_topic(
        people["asker"], spaces["public"], title="Come reimpostare la password del modem"
    )
    run_tasks()
    assert [h.topic.id for h in search(people["member"], "password").hits].count(english.id) == 1
    assert italian.id in [h.topic.id for h in search(people["member"], "reimpostazione").hits]


def test_an_edit_replaces_the_document(app, people, spaces, create_topic, run_tasks):
    topic = create_topic(
        people["asker"], spaces["public"], title="Strange noise from the fan", body="It whistles."
    )
    run_tasks()
    opening = db.session.scalars(
        select(services.Post).where(services.Post.topic_id == topic.id)
    ).one()
    services.edit_post(people["asker"], opening, "It rattles now.", title="Strange rattle inside")
    # Before the worker ran, the snippet already shows what the post says now.
    hits = search(people["member"], "strange").hits
    assert "rattles" in str(hits[0].snippet) and "whistles" not in str(hits[0].snippet)
    run_tasks()
    assert search(people["member"], "whistles").total == 0
    assert search(people["member"], "noise").total == 0
    assert [h.topic.id for h in search(people["member"], "rattle").hits] == [topic.id]


def test_a_deleted_topic_is_never_shown(app, people, spaces, create_topic, run_tasks):
    topic = create_topic(people["asker"], spaces["public"], title="Blinking orange light")
    run_tasks()
    opening = db.session.scalars(
        select(services.Post).where(services.Post.topic_id == topic.id)
    ).one()
    services.delete_post(people["asker"], opening)
    # The worker has not run: the database check keeps it out anyway.
    assert search(people["member"], "orange").hits == []
    run_tasks()
    outcome = search(people["member"], "orange")
    assert outcome.hits == [] and outcome.total == 0
    assert search_backend().count() == 0
    services.restore_post(people["mod"], opening)
    run_tasks()
    assert [h.topic.id for h in search(people["member"], "orange").hits] == [topic.id]


def test_a_deleted_answer_leaves_the_document(
    app, people, spaces, create_topic, create_post, run_tasks
):
    topic = create_topic(people["asker"], spaces["public"], title="Speed drops every evening")
    answer = create_post(people["helper"], topic, "Switch the channel to avoid congestion.")
    run_tasks()
    assert search(people["member"], "congestion").total == 1
    services.delete_post(people["helper"], answer)
    run_tasks()
    assert search(people["member"], "congestion").total == 0


def test_a_move_to_a_private_space_hides_it_at_once(app, people, spaces, create_topic, run_tasks):
    topic = create_topic(people["asker"], spaces["public"], title="Prototype antenna leaked")
    run_tasks()
    assert search(people["member"], "antenna").total == 1
    services.move_topic(people["mod"], topic, spaces["staff"])
    # Not even before the worker ran.
    assert search(people["member"], "antenna").hits == []
    run_tasks()
    outcome = search(people["member"], "antenna")
    assert outcome.hits == [] and outcome.total == 0
    assert [h.topic.id for h in search(people["staff"], "antenna").hits] == [topic.id]


def test_private_topics_are_not_in_hits_counts_or_snippets(
    app, people, spaces, create_topic, run_tasks, client
):
    public = create_topic(people["asker"], spaces["public"], title="Roadmap for the mesh kit")
    create_topic(
        people["staff"],
        spaces["staff"],
        title="Roadmap secret codename Falcon",
        body="Falcon ships in March.",
    )
    run_tasks()
    outcome = search(people["member"], "roadmap")
    assert [h.topic.id for h in outcome.hits] == [public.id] and outcome.total == 1
    assert search(people["member"], "falcon").total == 0
    page = client.get("/search?q=roadmap").get_data(as_text=True)
    assert "Falcon" not in page and "codename" not in page
    assert search(people["staff"], "roadmap").total == 2


def test_held_topics_are_not_found_until_released(app, people, spaces, run_tasks):
    now = utcnow()
    topic = services.create_topic(
        people["asker"], spaces["public"], "question", "Waiting for a moderator here", "Body."
    )
    db.session.execute(services.update(Topic).where(Topic.id == topic.id).values(held_at=now))
    db.session.execute(
        services.update(services.Post).where(services.Post.topic_id == topic.id).values(held_at=now)
    )
    services.queue_topics(topic.id)
    db.session.commit()
    run_tasks()
    assert search(people["member"], "moderator").total == 0
    opening = db.session.scalars(
        select(services.Post).where(services.Post.topic_id == topic.id)
    ).one()
    services.release_post(people["mod"], opening)
    run_tasks()
    assert search(people["member"], "moderator").total == 1


def test_merged_topics_are_found_once(app, people, spaces, create_topic, run_tasks):
    kept = create_topic(people["asker"], spaces["public"], title="Guest network isolation")
    duplicate = create_topic(people["member"], spaces["public"], title="Guest network isolation?")
    run_tasks()
    services.merge_topic(people["mod"], duplicate, kept)
    run_tasks()
    assert [h.topic.id for h in search(people["member"], "isolation").hits] == [kept.id]


# --- the language of the search box -----------------------------------------------------------


@pytest.fixture
def corpus(people, spaces, create_topic, run_tasks):
    topics = {
        "reset": create_topic(
            people["asker"], spaces["public"], title="Factory reset of the router"
        ),
        "phone": create_topic(people["asker"], spaces["other"], title="Phone reset after update"),
        "vpn": create_topic(
            people["helper"],
            spaces["child"],
            kind="discussion",
            title="VPN throughput on the mesh",
            body="Throughput halves with the VPN on.",
            tags="vpn",
        ),
        "idea": create_topic(
            people["helper"], spaces["public"], kind="idea", title="Dark mode for the router app"
        ),
    }
    run_tasks()
    return topics


def ids(outcome):
    return {hit.topic.id for hit in outcome.hits}


def test_words_phrases_or_not(app, people, corpus):
    member = people["member"]
    assert ids(search(member, "reset router")) == {corpus["reset"].id}
    assert ids(search(member, "reset")) == {corpus["reset"].id, corpus["phone"].id}
    assert ids(search(member, '"factory reset"')) == {corpus["reset"].id}
    assert ids(search(member, '"reset factory"')) == set()
    assert ids(search(member, "vpn OR dark")) == {corpus["vpn"].id, corpus["idea"].id}
    assert ids(search(member, "reset NOT phone")) == {corpus["reset"].id}
    assert ids(search(member, "reset -router")) == {corpus["phone"].id}


def test_no_topic_with_every_word_falls_back_to_any(app, people, corpus):
    outcome = search(people["member"], "factory throughput")
    assert outcome.any_words
    assert ids(outcome) == {corpus["reset"].id, corpus["vpn"].id}


def test_filters(app, people, spaces, corpus):
    member = people["member"]
    assert ids(search(member, "reset", space_id=spaces["public"].id)) == {corpus["reset"].id}
    # A space includes its children.
    assert ids(search(member, "throughput", space_id=spaces["public"].id)) == {corpus["vpn"].id}
    assert ids(search(member, "router", kind="idea")) == {corpus["idea"].id}
    assert ids(search(member, "throughput", tag="VPN")) == {corpus["vpn"].id}
    assert ids(search(member, "reset", tag="vpn")) == set()
    assert ids(search(member, "throughput", author_id=people["helper"].id)) == {corpus["vpn"].id}
    assert ids(search(member, "throughput", author_id=people["asker"].id)) == set()
    assert ids(search(member, "reset", since=utcnow() - timedelta(days=1))) == {
        corpus["reset"].id,
        corpus["phone"].id,
    }
    assert ids(search(member, "reset", until=utcnow() - timedelta(days=1))) == set()
    assert ids(search(member, "reset", solved=True)) == set()
    assert ids(search(member, "reset", solved=False)) == {corpus["reset"].id, corpus["phone"].id}


def test_solved_filter_and_sorts(app, people, spaces, create_topic, create_post, run_tasks):
    older = create_topic(people["asker"], spaces["public"], title="Bridge mode explained")
    newer = create_topic(people["member"], spaces["public"], title="Bridge mode and double NAT")
    answer = create_post(people["helper"], older, "Turn it on under Advanced.")
    services.accept_answer(people["asker"], answer)
    opening = db.session.scalars(
        select(services.Post).where(services.Post.topic_id == older.id, services.Post.is_opening)
    ).one()
    services.cast_vote(people["helper"], opening, 1)
    run_tasks()
    member = people["member"]
    assert ids(search(member, "bridge", solved=True)) == {older.id}
    assert [h.topic.id for h in search(member, "bridge", sort="newest").hits] == [
        newer.id,
        older.id,
    ]
    assert [h.topic.id for h in search(member, "bridge", sort="votes").hits] == [older.id, newer.id]


def test_pagination(app, people, spaces, create_topic, run_tasks):
    for n in range(25):
        create_topic(people["asker"], spaces["public"], title=f"Antenna alignment case {n}")
    run_tasks()
    first = search(people["member"], "antenna")
    second = search(people["member"], "antenna", page=2)
    # A backend may count every hit, or only say there are more than on this page.
    assert first.total == 25 or (first.approximate and first.total == 21)
    assert second.total == 25 and not second.approximate
    assert len(first.hits) == 20 and len(second.hits) == 5
    assert not ids(first) & ids(second)
    assert first.has_next and not second.has_next


HOSTILE = [
    '"unbalanced quote',
    "*",
    "a*",
    "*e*",
    "AND",
    "OR OR NOT",
    "NOT router",
    "router AND",
    " ".join(f"word{n}" for n in range(2000)),
    "'; DROP TABLE topics; --",
    "\\",
    "&|!():*<>",
    "title:router author:admin",
    "created:[20200101 TO 20301231]",
    "router^100",
    "ü" * 3000,
    "\x01\x02router",
    "%_%",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_answer_with_results_or_a_message(app, client, corpus, text):
    response = client.get("/search", query_string={"q": text})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "results" in page or "Type one or more words" in page or "No results" in page
    # What was typed stays in the box (as far as it fits).
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 4


def test_hostile_queries_find_nothing_they_should_not(app, people, corpus):
    member = people["member"]
    assert search(member, "*").message
    assert search(member, "AND").message
    assert ids(search(member, "NOT router")) == set()
    assert ids(search(member, "title:router")) == {corpus["reset"].id, corpus["idea"].id}
    long = search(member, " ".join(["router"] * 2000))
    assert long.message and ids(long) == {corpus["reset"].id, corpus["idea"].id}


def test_a_nul_byte_is_a_clear_refusal(app, client):
    assert client.get("/search?q=router%00").status_code == 400


def test_deep_pages_are_refused_with_a_message(app, client, corpus):
    response = client.get("/search?q=reset&page=51")
    assert response.status_code == 200
    assert "no more results" in response.get_data(as_text=True)
    assert client.get("/search?q=reset&page=abc").status_code == 404


def test_search_page_filters_and_errors_keep_what_was_typed(app, client, people, corpus):
    page = client.get(
        "/search", query_string={"q": "reset", "author": "nobody-here", "space": "nowhere"}
    ).get_data(as_text=True)
    assert "nobody-here" in page and "nowhere" in page
    assert "There is nobody called nobody-here" in page
    assert "There is no space nowhere" in page
    page = client.get("/search", query_string={"q": "reset", "from": "31/03/2026"}).get_data(
        as_text=True
    )
    assert "Dates look like 2026-03-31" in page
    page = client.get("/search", query_string={"q": "router", "space": "routers"}).get_data(
        as_text=True
    )
    assert "Factory reset" in page and "Phone reset" not in page


def test_search_page_marks_the_words(app, client, corpus):
    page = client.get("/search?q=factory").get_data(as_text=True)
    assert "<mark>Factory</mark>" in page


# --- similar topics while asking and deflection ----------------------------------------------


def test_similar_questions_put_the_solved_one_first(
    app, people, spaces, router_question, create_topic, run_tasks
):
    create_topic(people["member"], spaces["public"], title="Router password field is greyed out")
    run_tasks()
    hits = similar_topics(people["member"], "how do I reset my router password")
    assert hits[0].topic.id == router_question.id
    assert hits[0].answer and "reset button" in hits[0].answer


def test_the_ask_form_shows_similar_questions_without_javascript(
    app, client, people, spaces, router_question, run_tasks
):
    run_tasks()
    client.login("member")
    step1 = client.get("/s/routers/new").get_data(as_text=True)
    assert "admin password of my router" not in step1
    step2 = client.get(
        "/s/routers/new", query_string={"title": "how do I reset my router password"}
    ).get_data(as_text=True)
    assert "admin <mark>password</mark> of my <mark>router</mark>" in step2
    assert "Hold the reset button" in step2
    assert 'value="how do I reset my router password"' in step2


def test_following_a_suggestion_is_a_deflection(
    app, client, people, spaces, router_question, run_tasks
):
    recorder.calls.clear()
    run_tasks()
    client.login("member")
    fragment = client.get(
        "/search/similar", query_string={"title": "reset router password", "space": "routers"}
    ).get_data(as_text=True)
    import re

    link = re.search(r'href="(/search/go/[^"]+)"', fragment).group(1)
    response = client.get(link)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/t/{router_question.id}/{router_question.slug}")
    client.get(link)  # followed twice, counted once
    rows = db.session.scalars(select(SearchDeflection)).all()
    assert [(r.user_id, r.topic_id, r.query) for r in rows] == [
        (people["member"].id, router_question.id, "reset router password")
    ]
    events = [data for name, data in recorder.calls if name == "search_deflected"]
    assert events == [
        {
            "user": "member",
            "topic": router_question.id,
            "query": "reset router password",
            "stored": 1,
        }
    ]
    # Someone else's link, or a forged one, counts nothing.
    client.logout()
    client.login("helper")
    assert client.get(link).status_code == 404
    assert client.get("/search/go/forged").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(SearchDeflection)) == 1


def test_similar_never_suggests_a_private_topic(
    app, client, people, spaces, create_topic, run_tasks
):
    create_topic(people["staff"], spaces["staff"], title="Reset the lab router password")
    run_tasks()
    assert similar_topics(people["member"], "reset router password") == []
    assert len(similar_topics(people["staff"], "reset router password")) == 1
    client.login("member")
    fragment = client.get("/search/similar?title=reset+router+password").get_data(as_text=True)
    assert "lab router" not in fragment


def test_similar_needs_a_signed_in_member(app, client):
    response = client.get("/search/similar?title=router")
    assert response.status_code in (302, 401)


def test_the_admin_sees_how_search_is_doing(
    app, client, people, spaces, router_question, run_tasks, create_user
):
    create_user("boss", role="admin")
    client.login("boss")
    page = client.get("/admin/").get_data(as_text=True)
    assert "Waiting for the worker: 1." in page
    run_tasks()
    page = client.get("/admin/").get_data(as_text=True)
    assert "Waiting for the worker: 0." in page
    assert "last 30 days: 0." in page


def test_continue_without_a_title_says_so(app, client, people, spaces):
    client.login("member")
    response = client.get("/s/routers/new?title=+&kind=question")
    assert response.status_code == 400
    assert "Type a title first." in response.get_data(as_text=True)


def test_a_page_past_the_last_says_there_is_no_more(app, client, corpus):
    page = client.get("/search?q=reset&page=3").get_data(as_text=True)
    assert "no more results" in page


def test_a_snippet_from_the_accepted_answer_says_so(app, people, router_question, run_tasks):
    run_tasks()
    hit = search(people["member"], "button").hits[0]
    assert hit.snippet_from_answer and "<mark>button</mark>" in str(hit.snippet)


def test_a_space_made_private_takes_its_topics_out_of_search(
    app, people, spaces, create_topic, run_tasks
):
    from community.permissions import clear_cache
    from community.spaces.services import save_space

    topic = create_topic(people["asker"], spaces["other"], title="Handset battery recall")
    run_tasks()
    assert [h.topic.id for h in search(people["member"], "recall").hits] == [topic.id]
    save_space(spaces["other"], visibility="staff")
    clear_cache()
    # Permissions are applied when searching: nothing to reindex, nothing leaks meanwhile.
    outcome = search(people["member"], "recall")
    assert outcome.hits == [] and outcome.total == 0
    assert [h.topic.id for h in search(people["staff"], "recall").hits] == [topic.id]


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "RATELIMIT_SEARCH": "2/minute"}

    def test_searches_are_rate_limited(self, app, client):
        assert client.get("/search?q=router").status_code == 200
        assert client.get("/search?q=modem").status_code == 200
        response = client.get("/search?q=again")
        assert response.status_code == 429


def test_an_approximate_count_says_more_than(app, client, people, spaces, create_topic, run_tasks):
    for n in range(25):
        create_topic(people["asker"], spaces["public"], title=f"Antenna alignment case {n}")
    run_tasks()
    outcome = search(people["member"], "antenna")
    page = client.get("/search?q=antenna").get_data(as_text=True)
    if outcome.approximate:
        assert "More than 20 results" in page
    else:
        assert "25 results" in page


def test_many_private_matches_never_reach_the_count(
    app, client, people, spaces, create_topic, run_tasks
):
    for n in range(25):
        create_topic(people["staff"], spaces["staff"], title=f"Roadmap item {n} for the board")
    public = create_topic(people["asker"], spaces["public"], title="Roadmap question in public")
    run_tasks()
    outcome = search(people["member"], "roadmap")
    assert [h.topic.id for h in outcome.hits] == [public.id]
    assert outcome.total == 1 and not outcome.approximate
    assert "1 result" in client.get("/search?q=roadmap").get_data(as_text=True)
    staff = search(people["staff"], "roadmap")
    assert staff.total in (21, 26) and len(staff.hits) == 20


def test_snippets_are_text_escaped_once(app, client, people, spaces, create_topic, run_tasks):
    create_topic(
        people["asker"],
        spaces["public"],
        title="Firewall rules & ports",
        body='The `<script>alert("x")</script>` in the **firewall** log & more',
    )
    run_tasks()
    hit = search(people["member"], "firewall").hits[0]
    snippet = str(hit.snippet)
    assert "<mark>firewall</mark> log &amp; more" in snippet
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in snippet
    assert "<script>" not in client.get("/search?q=firewall").get_data(as_text=True)
