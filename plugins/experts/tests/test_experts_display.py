"""Beside a question offered to an expert: why they are asked, and a way to pass on it."""

from __future__ import annotations

from datetime import timedelta

from community_experts import routing
from community_experts.models import PASSED, Grant, Offer
from sqlalchemy import select, update

from community.dbtypes import utcnow
from community.extensions import db
from community.topics.models import Topic


def test_an_offered_question_says_so_beside_it_until_passed(
    enable_plugin, create_user, create_space, create_topic, client
):
    enable_plugin("experts")
    expert, asker = create_user("expert"), create_user("asker")
    routers = create_space("routers")
    db.session.add(Grant(user_id=expert.id, space_id=routers.id, reason="Engineer"))
    db.session.commit()
    topic = create_topic(asker, routers, title="Guest network drops every hour")
    db.session.execute(
        update(Topic).where(Topic.id == topic.id).values(created_at=utcnow() - timedelta(hours=2))
    )
    db.session.commit()
    assert routing.route() == 1
    url = f"/t/{topic.id}/{topic.slug}"
    assert "Offered to you" not in client.get(url).get_data(as_text=True)  # a visitor
    client.login("asker")
    assert "Offered to you" not in client.get(url).get_data(as_text=True)
    client.logout()
    client.login("expert")
    page = client.get(url).get_data(as_text=True)
    assert "Offered to you" in page and f"/experts/unanswered/{topic.id}/pass" in page
    response = client.submit(f"/experts/unanswered/{topic.id}/pass")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Offer.state).where(Offer.user_id == expert.id)) == PASSED
    assert "Offered to you" not in client.get(url).get_data(as_text=True)
