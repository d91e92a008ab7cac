"""Findings of a review of the gamification plugin: each test fails on the code as it was
reviewed, for a user-visible, correctness or security reason (see each docstring)."""

from __future__ import annotations

import re

import pytest
from community_gamification import levels, points
from community_gamification.models import Total
from sqlalchemy import select

from community.extensions import db
from community.plugins.settings import plugin_settings, save_plugin_settings
from community.topics import services as topics
from community.topics.models import Post


def configure(**values):
    errors = save_plugin_settings("gamification", {**plugin_settings("gamification"), **values})
    assert not errors, errors


def set_points(user, amount):
    db.session.merge(Total(user_id=user.id, points=amount))
    db.session.commit()
    levels.clear_cache()


def opening(topic):
    return db.session.scalars(
        select(Post).where(Post.topic_id == topic.id, Post.is_opening.is_(True))
    ).one()


def board_rows(client, url="/leaderboard/"):
    """``[(rank, username, points)]`` as the page shows them."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    rows = re.findall(
        r'<tr id="rank-\d+".*?leaderboard-rank-number">(\d+)</span>.*?'
        r'<span>([^<]+)</span></a>.*?leaderboard-points" data-label="[^"]+">([\d,.]+)</td>',
        html,
        re.S,
    )
    return [(int(rank), name, int(re.sub(r"\D", "", p))) for rank, name, p in rows]


@pytest.fixture
def on(enable_plugin):
    enable_plugin("gamification")
    configure(daily_vote_cap=0, min_voter_age_days=0, downvote_level=1)


# --- 1. private spaces on the all-time board -------------------------------------------------


def test_all_time_board_does_not_count_points_from_spaces_the_visitor_cannot_see(
    client, on, create_user, create_space, create_topic, create_post
):
    """README (Leaderboards): "points earned in spaces a visitor may not see are not counted
    for them". The site's all-time board reads ``Total.points`` (web_leaderboard.board), so an
    anonymous visitor sees a member ranked with the points of their accepted answers in a
    staff-only space — the same visitor's "this week" board correctly leaves them out. The
    all-time board should sum the ledger over the visitor's visible spaces, as the other
    boards do."""
    boss = create_user("boss", staff=True)
    ann = create_user("ann")
    # ann moderates the staff room (so she may see and answer there); she is not staff.
    staff_room = create_space("staff-room", visibility="staff", moderators=[ann])
    secret = create_topic(boss, staff_room, title="Which vendor do we pick next year?")
    answer = create_post(ann, secret, "The cheaper one, the contract ends in March.")
    topics.accept_answer(boss, answer)
    assert points.points_of([ann.id])[ann.id] > 0  # all of it earned in the staff room

    assert board_rows(client, "/leaderboard/?period=week") == []  # correct: nothing visible
    assert board_rows(client, "/leaderboard/") == []  # fails: [(1, "ann", 20)]


# --- 2. the wiki-edit privilege --------------------------------------------------------------


def test_a_leader_cannot_edit_a_comment_under_a_hidden_answer(
    client, on, create_user, create_space, create_topic, create_post
):
    """A comment under an answer a moderator hid is out of view for everyone but the
    moderators and the answer's author (the topic page lists no comments of hidden answers).
    The wiki privilege checks only the comment's own state, so a Leader can open
    ``/p/<comment>/edit`` — reading the text hidden from them — and rewrite it."""
    mod = create_user("mod")
    space = create_space("help", moderators=[mod])
    asker, helper, other, leader = (create_user(n) for n in ("asker", "helper", "other", "leader"))
    topic = create_topic(asker, space, title="How do I reset my router?")
    answer = create_post(helper, topic, "Call this number and give them your password.")
    comment = create_post(
        other, topic, "Great tip, my password is hunter2 by the way.", parent=answer
    )
    topics.hide_post(mod, answer, "Scam")
    set_points(leader, 5000)

    create_user("plain")
    client.login("plain")  # a member without the privilege: the page refuses
    assert client.get(f"/p/{comment.id}/edit").status_code in (403, 404)
    client.logout()
    client.login("leader")
    page = client.get(f"/t/{topic.id}", follow_redirects=True).get_data(as_text=True)
    assert "hunter2" not in page  # the comment is out of view on the topic page
    form = client.get(f"/p/{comment.id}/edit")
    saved = client.submit(f"/p/{comment.id}/edit", {"body": "Edited by someone who never saw it."})
    db.session.refresh(comment)
    assert comment.body_source == "Great tip, my password is hunter2 by the way."
    assert "hunter2" not in form.get_data(as_text=True)
    assert (form.status_code, saved.status_code) in ((403, 403), (404, 404))


# --- 3. first-answer points for a merged duplicate question ----------------------------------
