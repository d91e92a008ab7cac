"""Pages run a bounded number of SQL queries, whatever the number of rows they show."""

import pytest

from community.extensions import db
from community.topics import services
from community.topics.models import Topic

PAGES = {
    "home": "/",
    "space": "/s/routers",
    "ideas": "/s/routers?filter=ideas",
    "profile": "/u/member0",
    "tag": "/tags/wifi",
    "search": "/search?q=topic+routers",
    "search-filtered": "/search?q=routers&space=routers&kind=question&sort=newest",
}


def queries_for(client, count_queries, url):
    # Each request of a real server starts with an empty session; the test's session is
    # shared with the requests, so forget what it holds.
    db.session.expire_all()
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return len(counter)


def measure(client, count_queries, big):
    counts = {name: queries_for(client, count_queries, url) for name, url in PAGES.items()}
    counts["topic"] = queries_for(client, count_queries, f"/t/{big.id}/{big.slug}")
    return counts


def add_content(users, space, big, n_topics, n_answers):
    for i in range(n_topics):
        services.create_topic(
            users[i % 5],
            space,
            ["question", "idea"][i % 2],
            f"Topic number {i} about routers",
            "Body text here",
            "wifi mesh",
        )
    for i in range(n_answers):
        post = services.create_post(users[(i % 4) + 1], big, f"Answer number {i}")
        services.cast_vote(users[0], post, 1)
        services.create_post(users[0], big, f"Comment {i}", parent=post)


@pytest.mark.parametrize("who", [None, "member0"])
def test_query_budget_does_not_grow_with_content(
    client, count_queries, create_user, create_space, run_tasks, who
):
    users = [create_user(f"member{i}") for i in range(5)]
    space = create_space("routers")
    create_space("child", parent=space)
    big = services.create_topic(
        users[0], space, "question", "The big question of all", "Body", "wifi"
    )
    add_content(users, space, big, n_topics=3, n_answers=3)
    run_tasks()
    if who:
        client.login(who)
    small = measure(client, count_queries, big)

    # Far more topics, and 50 answers with comments and votes on the big question.
    add_content(users, space, big, n_topics=30, n_answers=47)
    run_tasks()
    db.session.expire_all()
    assert db.session.get(Topic, big.id).reply_count == 50
    large = measure(client, count_queries, big)

    assert large == small
    assert max(large.values()) <= 15, large


def test_an_enabled_plugin_adds_a_bounded_number_of_queries(
    client, count_queries, create_user, create_space, enable_plugin
):
    """hello fills slots from its settings (read with the site settings: no query) and gives
    badges for every name on a page in one query, whatever the number of posts."""
    users = [create_user(f"member{i}") for i in range(5)]
    space = create_space("routers")
    big = services.create_topic(
        users[0], space, "question", "The big question of all", "Body", "wifi"
    )
    add_content(users, space, big, n_topics=3, n_answers=3)
    without = measure(client, count_queries, big)
    enable_plugin("hello")
    small = measure(client, count_queries, big)
    add_content(users, space, big, n_topics=30, n_answers=47)
    large = measure(client, count_queries, big)

    assert large == small
    # The badges: one query for all 50 authors of the topic page, one on the profile.
    with_badges = ("topic", "profile")
    assert all(small[page] == without[page] + 1 for page in with_badges)
    assert {k: v for k, v in small.items() if k not in with_badges} == {
        k: v for k, v in without.items() if k not in with_badges
    }


def test_the_ask_form_with_suggestions_has_a_fixed_budget(
    client, count_queries, create_user, create_space, run_tasks
):
    users = [create_user(f"member{i}") for i in range(5)]
    space = create_space("routers")
    big = services.create_topic(users[0], space, "question", "The big question", "Body", "wifi")
    client.login("member1")
    url = "/s/routers/new?title=Topic+number+about+routers"
    add_content(users, space, big, n_topics=2, n_answers=1)
    run_tasks()
    small = queries_for(client, count_queries, url)
    add_content(users, space, big, n_topics=30, n_answers=5)
    run_tasks()
    assert queries_for(client, count_queries, url) == small
    assert small <= 12
