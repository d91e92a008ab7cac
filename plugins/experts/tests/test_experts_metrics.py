"""Response metrics: medians of the time to first and to accepted answer, the shares of first
answers by experts, staff and other members, each expert's response times, the window and
what does not count, and the JSON endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from community_experts import grants, metrics
from community_experts.models import SPACE, Standing
from sqlalchemy import update

from community.dbtypes import utcnow
from community.extensions import db
from community.topics.models import Post, Topic
from community.topics.services import accept_answer, delete_post


@pytest.fixture
def site(enable_plugin, create_user, create_space):
    enable_plugin("experts")
    users = {
        "root": create_user("root", role="admin"),
        "asker": create_user("asker"),
        "staffer": create_user("staffer", staff=True),
        "expert": create_user("expert"),
        "peer": create_user("peer"),
    }
    users["help"] = create_space("help", title="Help")
    users["inner"] = create_space("inner", title="Inner", parent=users["help"])
    users["other"] = create_space("other", title="Other")
    grants.grant(users["root"], users["expert"], users["help"], "Product engineer")
    return users


def asked(create_topic, author, space, *, hours_ago: float, title: str | None = None):
    topic = create_topic(author, space, title=title)
    at = utcnow() - timedelta(hours=hours_ago)
    db.session.execute(update(Topic).where(Topic.id == topic.id).values(created_at=at))
    db.session.execute(update(Post).where(Post.topic_id == topic.id).values(created_at=at))
    db.session.commit()
    db.session.refresh(topic)
    return topic


def answered(create_post, author, topic, *, after: timedelta):
    """An answer given ``after`` the question was asked (and the topic's first answer time,
    when it is the first)."""
    post = create_post(author, topic, "Here is how.")
    at = topic.created_at + after
    db.session.execute(update(Post).where(Post.id == post.id).values(created_at=at))
    db.session.execute(
        update(Topic)
        .where(
            Topic.id == topic.id, (Topic.first_answer_at.is_(None)) | (Topic.first_answer_at > at)
        )
        .values(first_answer_at=at)
    )
    db.session.commit()
    db.session.refresh(post)
    db.session.refresh(topic)
    return post


def accepted(topic, answer, *, after: timedelta):
    accept_answer(topic.author, answer)
    db.session.execute(
        update(Topic).where(Topic.id == topic.id).values(accepted_at=topic.created_at + after)
    )
    db.session.commit()


@pytest.fixture
def three_questions(site, create_topic, create_post):
    """Three questions in Help answered first after 1 h (staff), 2 h (the expert) and 4 h (a
    peer), a fourth without an answer; answers accepted after 3 h and 5 h."""
    q1 = asked(create_topic, site["asker"], site["help"], hours_ago=30)
    q2 = asked(create_topic, site["asker"], site["help"], hours_ago=20)
    q3 = asked(create_topic, site["asker"], site["help"], hours_ago=10)
    asked(create_topic, site["asker"], site["help"], hours_ago=5)
    a1 = answered(create_post, site["staffer"], q1, after=timedelta(hours=1))
    a2 = answered(create_post, site["expert"], q2, after=timedelta(hours=2))
    a3 = answered(create_post, site["peer"], q3, after=timedelta(hours=4))
    # Later answers do not change who answered first.
    late = answered(create_post, site["expert"], q3, after=timedelta(hours=6))
    accepted(q1, a1, after=timedelta(hours=3))
    accepted(q3, late, after=timedelta(hours=5))
    return {"q": [q1, q2, q3], "a": [a1, a2, a3, late]}


def test_medians_and_shares(site, three_questions):
    found = metrics.space_metrics(site["help"])
    assert (found.questions, found.answered, found.unanswered) == (4, 3, 1)
    assert found.median_first_answer == timedelta(hours=2)
    assert found.median_accepted == timedelta(hours=4)  # mean of the middle two: 3 h and 5 h
    assert found.accepted == 2
    assert found.share_staff == pytest.approx(1 / 3)
    assert found.share_experts == pytest.approx(1 / 3)
    assert found.share_peers == pytest.approx(1 / 3)
    assert found.days == 90


def test_nothing_to_measure(site):
    found = metrics.space_metrics(site["other"])
    assert (found.questions, found.answered, found.unanswered) == (0, 0, 0)
    assert found.median_first_answer is None and found.median_accepted is None
    assert (found.share_experts, found.share_staff, found.share_peers) == (0, 0, 0)
    assert metrics.expert_response_times(site["other"], [site["expert"].id]) == {
        site["expert"].id: metrics.ExpertStats(0, 0, None)
    }


def test_spaces_inside_count_and_experts_of_spaces_around(
    site, create_topic, create_post, three_questions
):
    inner = asked(create_topic, site["asker"], site["inner"], hours_ago=8)
    # The expert of Help is an expert of Inner too.
    answered(create_post, site["expert"], inner, after=timedelta(hours=8))
    outside = asked(create_topic, site["asker"], site["other"], hours_ago=8)
    answered(create_post, site["expert"], outside, after=timedelta(minutes=1))

    help_ = metrics.space_metrics(site["help"])
    assert (help_.questions, help_.answered) == (5, 4)
    assert help_.median_first_answer == timedelta(hours=3)  # 1, 2, 4, 8 hours
    assert help_.share_experts == pytest.approx(2 / 4)

    only_inner = metrics.space_metrics(site["inner"])
    assert (only_inner.questions, only_inner.answered) == (1, 1)
    assert only_inner.share_experts == 1.0

    # The expert of Help is a peer in Other.
    assert metrics.space_metrics(site["other"]).share_peers == 1.0
    medians = metrics.first_answer_medians([site["help"].id, site["inner"].id, site["other"].id])
    assert medians == {
        site["help"].id: timedelta(hours=3),
        site["inner"].id: timedelta(hours=8),
        site["other"].id: timedelta(minutes=1),
    }


def test_earned_expertise_counts_as_expert(site, create_topic, create_post):
    db.session.add(
        Standing(user_id=site["peer"].id, scope=SPACE, scope_id=site["help"].id, is_expert=True)
    )
    db.session.commit()
    q = asked(create_topic, site["asker"], site["inner"], hours_ago=3)
    answered(create_post, site["peer"], q, after=timedelta(minutes=30))
    found = metrics.space_metrics(site["help"])
    assert (found.share_experts, found.share_peers) == (1.0, 0.0)


def test_staff_come_before_experts(site, create_topic, create_post):
    grants.grant(site["root"], site["staffer"], site["help"], "Support lead")
    q = asked(create_topic, site["asker"], site["help"], hours_ago=3)
    answered(create_post, site["staffer"], q, after=timedelta(minutes=30))
    found = metrics.space_metrics(site["help"])
    assert (found.share_staff, found.share_experts) == (1.0, 0.0)


def test_what_does_not_count(site, create_topic, create_post, three_questions):
    q1, q2, q3 = three_questions["q"]
    # Deleted, held and merged questions leave the figures; so do old ones.
    db.session.execute(update(Topic).where(Topic.id == q1.id).values(deleted_at=utcnow()))
    db.session.execute(update(Topic).where(Topic.id == q2.id).values(held_at=utcnow()))
    old = asked(create_topic, site["asker"], site["help"], hours_ago=24 * 100)
    answered(create_post, site["peer"], old, after=timedelta(minutes=5))
    db.session.commit()
    found = metrics.space_metrics(site["help"])
    assert (found.questions, found.answered) == (2, 1)
    assert found.median_first_answer == timedelta(hours=4)
    # A longer window takes the old question in.
    longer = metrics.space_metrics(site["help"], days=365)
    assert (longer.questions, longer.answered, longer.days) == (3, 2, 365)


def test_first_answer_deleted_since(site, three_questions):
    q1 = three_questions["q"][0]
    a1 = three_questions["a"][0]
    # The staff member's answer was the first; it is gone: nobody known answered first.
    delete_post(site["root"], a1)
    found = metrics.space_metrics(site["help"])
    assert found.answered == 3  # the question was answered, when it was
    assert found.share_staff == 0.0
    assert found.share_peers == pytest.approx(2 / 3)
    assert q1.id  # still there


def test_expert_response_times(site, create_topic, create_post, three_questions):
    expert, peer = site["expert"], site["peer"]
    inner = asked(create_topic, site["asker"], site["inner"], hours_ago=12)
    answered(create_post, expert, inner, after=timedelta(hours=1))
    outside = asked(create_topic, site["asker"], site["other"], hours_ago=12)
    answered(create_post, expert, outside, after=timedelta(minutes=1))

    stats = metrics.expert_response_times(site["help"], [expert.id, peer.id, site["root"].id])
    # The expert: 2 h (q2), 6 h (q3, accepted) and 1 h (inner); Other does not count.
    assert stats[expert.id] == metrics.ExpertStats(
        answers=3, accepted=1, median_response=timedelta(hours=2)
    )
    assert stats[peer.id] == metrics.ExpertStats(1, 0, timedelta(hours=4))
    assert stats[site["root"].id] == metrics.ExpertStats(0, 0, None)
    assert metrics.expert_response_times(site["help"], []) == {}


def test_a_few_queries(site, three_questions, count_queries):
    assert site["help"].id  # loaded again after the fixtures' commits
    with count_queries() as queries:
        metrics.space_metrics(site["help"])
    assert len(queries) <= 4, queries.statements
    # The plugin's settings and the spaces are read once per request at most; one query more.
    ids = [site[name].id for name in ("expert", "peer", "staffer")]
    with count_queries() as one:
        metrics.expert_response_times(site["help"], ids[:1])
    with count_queries() as three:
        metrics.expert_response_times(site["help"], ids)
    assert len(three) == len(one) <= 3


def test_json_endpoint(client, site, three_questions, create_space):
    data = client.get("/experts/s/help/metrics.json").get_json()
    assert data["space"] == {"id": site["help"].id, "slug": "help", "title": "Help"}
    assert (data["questions"], data["answered"], data["unanswered"]) == (4, 3, 1)
    assert data["median_first_answer_seconds"] == 7200
    assert data["median_accepted_seconds"] == 4 * 3600
    assert data["share"] == {"experts": 0.3333, "staff": 0.3333, "peers": 0.3333}
    assert data["days"] == 90
    assert metrics.space_metrics_json(site["help"]) == data

    create_space("secret", visibility="staff")
    assert client.get("/experts/s/secret/metrics.json").status_code == 404
    assert client.get("/experts/s/nowhere/metrics.json").status_code == 404
    client.login("staffer")
    assert client.get("/experts/s/secret/metrics.json").status_code == 200


def test_window_setting(client, site, three_questions):
    client.login("root")
    response = client.submit(
        "/admin/plugins/experts",
        {
            "window_days": "180",
            "min_accepted": "3",
            "accepted_weight": "5",
            "min_score": "20",
            "route_after_minutes": "60",
            "routing_mode": "round_robin",
            "per_round": "2",
            "max_rounds": "3",
            "max_open_offers": "5",
            "max_question_age_hours": "72",
            "metrics_days": "1",
        },
    )
    assert response.status_code == 302
    found = metrics.space_metrics(site["help"])
    assert (found.days, found.questions, found.answered) == (1, 3, 2)  # the 30 h one left
