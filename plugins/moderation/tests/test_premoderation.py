"""Pre-moderation: newcomers' first posts and posts in pre-moderated spaces wait for a
moderator; approving publishes them, rejecting keeps the text readable for the author."""

from __future__ import annotations

import pytest
from community_moderation import queue
from sqlalchemy import select

from community.accounts.models import User
from community.extensions import db
from community.plugins.settings import plugin_settings, save_plugin_settings
from community.topics.models import Post


def configure(**values):
    errors = save_plugin_settings("moderation", {**plugin_settings("moderation"), **values})
    assert not errors, errors


@pytest.fixture
def space(enable_plugin, create_user, create_space):
    enable_plugin("moderation")
    mod = create_user("mod")
    create_user("newbie")
    create_user("member")
    create_user("staffer", staff=True)
    return create_space("help", moderators=[mod])


def user(name):
    return db.session.scalars(select(User).where(User.username == name)).one()


def test_first_posts_of_a_new_account_wait(client, space, create_topic, create_post):
    configure(premod_first_posts=2)
    newbie = user("newbie")
    topic = create_topic(user("member"), space, body="Members' first post is held too.")
    assert topic.held_at is not None  # "member" has no published post either

    configure(premod_first_posts=0)
    topic = create_topic(user("member"), space, title="A published topic", body="Published.")
    assert topic.held_at is None
    configure(premod_first_posts=2)

    first = create_post(newbie, topic, "My first answer")
    second = create_post(newbie, topic, "My second answer")
    assert first.held_at is not None and second.held_at is not None
    assert first.held_reason == "New members' first posts are reviewed by a moderator."

    client.login("mod")
    page = client.get("/moderation/?tab=awaiting").get_data(as_text=True)
    assert "My first answer" in page and "My second answer" in page
    assert "Awaiting approval" in page
    response = client.submit("/moderation/act", {"action": "keep", "post": [first.id, second.id]})
    assert response.status_code == 302
    for post in (first, second):
        db.session.refresh(post)
        assert post.held_at is None
    assert "2 posts approved and published." in client.get("/moderation/?tab=awaiting").get_data(
        as_text=True
    )

    third = create_post(newbie, topic, "My third answer")
    assert third.held_at is None


def test_staff_and_moderators_are_never_held(space, create_topic):
    configure(premod_first_posts=5, premoderated_spaces="help")
    for name in ("mod", "staffer"):
        topic = create_topic(user(name), space, body=f"Written by {name}.")
        assert topic.held_at is None


def test_posts_in_a_premoderated_space_wait(client, space, create_space, create_topic):
    configure(premoderated_spaces="news, Help")
    inner = create_space("routers", parent=space)
    topic = create_topic(user("member"), inner, title="Held in a subspace", body="Inner.")
    post = db.session.scalars(select(Post).where(Post.topic_id == topic.id)).one()
    assert post.held_at is not None
    assert post.held_reason == (
        "Posts in this space are reviewed by a moderator before they appear."
    )
    other = create_space("other")
    assert create_topic(user("member"), other, body="Elsewhere.").held_at is None


def test_edits_are_not_held(space, create_topic):
    configure(premod_first_posts=0)
    topic = create_topic(user("member"), space, body="Published text.")
    post = db.session.scalars(select(Post).where(Post.topic_id == topic.id)).one()
    configure(premoderated_spaces="help")
    assert (
        queue.premoderation_gate(
            user=user("member"),
            action="post.edit",
            space=space,
            topic=topic,
            post=post,
            title=None,
            body="Changed",
        )
        is None
    )


def test_rejected_posts_stay_readable_for_their_author(client, space, create_topic):
    configure(premoderated_spaces="help")
    topic = create_topic(
        user("newbie"), space, title="A held question", body="My **precious** text"
    )
    post = db.session.scalars(select(Post).where(Post.topic_id == topic.id)).one()

    client.login("newbie")
    mine = client.get("/moderation/mine").get_data(as_text=True)
    assert "Awaiting approval" in mine
    assert "My **precious** text" in mine
    assert "readonly" in mine
    client.logout()

    client.login("mod")
    response = client.submit(
        "/moderation/act",
        {"action": "delete", "post": post.id, "next": "/moderation/?tab=awaiting"},
    )
    assert response.headers["Location"].endswith("/moderation/?tab=awaiting")
    db.session.refresh(post)
    assert post.deleted_at is not None
    assert "1 post rejected" in client.get("/moderation/?tab=awaiting").get_data(as_text=True)
    client.logout()

    client.login("newbie")
    mine = client.get("/moderation/mine").get_data(as_text=True)
    assert "Removed by a moderator" in mine
    assert "My **precious** text" in mine
    assert "mod" not in mine.replace("moderat", "").replace("mod-", "")


def test_the_authors_own_deletions_are_not_listed(client, space, create_topic):
    configure(premod_first_posts=0)
    topic = create_topic(user("member"), space, title="Mine to delete", body="Gone soon.")
    post = db.session.scalars(select(Post).where(Post.topic_id == topic.id)).one()
    client.login("member")
    client.submit(f"/p/{post.id}/delete")
    assert "Gone soon." not in client.get("/moderation/mine").get_data(as_text=True)
    assert client.get("/moderation/mine?page=2").status_code == 404


def test_trusted_members_skip_first_post_review(space, create_user, create_topic, monkeypatch):
    """A member a plugin rates at trust level 2 or more (community_user_trust, e.g.
    gamification's levels) skips the review of first posts."""
    configure(premod_first_posts=2)
    trusted = create_user("trusted_tina")
    monkeypatch.setattr(
        queue, "trust_levels", lambda users: {u.id: 2 if u.id == trusted.id else 0 for u in users}
    )
    assert create_topic(trusted, space, body="A trusted member's question.").held_at is None
    plain = create_topic(user("newbie"), space, body="A newcomer's first question.")
    assert plain.held_at is not None
