"""Gate and filter hooks: plugins can refuse writes and votes, and change rendered HTML."""

import pytest
from sqlalchemy import func, select

from community.errors import Refused
from community.extensions import db
from community.topics import services
from community.topics.models import Post, Topic, Vote
from tests.plugins import gatekeeper


@pytest.fixture
def app_config():
    return {"PLUGINS": ["tests.plugins.gatekeeper", "tests.plugins.brokengate"]}


@pytest.fixture(autouse=True)
def _clear():
    gatekeeper.refusals.clear()


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_gate_refuses_a_topic_and_the_form_keeps_the_text(client, create_user, create_space):
    create_user("anna")
    create_space("routers")
    client.login("anna")
    response = client.submit(
        "/s/routers/new",
        {"kind": "question", "title": "A perfectly fine title", "body": "This is forbidden talk"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "that word is not allowed here" in page and "This is forbidden talk" in page
    assert count(Topic) == 0
    assert gatekeeper.refusals == ["topic.create"]


def test_gate_sees_answers_comments_and_edits(create_user, create_space, create_topic):
    anna, bob = create_user("anna"), create_user("bob")
    topic = create_topic(anna, create_space("routers"))
    answer = services.create_post(bob, topic, "A useful answer")
    for call in (
        lambda: services.create_post(bob, topic, "forbidden answer"),
        lambda: services.create_post(anna, topic, "forbidden comment", parent=answer),
        lambda: services.edit_post(bob, answer, "now forbidden"),
    ):
        with pytest.raises(Refused):
            call()
    assert gatekeeper.refusals == ["post.create", "comment.create", "post.edit"]
    db.session.refresh(answer)
    assert answer.body_source == "A useful answer"
    assert count(Post) == 2


def test_a_gate_that_raises_refuses_the_write(create_user, create_space, create_topic):
    anna = create_user("anna")
    space = create_space("routers")
    with pytest.raises(Refused, match="cannot be saved right now"):
        services.create_topic(anna, space, "question", "A perfectly fine title", "explode", "")
    assert count(Topic) == 0


def test_vote_gates(client, create_user, create_space, create_topic):
    anna, bob = create_user("anna"), create_user("bob")
    topic = create_topic(anna, create_space("routers"))
    answer = services.create_post(bob, topic, "novote please")
    with pytest.raises(Refused):
        services.cast_vote(anna, answer, 1)
    # The broken vote gate refuses every other vote too: fail closed.
    other = services.create_post(bob, topic, "a normal answer")
    client.login("anna")
    response = client.submit(f"/p/{other.id}/vote", {"value": "up"})
    assert response.status_code == 403
    assert count(Vote) == 0


def test_html_filter_applies_and_is_sanitized_again(create_user, create_space, create_topic):
    anna = create_user("anna")
    topic = create_topic(anna, create_space("routers"), body="My AX3000 reboots")
    post = db.session.scalar(select(Post).where(Post.topic_id == topic.id))
    assert '<a href="/products/ax3000" rel="nofollow ugc noopener">AX3000</a>' in post.body_html
    assert "<script" not in post.body_html


def test_role_change_event(client, create_user):
    create_user("boss", role="admin")
    member = create_user("member")
    client.login("boss")
    client.submit(f"/admin/users/{member.id}", {"role": "moderator", "active": "y"})
    assert "role:member:member->moderator" in gatekeeper.refusals
