"""Whatever happens, in whatever order, the live totals equal the points recomputed from
scratch, and ``check`` passes."""

from __future__ import annotations

from collections import defaultdict

import pytest
from community_gamification import points
from community_gamification.models import Total
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from community.accounts.services import reinstate_user, suspend_user
from community.errors import Refused
from community.extensions import db
from community.plugins.settings import save_plugin_settings
from community.testing import empty_tables
from community.topics import services as topics
from community.topics.models import Post

USERS = 3  # members who act; an admin moderates
POSTS = 6  # two questions' openings, an idea's opening, three answers

# (voter, post, value): the voter is one of the members other than the post's author.
vote = st.tuples(
    st.just("vote"),
    st.integers(1, USERS - 1),
    st.integers(0, POSTS - 1),
    st.sampled_from([1, -1]),
)
# Votes are the most frequent operations, as on a real site.
operation = st.one_of(
    vote,
    vote,
    vote,
    vote,
    # The last vote again: takes it back.
    st.tuples(st.just("again")),
    st.tuples(st.just("again")),
    st.tuples(st.just("accept"), st.integers(3, POSTS - 1)),
    st.tuples(st.just("unaccept"), st.integers(0, 1)),
    st.tuples(st.just("delete"), st.integers(0, POSTS - 1)),
    st.tuples(st.just("restore"), st.integers(0, POSTS - 1)),
    st.tuples(st.just("hide"), st.integers(0, POSTS - 1)),
    st.tuples(st.just("release"), st.integers(0, POSTS - 1)),
    st.tuples(st.just("status"), st.sampled_from(["shipped", "planned", "done"])),
    st.tuples(st.just("suspend"), st.integers(0, USERS - 1)),
    st.tuples(st.just("reinstate"), st.integers(0, USERS - 1)),
)


def build(create_user, create_space, create_topic, create_post):
    admin = create_user("root", role="admin")
    users = [create_user(f"member{n}") for n in range(USERS)]
    help_space, ideas = create_space("help"), create_space("ideas", default_kind="idea")
    questions = [
        create_topic(users[0], help_space, title="How do I reset my router?"),
        create_topic(users[1], help_space, title="Why is my wifi slow at night?"),
    ]
    idea = create_topic(users[2], ideas, kind="idea", title="A dark theme for the site")
    openings = [
        db.session.scalars(
            select(Post).where(Post.topic_id == topic.id, Post.is_opening.is_(True))
        ).one()
        for topic in (*questions, idea)
    ]
    answers = [
        create_post(users[1], questions[0], "Hold the reset button."),
        create_post(users[2], questions[0], "Unplug it for a minute."),
        create_post(users[2], questions[1], "Change the wifi channel."),
    ]
    return admin, users, questions, idea, openings + answers


def run(operation, admin, users, questions, idea, posts) -> None:
    kind, *args = operation
    try:
        if kind == "vote":
            post = posts[args[1]]
            author = next(i for i, u in enumerate(users) if u.id == post.author_id)
            user = users[(author + args[0]) % USERS]
            db.session.refresh(user)
            if user.active:
                topics.cast_vote(user, post, args[2] if post.topic.is_question else 1)
        elif kind == "accept":
            answer = posts[args[0]]
            db.session.refresh(answer)
            topics.accept_answer(admin, answer)
        elif kind == "unaccept":
            topics.unaccept_answer(admin, questions[args[0]])
        elif kind == "delete":
            topics.delete_post(admin, posts[args[0]])
        elif kind == "restore":
            topics.restore_post(admin, posts[args[0]])
        elif kind == "hide":
            topics.hide_post(admin, posts[args[0]], "Checking it")
        elif kind == "release":
            post = posts[args[0]]
            db.session.refresh(post)
            if post.held_at is not None:
                topics.release_post(admin, post)
        elif kind == "status":
            topics.set_idea_status(admin, idea, args[0])
        elif kind == "suspend":
            suspend_user(users[args[0]], admin, "Checking")
        elif kind == "reinstate":
            reinstate_user(users[args[0]], admin)
    except Refused:
        db.session.rollback()
    for obj in (*users, *questions, idea, *posts):
        db.session.refresh(obj)


@pytest.fixture
def gamification(enable_plugin):
    enable_plugin("gamification")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    operations=st.lists(operation, min_size=3, max_size=16),
    cap=st.sampled_from([0, 12, 25]),
    min_age=st.sampled_from([0, 2]),
)
def test_live_totals_equal_a_rebuild(
    gamification, create_user, create_space, create_topic, create_post, operations, cap, min_age
):
    empty_tables()
    # Emptying the tables forgot that the plugin is on: turn it on again.
    from community.plugins.services import enable_plugin

    enable_plugin("gamification")
    assert (
        save_plugin_settings(
            "gamification",
            {"downvote_level": 1, "daily_vote_cap": cap, "min_voter_age_days": min_age},
        )
        == {}
    )
    world = build(create_user, create_space, create_topic, create_post)
    if min_age:  # one member is old enough to count
        world[1][0].created_at = world[1][0].created_at.replace(year=2000)
        db.session.commit()
    last_vote = None
    for op in operations:
        if op[0] == "again":
            op = last_vote or op
        elif op[0] == "vote":
            last_vote = op
        run(op, *world)

    recomputed: dict[int, int] = defaultdict(int)
    for (_key, user_id), entry in points.desired_entries().items():
        recomputed[user_id] += entry.amount
    live = {
        user_id: total
        for user_id, total in db.session.execute(select(Total.user_id, Total.points)).all()
        if total
    }
    assert live == {u: p for u, p in recomputed.items() if p}
    report, missing = points.check()
    assert (report.totals, missing) == ({}, [])
