"""The expert directory pages: the index of spaces and tags, a space's directory (metrics,
experts earned and granted, away, experts of the spaces around it, moderators' forms), the
tags' pages, private spaces, bad input and the query budget."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from community_experts import grants, routing
from community_experts.models import SPACE, TAG, Availability, Standing
from community_experts.web_directory import format_duration, percentages
from sqlalchemy import update

from community.accounts.services import suspend_user
from community.dbtypes import utcnow
from community.extensions import db
from community.topics.models import Post, Tag, Topic
from community.topics.services import accept_answer


@pytest.fixture
def site(enable_plugin, create_user, create_space):
    enable_plugin("experts")
    users = {
        "root": create_user("root", role="admin"),
        "mod": create_user("mod"),
        "asker": create_user("asker"),
        "ann": create_user("ann"),
        "eng": create_user("eng"),
        "boss": create_user("boss", staff=True),
        "plain": create_user("plain"),
    }
    users["help"] = create_space("help", title="Help", moderators=[users["mod"]])
    users["mesh"] = create_space("mesh", title="Mesh Wi-Fi", parent=users["help"])
    users["secret"] = create_space("secret", title="Secret room", visibility="staff")
    return users


def earned(user, space, accepted=3, score=20):
    """Make ``user`` an earned expert of ``space`` (as if their accepted answers were older
    than the test)."""
    row = db.session.scalar(
        db.select(Standing).where(
            Standing.user_id == user.id, Standing.scope == SPACE, Standing.scope_id == space.id
        )
    )
    if row is None:
        row = Standing(user_id=user.id, scope=SPACE, scope_id=space.id)
        db.session.add(row)
    row.accepted, row.score, row.is_expert, row.expert_since = accepted, score, True, utcnow()
    db.session.commit()


def text(response):
    return response.get_data(as_text=True)


def answered_question(create_topic, create_post, site, *, answerer, after, accept=True):
    topic = create_topic(site["asker"], site["help"], title="Why does my router blink?")
    post = create_post(answerer, topic, "It is updating.")
    asked_at = utcnow() - timedelta(days=1)
    db.session.execute(
        update(Topic)
        .where(Topic.id == topic.id)
        .values(created_at=asked_at, first_answer_at=asked_at + after)
    )
    db.session.execute(update(Post).where(Post.id == post.id).values(created_at=asked_at + after))
    db.session.commit()
    if accept:
        accept_answer(site["asker"], post)
    return topic, post


# --- the index -------------------------------------------------------------------------------


def test_index_lists_the_spaces_one_may_see(client, site, create_topic, create_post):
    grants.grant(site["root"], site["eng"], site["help"], "Product engineer")
    answered_question(
        create_topic, create_post, site, answerer=site["ann"], after=timedelta(hours=2, minutes=5)
    )
    earned(site["ann"], site["help"])
    page = text(client.get("/experts/"))
    assert "Help" in page and "Mesh Wi-Fi" in page
    assert "Secret room" not in page
    row = re.search(r'href="/experts/s/help">Help</a>.*?</tr>', page, re.S).group(0)
    assert ">2</td>" in row  # two experts
    assert "2 hours 5 minutes" in row
    assert "no answered questions" in page  # Mesh Wi-Fi has none... of its own
    client.login("plain")
    assert "Secret room" not in text(client.get("/experts/"))
    client.logout()
    client.login("boss")
    assert "Secret room" in text(client.get("/experts/"))


def test_tags_with_experts(client, site, create_topic):
    create_topic(site["asker"], site["help"], tags="wifi firmware")
    tags = {tag.name: tag for tag in db.session.scalars(db.select(Tag))}
    db.session.add(
        Standing(
            user_id=site["ann"].id,
            scope=TAG,
            scope_id=tags["wifi"].id,
            accepted=4,
            score=25,
            is_expert=True,
        )
    )
    db.session.commit()
    page = text(client.get("/experts/"))
    assert 'href="/experts/tag/wifi"' in page and "firmware" not in page
    page = text(client.get("/experts/tag/wifi"))
    assert "ann" in page and ">25</td>" in page
    assert "Nobody is an expert" in text(client.get("/experts/tag/firmware"))
    assert client.get("/experts/tag/no-such-tag").status_code == 404
    assert "wifi" in text(client.get("/experts/tags"))


# --- a space's directory ---------------------------------------------------------------------


def test_private_spaces_stay_hidden(client, site):
    assert client.get("/experts/s/secret").status_code == 404
    assert client.get("/experts/s/no-such-space").status_code == 404
    client.login("plain")
    assert client.get("/experts/s/secret").status_code == 404
    client.logout()
    client.login("boss")
    assert client.get("/experts/s/secret").status_code == 200


def test_directory_shows_metrics_and_experts(client, site, create_topic, create_post):
    ann, eng = site["ann"], site["eng"]
    grants.grant(site["root"], eng, site["help"], "Builds the routers")
    answered_question(create_topic, create_post, site, answerer=ann, after=timedelta(hours=3))
    earned(ann, site["help"], accepted=7)
    answered_question(
        create_topic,
        create_post,
        site,
        answerer=site["boss"],
        after=timedelta(hours=1),
        accept=False,
    )
    # Suspended experts are not listed; away ones are marked.
    gone = site["plain"]
    earned(gone, site["help"])
    suspend_user(gone, site["root"], "Spam")
    db.session.add(Availability(user_id=eng.id, until=None))
    db.session.commit()

    page = text(client.get("/experts/s/help"))
    assert "Response times" in page
    assert "2 hours" in page  # median of 1 h and 3 h
    assert "Experts: 50%" in page and "Staff: 50%" in page and "Other members: 0%" in page
    assert 'href="/experts/s/help/metrics.json"' in page
    table = page[page.index('id="experts-list-title"') :]
    assert table.index(">ann<") < table.index(">eng<")  # most accepted answers first
    ann_row = re.search(r">ann<.*?</tr>", table, re.S).group(0)
    assert re.findall(r'data-label="(?:Accepted answers|Answers)">(\d+)<', ann_row) == ["1", "1"]
    assert "3 hours" in ann_row and "Earned" in ann_row
    eng_row = re.search(r">eng<.*?</tr>", table, re.S).group(0)
    assert "Granted" in eng_row and "Away" in eng_row
    assert "Builds the routers" not in page  # the reason is for moderators
    assert ">plain<" not in page
    assert "Make a member an expert" not in page

    client.login("mod")
    page = text(client.get("/experts/s/help"))
    assert "Builds the routers" in page and "by root" in page
    assert "Make a member an expert" in page
    assert f"/experts/s/help/revoke/{eng.id}" in page
    assert 'name="after_minutes"' in page


def test_experts_of_the_spaces_around(client, site):
    earned(site["ann"], site["help"])
    grants.grant(site["root"], site["eng"], site["mesh"], "Mesh engineer")
    page = text(client.get("/experts/s/mesh"))
    here = page.index('id="experts-list-title"')
    around = page.index("Also experts here (from Help)")
    assert here < page.index(">eng<") < around < page.index(">ann<")
    # The parent's own page does not list the experts of the spaces inside it.
    assert ">eng<" not in text(client.get("/experts/s/help"))


def test_routing_form(client, site):
    client.login("mod")
    response = client.submit(
        "/experts/s/help/routing",
        {"enabled": "y", "after_minutes": "0", "mode": "availability", "per_round": "3"},
    )
    assert response.status_code == 400
    page = text(response)
    assert "Enter a whole number from 1 to 10080." in page
    assert re.search(r'name="after_minutes"[^>]*value="0"', page)
    response = client.submit(
        "/experts/s/help/routing",
        {"enabled": "y", "after_minutes": "abc", "mode": "availability", "per_round": "3"},
    )
    assert response.status_code == 400 and 'value="abc"' in text(response)
    response = client.submit(
        "/experts/s/help/routing",
        {"enabled": "y", "after_minutes": "15", "mode": "sideways", "per_round": "3"},
    )
    assert response.status_code == 400
    response = client.submit(
        "/experts/s/help/routing",
        {"enabled": "y", "after_minutes": "15", "mode": "availability", "per_round": "21"},
    )
    assert response.status_code == 400

    response = client.submit(
        "/experts/s/help/routing",
        {"after_minutes": "15", "mode": "availability", "per_round": "3"},
    )
    assert response.status_code == 302
    saved = routing.space_routing(site["help"])
    assert (saved.enabled, saved.after_minutes, saved.mode, saved.per_round) == (
        False,
        15,
        "availability",
        3,
    )
    assert re.search(r'name="after_minutes"[^>]*value="15"', text(client.get("/experts/s/help")))


def test_directory_queries_stay_flat(client, site, create_user, count_queries):
    def fill(count):
        for _ in range(count):
            earned(create_user(), site["help"])

    fill(3)
    grants.grant(site["root"], site["eng"], site["help"], "Engineer")
    client.login("mod")
    client.get("/experts/s/help")
    with count_queries() as few:
        assert client.get("/experts/s/help").status_code == 200
    fill(28)  # 31 earned + 1 granted: two pages
    client.get("/experts/s/help")  # the signed-in account is loaded again after the commits
    with count_queries() as many:
        page = text(client.get("/experts/s/help"))
    assert len(many) == len(few), (few.statements, many.statements)
    assert page.count('data-label="Expert"') == 30
    assert 'rel="next"' in page
    second = text(client.get("/experts/s/help?page=2"))
    assert second.count('data-label="Expert"') == 2
    assert client.get("/experts/s/help?page=3").status_code == 404
    assert client.get("/experts/s/help?page=abc").status_code == 404


# --- formatting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (timedelta(hours=2, minutes=5), "2 hours 5 minutes"),
        (timedelta(hours=2, minutes=5, seconds=20), "2 hours 5 minutes"),
        (timedelta(minutes=59), "59 minutes"),
        (timedelta(days=10, hours=1, minutes=3), "10 days 1 hour"),
        (timedelta(seconds=40), "40 seconds"),
        (timedelta(0), "0 seconds"),
        (None, "—"),
    ],
)
def test_durations_in_words(app, value, words):
    with app.test_request_context("/"):
        assert format_duration(value) == words


def test_percentages_add_up():
    assert percentages(1 / 3, 1 / 3, 1 / 3) == [34, 33, 33]
    assert percentages(0.5, 0.5, 0) == [50, 50, 0]
    assert percentages(0, 0, 0) == [0, 0, 0]
    assert sum(percentages(0.166, 0.417, 0.417)) == 100
