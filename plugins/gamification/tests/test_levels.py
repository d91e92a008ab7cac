"""Levels: parsing the setting, and the privileges they unlock (voting down, editing others'
posts) and the trust level other plugins read."""

from __future__ import annotations

import pytest
from community_gamification import levels
from community_gamification.levels import Level, level_of, levels_of, parse_levels
from community_gamification.models import Total
from sqlalchemy import select

from community.extensions import db
from community.plugins import trust_levels
from community.plugins.settings import plugin_settings, save_plugin_settings
from community.topics.models import Post, Vote

DEFAULT = "Newcomer = 0\nMember = 50\nRegular = 250\nLeader = 1000"


def configure(**values):
    errors = save_plugin_settings("gamification", {**plugin_settings("gamification"), **values})
    assert not errors, errors


def set_points(user, points):
    """Give a member a total directly (whatever the points engine recorded)."""
    db.session.merge(Total(user_id=user.id, points=points))
    db.session.commit()
    levels.clear_cache()


@pytest.fixture
def site(enable_plugin, create_user, create_space, create_topic, create_post):
    enable_plugin("gamification")
    asker, helper, voter = create_user("asker"), create_user("helper"), create_user("voter")
    space = create_space("help")
    topic = create_topic(asker, space, title="How do I reset my router?")
    answer = create_post(helper, topic, "Hold the reset button for ten seconds.")
    return {"asker": asker, "helper": helper, "voter": voter, "topic": topic, "answer": answer}


# --- parsing ---------------------------------------------------------------------------------


def test_parse_levels():
    assert parse_levels(DEFAULT) == [
        Level(1, "Newcomer", 0, 50),
        Level(2, "Member", 50, 250),
        Level(3, "Regular", 250, 1000),
        Level(4, "Leader", 1000, None),
    ]


def test_parse_levels_skips_blank_lines_and_comments_and_trims():
    text = "# the levels\n\n  Rookie   =  0 \n\nPro Member = 10\n"
    assert parse_levels(text) == [Level(1, "Rookie", 0, 10), Level(2, "Pro Member", 10, None)]


def test_a_name_may_contain_an_equals_sign():
    assert parse_levels("A = B = 0")[0].name == "A = B"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one level"),
        ("   \n# only a comment", "at least one level"),
        ("Member = 10", "first level must start at 0"),
        ("Newcomer", 'write "Name = points"'),
        ("= 0", "has no name"),
        ("Newcomer = lots", "whole number"),
        ("Newcomer = 1.5", "whole number"),
        ("Newcomer = -1", "cannot be negative"),
        ("Newcomer = 0\nMember = 0", "more points than the one before"),
        ("Newcomer = 0\nMember = 50\nRegular = 20", "more points than the one before"),
        ("Newcomer = 0\nnewcomer = 10", "already a level named newcomer"),
        ("x" * 31 + " = 0", "at most 30 characters"),
    ],
)
def test_parse_levels_refuses(app, text, message):
    with pytest.raises(ValueError, match=message):
        parse_levels(text)


def test_the_settings_form_refuses_invalid_levels(client, create_user, site):
    create_user("root", role="admin")
    client.login("root")
    data = {**plugin_settings("gamification"), "levels": "Newcomer = 0\nMember = 0"}
    data = {key: value for key, value in data.items() if value is not False}
    response = client.submit("/admin/plugins/gamification", data)
    assert response.status_code == 400
    assert "Line 2: each level needs more points than the one before it." in response.get_data(
        as_text=True
    )
    assert plugin_settings("gamification")["levels"] == DEFAULT


def test_level_of(site):
    assert level_of(0).name == "Newcomer"
    assert level_of(-20).number == 1
    assert level_of(49).number == 1
    assert level_of(50) == Level(2, "Member", 50, 250)
    assert level_of(999).name == "Regular"
    assert level_of(10**9) == Level(4, "Leader", 1000, None)
    configure(levels="Egg = 0\nChick = 5")
    assert level_of(7).name == "Chick"


def test_levels_of_many_users_with_one_query(site, create_user, count_queries):
    users = [create_user() for _ in range(6)]
    set_points(users[0], 60)
    set_points(users[1], 5000)
    ids = [user.id for user in users]
    with count_queries() as queries:
        found = levels_of(ids)
    assert len(queries) <= 2  # the totals (and the settings, once per request)
    assert [found[uid].number for uid in ids] == [2, 4, 1, 1, 1, 1]
    with count_queries() as again:
        levels_of(ids[:2])
    assert len(again) == 0  # kept for the request


# --- voting down -----------------------------------------------------------------------------


def vote(client, post, value):
    return client.submit(f"/p/{post.id}/vote", {"value": value})


def test_voting_down_needs_the_level(client, site):
    answer = site["answer"]
    client.login("voter")
    response = vote(client, answer, "down")
    assert response.status_code == 403
    assert "You can vote down from level 2 (Member) on: you are at level 1." in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(Vote).where(Vote.post_id == answer.id)) is None

    assert vote(client, answer, "up").status_code == 302  # voting up needs no level

    set_points(site["voter"], 50)
    assert vote(client, answer, "down").status_code == 302
    assert db.session.scalar(select(Vote.value).where(Vote.post_id == answer.id)) == -1


