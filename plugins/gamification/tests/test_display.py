"""What the plugin shows on core's pages: level badges next to names, the profile card, the
menu link and the stylesheets."""

from __future__ import annotations

from itertools import count

import pytest
from community_gamification import display
from community_gamification.models import Award, BadgeDefinition, LedgerEntry, Total

from community.dbtypes import utcnow
from community.extensions import db
from community.plugins.settings import save_plugin_settings

_keys = count(1)


def give(user, amount, space=None):
    """A ledger row and the matching change of the total, as the points engine writes them."""
    db.session.add(
        LedgerEntry(
            user_id=user.id,
            amount=amount,
            reason="test",
            key=f"test:{next(_keys)}",
            space_id=space.id if space is not None else None,
            occurred_at=utcnow(),
            created_at=utcnow(),
        )
    )
    total = db.session.get(Total, user.id)
    if total is None:
        db.session.add(Total(user_id=user.id, points=amount))
    else:
        total.points += amount
    db.session.commit()


def topic_url(topic):
    return f"/t/{topic.id}/{topic.slug}"


@pytest.fixture
def world(enable_plugin, create_user, create_space, create_topic, create_post):
    """A question by "asker" with an answer by "helper"; points set after the posts (the
    points the engine gave for them are replaced by known totals)."""
    enable_plugin("gamification")
    asker, helper = create_user("asker"), create_user("helper")
    topic = create_topic(asker, create_space("help"), title="How do I reset my router?")
    answer = create_post(helper, topic, "Hold the reset button for ten seconds.")
    db.session.query(LedgerEntry).delete()
    db.session.query(Total).delete()
    db.session.commit()
    give(asker, 60)
    give(helper, 300)
    return {"asker": asker, "helper": helper, "topic": topic, "answer": answer}


def test_level_badges_on_topic_pages(client, world):
    page = client.get(topic_url(world["topic"])).get_data(as_text=True)
    assert '<span class="badge badge-level" title="Level 3, Regular: 300 points">Regular · 300' in (
        page
    )
    assert "Member · 60" in page


def test_user_badges_asks_once_for_everyone(app, count_queries, create_user, enable_plugin):
    enable_plugin("gamification")
    users = [create_user(f"user{n}") for n in range(20)]
    give(users[0], 1000)
    for user in users:
        db.session.refresh(user)  # loaded again after the commit, before counting
    with app.test_request_context("/"):
        with count_queries() as queries:
            badges = display.user_badges(users)
            again = display.user_badges(users)  # kept on flask.g
        assert len(queries) <= 2  # the totals, and the settings (levels) once per request
        assert sum("gamification_totals" in sql for sql in queries.statements) == 1
    assert badges == again
    assert [b.label for b in badges[users[0].id]] == ["Leader · 1000"]
    assert badges[users[0].id][0].kind == "level"
    assert [b.label for b in badges[users[1].id]] == ["Newcomer · 0"]
    assert display.user_badges([]) is None


def test_badges_on_topic_pages_cost_one_query(
    client, count_queries, world, create_user, create_post
):
    for n in range(6):
        create_post(create_user(f"extra{n}"), world["topic"], f"Another idea, number {n}.")
    with count_queries() as queries:
        client.get(topic_url(world["topic"]))
    assert sum("gamification_totals" in sql for sql in queries.statements) <= 1


def test_profile_card(client, world):
    helper = world["helper"]
    db.session.add(BadgeDefinition(slug="beta-tester", name="Beta tester"))
    db.session.add(Award(user_id=helper.id, badge="manual:beta-tester", reason="Tried it"))
    db.session.commit()

    page = client.get("/u/helper").get_data(as_text=True)
    assert "Points and badges" in page
    assert "<dt>Points</dt><dd>300</dd>" in page
    assert "3 · Regular" in page
    assert "700 points to Leader" in page
    assert '<progress id="gam-progress-' in page and 'max="750" value="50"' in page
    assert "#1</a>" in page  # all-time rank
    assert 'href="/badges/beta-tester"' in page
    assert ">Beta tester</a>" in page

    page = client.get("/u/asker").get_data(as_text=True)
    assert "#2</a>" in page
    assert "190 points to Regular" in page
    assert "No badges yet." in page


def test_profile_of_someone_without_points(client, world, create_user):
    create_user("quiet")
    page = client.get("/u/quiet").get_data(as_text=True)
    assert "<dt>Points</dt><dd>0</dd>" in page
    assert "1 · Newcomer" in page
    assert "50 points to Member" in page
    assert "<dt>All-time rank</dt>" not in page


def test_staff_have_no_rank_when_left_out(client, world, create_user):
    boss = create_user("boss", staff=True)
    give(boss, 2000)
    page = client.get("/u/boss").get_data(as_text=True)
    assert "<dt>All-time rank</dt>" not in page
    assert "Staff members are not listed on the leaderboards." in page
    assert "The highest level." in page
    # Left out of the others' ranks too.
    assert "#1</a>" in client.get("/u/helper").get_data(as_text=True)

    save_plugin_settings("gamification", {"exclude_staff": False})
    assert "#1</a>" in client.get("/u/boss").get_data(as_text=True)
    assert "#2</a>" in client.get("/u/helper").get_data(as_text=True)


def test_rank_links_to_the_right_page(client, enable_plugin, create_user):
    enable_plugin("gamification")
    for n in range(55):
        give(create_user(f"user{n:02d}"), 1000 - n)
    page = client.get("/u/user52").get_data(as_text=True)
    assert 'href="/leaderboard/?page=2#rank-' in page
    assert "#53</a>" in page


def test_head_and_menu(client, world):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/plugins/gamification/static/leaderboard.css' in page
    assert '<link rel="stylesheet" href="/plugins/gamification/static/badges.css' in page
    assert '<li><a href="/leaderboard/">Leaderboard</a></li>' in page
    with client.get("/plugins/gamification/static/leaderboard.css") as response:
        assert response.status_code == 200


def test_level_names_are_escaped(client, world):
    errors = save_plugin_settings(
        "gamification", {"levels": "New <b>one</b> = 0\nOld <i>hand</i> = 100"}
    )
    assert errors == {}
    page = client.get(topic_url(world["topic"])).get_data(as_text=True)
    assert "Old &lt;i&gt;hand&lt;/i&gt; · 300" in page
    assert "<i>hand</i>" not in page
    page = client.get("/u/asker").get_data(as_text=True)
    assert "40 points to Old &lt;i&gt;hand&lt;/i&gt;" in page


def test_nothing_shown_while_disabled(client, create_user, create_space, create_topic):
    asker = create_user("asker")
    topic = create_topic(asker, create_space("help"))
    page = client.get(topic_url(topic)).get_data(as_text=True)
    assert "badge-level" not in page and "/leaderboard/" not in page
    assert "Points and badges" not in client.get("/u/asker").get_data(as_text=True)
