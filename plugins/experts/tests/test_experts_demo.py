"""The issue's "done when", on the demo: each product space has experts with badges on their
posts; a new question that waits is routed to them; the directory shows response times."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from community_experts import demo, expertise, routing
from community_experts.models import Grant, Offer
from sqlalchemy import select, update

from community.accounts.models import User
from community.dbtypes import utcnow
from community.extensions import db
from community.notifications.models import Notification
from community.spaces.models import Space
from community.topics.models import Post, Topic
from community.topics.services import create_topic

PRODUCT_SPACES = ["routers", "mesh-wifi", "mobile-app", "billing", "italia"]


def test_the_demo_has_experts_routing_and_response_times(runner, client):
    result = runner.invoke(args=["demo", "--enable-plugin", "experts"])
    assert result.exit_code == 0, result.output
    assert "Enabled plugin experts" in result.output
    spaces = {s.slug: s for s in db.session.scalars(select(Space))}

    # Each product space has experts, and their posts there carry the badge.
    for slug in PRODUCT_SPACES:
        space = spaces[slug]
        experts = expertise.experts_in([space.id])[space.id]
        assert experts, f"no experts in {slug}"
        answer = db.session.scalar(
            select(Post)
            .join(Topic, Topic.id == Post.topic_id)
            .where(
                Topic.space_id == space.id,
                Topic.deleted_at.is_(None),
                Post.author_id.in_(experts),
                Post.is_opening.is_(False),
                Post.parent_id.is_(None),
            )
            .order_by(Post.id)
            .limit(1)
        )
        assert answer is not None, f"no expert answered in {slug}"
        topic = db.session.get(Topic, answer.topic_id)
        page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
        assert f"Expert · {escape(space.title)}" in page, slug
    # The administrator's grants: a firmware engineer in Routers, with the reason.
    engineer = db.session.scalar(select(User).where(User.username == "luca.engineer"))
    assert db.session.scalar(
        select(Grant.reason).where(
            Grant.user_id == engineer.id, Grant.space_id == spaces["routers"].id
        )
    ).startswith("Firmware engineer")

    # A new question that waits past the space's 30 minutes is offered to its experts.
    asker = db.session.scalar(
        select(User).where(User.role == "member", User.active.is_(True)).order_by(User.id)
    )
    routers = spaces["routers"]
    topic = create_topic(
        asker, routers, "question", "The AX3000 reboots when the guest network is on", "Why?"
    )
    assert routing.route() == 0 or not db.session.scalar(
        select(Offer.id).where(Offer.topic_id == topic.id)
    )
    db.session.execute(
        update(Topic)
        .where(Topic.id == topic.id)
        .values(created_at=utcnow() - timedelta(minutes=31))
    )
    db.session.commit()
    routing.route()
    offered = set(db.session.scalars(select(Offer.user_id).where(Offer.topic_id == topic.id)))
    assert len(offered) == 2
    candidates = set().union(*expertise.experts_in(expertise.covering(routers.id)).values())
    assert offered <= candidates
    told = set(
        db.session.scalars(
            select(Notification.user_id).where(
                Notification.kind == "experts_offered", Notification.topic_id == topic.id
            )
        )
    )
    assert told == offered
    expert = db.session.get(User, sorted(offered)[0])
    client.login(expert.username, "community-demo")
    waiting = client.get("/experts/unanswered").get_data(as_text=True)
    assert topic.title in waiting

    # The directory shows the space's response times and its experts' (to a visitor, in the
    # site's language).
    client.logout()
    directory = client.get("/experts/s/routers").get_data(as_text=True)
    assert "Median time to first answer" in directory
    assert "Median time to accepted answer" in directory
    assert expert.username in directory

    # Running the demo's plugin part again changes nothing more.
    assert demo.generate(1)["granted"] == 0