def test_the_level_needed_is_a_setting(client, site):
    configure(downvote_level=3)
    set_points(site["voter"], 50)
    client.login("voter")
    response = vote(client, site["answer"], "down")
    assert response.status_code == 403
    assert "from level 3 (Regular) on: you are at level 2." in response.get_data(as_text=True)
    configure(downvote_level=9)  # above the last level: nobody votes down
    set_points(site["voter"], 10**6)
    response = vote(client, site["answer"], "down")
    assert "You can vote down from level 9 on: you are at level 4." in response.get_data(
        as_text=True
    )


def test_a_downvote_cast_before_can_be_taken_back(client, site):
    set_points(site["voter"], 50)
    client.login("voter")
    vote(client, site["answer"], "down")
    set_points(site["voter"], 0)
    assert vote(client, site["answer"], "down").status_code == 302  # retracts it
    assert db.session.scalar(select(Vote).where(Vote.post_id == site["answer"].id)) is None


# --- editing others' posts -------------------------------------------------------------------


def edit(client, post, body):
    return client.submit(f"/p/{post.id}/edit", {"body": body})


def test_leaders_edit_others_posts(client, site):
    answer = site["answer"]
    set_points(site["voter"], 1000)  # level 4, Leader
    client.login("voter")
    assert client.get(f"/p/{answer.id}/edit").status_code == 200
    response = edit(client, answer, "Hold the reset button for ten full seconds.")
    assert response.status_code == 302
    db.session.refresh(answer)
    assert answer.body_source == "Hold the reset button for ten full seconds."
    # the opening post too
    opening = db.session.scalar(
        select(Post).where(Post.topic_id == site["topic"].id, Post.is_opening.is_(True))
    )
    assert client.get(f"/p/{opening.id}/edit").status_code == 200


def test_below_the_level_others_posts_are_not_editable(client, site):
    set_points(site["voter"], 999)  # level 3
    client.login("voter")
    assert client.get(f"/p/{site['answer'].id}/edit").status_code == 403
    assert edit(client, site["answer"], "Vandalism").status_code == 403
    db.session.refresh(site["answer"])
    assert site["answer"].body_source == "Hold the reset button for ten seconds."


def test_the_edit_level_is_a_setting(client, site):
    configure(edit_others_level=5)  # above the last level: off
    set_points(site["voter"], 10**6)
    client.login("voter")
    assert client.get(f"/p/{site['answer'].id}/edit").status_code == 403


def test_no_editing_in_locked_topics_deleted_posts_or_as_unconfirmed(
    client, site, create_user, create_post
):
    from community.topics.services import delete_post, set_topic_flag

    unconfirmed = create_user("fresh", confirmed=False)
    set_points(unconfirmed, 5000)
    client.login("fresh")
    assert client.get(f"/p/{site['answer'].id}/edit").status_code == 403
    client.logout()

    set_points(site["voter"], 5000)
    client.login("voter")
    other = create_post(site["asker"], site["topic"], "Did that work for you?")
    delete_post(site["asker"], other)
    assert client.get(f"/p/{other.id}/edit").status_code in (403, 404)

    mod = create_user("mod", role="moderator")
    set_topic_flag(mod, site["topic"], "is_locked", True)
    assert client.get(f"/p/{site['answer'].id}/edit").status_code == 403


def test_no_editing_in_spaces_one_cannot_see(client, site, create_user, create_space, create_topic):
    boss = create_user("boss", staff=True)
    secret = create_topic(
        boss, create_space("staff-room", visibility="staff"), title="Secret plans for next year"
    )
    opening = db.session.scalar(select(Post).where(Post.topic_id == secret.id))
    set_points(site["voter"], 5000)
    client.login("voter")
    assert client.get(f"/p/{opening.id}/edit").status_code == 404


def test_permission_answers_only_what_it_grants(site, create_user):
    leader = site["voter"]
    set_points(leader, 5000)
    answer = site["answer"]
    assert levels.permission(leader, "post.edit", answer) is True
    assert levels.permission(leader, "post.delete", answer) is None
    assert levels.permission(site["helper"], "post.edit", answer) is None  # own: core's
    set_points(leader, 0)
    assert levels.permission(leader, "post.edit", answer) is None


# --- trust -----------------------------------------------------------------------------------


def test_trust_levels(site, create_user):
    newcomer, member, leader = create_user(), create_user(), create_user()
    set_points(member, 60)
    set_points(leader, 1500)
    assert trust_levels([newcomer, member, leader]) == {
        newcomer.id: 1,
        member.id: 2,
        leader.id: 4,
    }


def test_disabled_plugin_grants_nothing(client, runner, site):
    set_points(site["voter"], 5000)
    assert runner.invoke(args=["plugins", "disable", "gamification"]).exit_code == 0
    client.login("voter")
    assert client.get(f"/p/{site['answer'].id}/edit").status_code == 403
    assert vote(client, site["answer"], "down").status_code == 302
