"""Search: cases found in review of the search change (each failed before its fix)."""

from __future__ import annotations

import pytest

from community.search.service import make_filters, search_topics
from community.topics import services


@pytest.fixture
def people(create_user):
    return {
        "asker": create_user("asker"),
        "member": create_user("member"),
        "staff": create_user("staffer", staff=True),
        "mod": create_user("moddy", role="moderator"),
    }


@pytest.fixture
def spaces(create_space):
    return {
        "public": create_space("routers", title="Routers"),
        "staff": create_space("internal", title="Internal", visibility="staff"),
    }


@pytest.fixture
def indexed(people, spaces, create_topic, run_tasks):
    topic = create_topic(people["asker"], spaces["public"], title="Router keeps rebooting")
    run_tasks()
    return topic


def search(viewer, text, page=1):
    return search_topics(viewer, text, make_filters(viewer), "relevance", page)


@pytest.mark.parametrize("page", ["²", "1" * 5000])
def test_a_page_number_that_is_not_a_plain_number_is_not_found(app, client, indexed, page):
    assert client.get("/search", query_string={"q": "router", "page": page}).status_code == 404


@pytest.mark.parametrize(
    "dates",
    [
        {"to": "9999-12-31"},
        {"from": "9999-12-31"},
        {"from": "0001-01-01", "to": "0001-01-01"},
    ],
)
def test_the_first_and_last_days_of_the_calendar_are_dates_too(app, client, indexed, dates):
    response = client.get("/search", query_string={"q": "router", **dates})
    assert response.status_code == 200


def test_every_page_of_an_any_of_the_words_search_has_its_hits(
    app, people, spaces, create_topic, run_tasks
):
    for n in range(25):
        create_topic(people["asker"], spaces["public"], title=f"Antenna alignment case {n}")
    run_tasks()
    first = search(people["member"], "antenna zebra")
    assert first.any_words and first.has_next
    assert first.total == 25 or (first.approximate and first.total == 21)
    second = search(people["member"], "antenna zebra", page=2)
    assert second.any_words and len(second.hits) == 5
    assert not {h.topic.id for h in first.hits} & {h.topic.id for h in second.hits}


def test_a_topic_moved_to_a_private_space_is_not_counted_before_the_worker_ran(
    app, client, people, spaces, create_topic, run_tasks
):
    create_topic(people["asker"], spaces["public"], title="Antenna for the mesh kit")
    moved = create_topic(people["asker"], spaces["public"], title="Antenna prototype codename")
    run_tasks()
    services.move_topic(people["mod"], moved, spaces["staff"])
    outcome = search(people["member"], "antenna")
    assert len(outcome.hits) == 1 and outcome.total == 1
    client.login("member")
    page = client.get("/search?q=antenna").get_data(as_text=True)
    assert "1 result" in page and "2 results" not in page


class TestSuggestionsRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True}

    def test_the_ask_form_without_javascript_is_rate_limited_like_the_live_panel(
        self, app, client, people, spaces
    ):
        client.login("member")
        url = "/s/routers/new?title=router+keeps+rebooting"
        statuses = [client.get(url).status_code for _ in range(121)]
        assert statuses[:120] == [200] * 120 and statuses[120] == 429
        # One budget for both ways of getting suggestions.
        assert client.get("/search/similar?title=router").status_code == 429
