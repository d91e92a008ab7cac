"""Flags: members flag posts, once each; enough flags from different members hide a post."""

from __future__ import annotations

import pytest
from community_moderation import flags
from community_moderation.models import Flag
from sqlalchemy import func, select

from community.extensions import db
from community.plugins.settings import plugin_settings, save_plugin_settings
from community.topics.models import Post


def configure(**values):
    errors = save_plugin_settings("moderation", {**plugin_settings("moderation"), **values})
    assert not errors, errors


@pytest.fixture
def reply(enable_plugin, create_user, create_space, create_topic, create_post):
    """A reply by "author" in the space "help", moderated by "mod"; "ann" and "bob" are
    members."""
    enable_plugin("moderation")
    mod = create_user("mod")
    author = create_user("author")
    for name in ("ann", "bob", "cat", "dan"):
        create_user(name)
    space = create_space("help", moderators=[mod])
    topic = create_topic(author, space, title="How do I reset my router?")
    return create_post(author, topic, "Buy cheap watches at example.com!")


def flag_count(post=None):
    stmt = select(func.count()).select_from(Flag)
    if post is not None:
        stmt = stmt.where(Flag.post_id == post.id)
    return db.session.scalar(stmt)


def topic_url(post):
    return f"/t/{post.topic.id}/{post.topic.slug}"


def test_members_see_a_flag_link_but_not_on_their_own_post(client, reply):
    client.login("ann")
    page = client.get(topic_url(reply)).get_data(as_text=True)
    assert f"/moderation/flag/{reply.id}" in page
    client.logout()

    client.login("author")
    page = client.get(topic_url(reply)).get_data(as_text=True)
    assert f"/moderation/flag/{reply.id}" not in page
    client.logout()

    page = client.get(topic_url(reply)).get_data(as_text=True)
    assert "/moderation/flag/" not in page


def test_flag_a_post(client, reply):
    client.login("ann")
    form = client.get(f"/moderation/flag/{reply.id}").get_data(as_text=True)
    for label in ("Spam", "Rude or abusive", "Off-topic", "Needs a staff member", "Something else"):
        assert label in form

    response = client.submit(f"/moderation/flag/{reply.id}", {"reason": "spam"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/p/{reply.id}")
    flag = db.session.scalars(select(Flag)).one()
    assert (flag.post_id, flag.user.username, flag.reason, flag.weight) == (
        reply.id,
        "ann",
        "spam",
        1.0,
    )
    page = client.get(topic_url(reply)).get_data(as_text=True)
    assert "Thank you" in page
    assert "You flagged this post" in page


def test_one_flag_per_member_and_post(client, reply):
    client.login("ann")
    client.submit(f"/moderation/flag/{reply.id}", {"reason": "spam"})
    response = client.submit(
        f"/moderation/flag/{reply.id}", {"reason": "other", "text": "Changed my mind"}
    )
    assert response.status_code == 302
    assert "You already flagged this post" in client.get(topic_url(reply)).get_data(as_text=True)
    assert flag_count() == 1
    assert db.session.scalars(select(Flag.reason)).one() == "spam"
    # The form says so too.
    assert "You already flagged this post" in client.get(f"/moderation/flag/{reply.id}").get_data(
        as_text=True
    )


def test_a_race_between_two_flags_is_settled_by_the_database(reply, create_user):
    member = create_user("eve")
    assert flags.add_flag(member, reply, "spam") is True
    # As if the check for an earlier flag had passed in both requests.
    assert flags.add_flag(member, reply, "abusive") is False
    assert flag_count() == 1
    db.session.refresh(reply)  # the session is still usable
    assert reply.author.username == "author"


def test_something_else_needs_a_text_and_keeps_what_was_typed(client, reply):
    client.login("ann")
    response = client.submit(f"/moderation/flag/{reply.id}", {"reason": "other", "text": "  "})
    assert response.status_code == 400
    assert "Tell the moderators what is wrong" in response.get_data(as_text=True)

    too_long = "x" * 501
    response = client.submit(f"/moderation/flag/{reply.id}", {"reason": "spam", "text": too_long})
    assert response.status_code == 400
    assert too_long in response.get_data(as_text=True)

    response = client.submit(f"/moderation/flag/{reply.id}", {"text": "no reason chosen"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose a reason." in page
    assert "no reason chosen" in page

    response = client.submit(f"/moderation/flag/{reply.id}", {"reason": "bogus"})
    assert response.status_code == 400
    assert flag_count() == 0

    response = client.submit(
        f"/moderation/flag/{reply.id}", {"reason": "other", "text": "Selling fake watches."}
    )
    assert response.status_code == 302
    assert db.session.scalars(select(Flag.text)).one() == "Selling fake watches."


def test_own_hidden_and_invisible_posts_cannot_be_flagged(
    client, reply, create_user, create_space, create_topic
):
    client.login("author")
    assert client.submit(f"/moderation/flag/{reply.id}", {"reason": "spam"}).status_code == 403
    assert client.get(f"/moderation/flag/{reply.id}").status_code == 403
    client.logout()

    boss = create_user("boss", staff=True)
    secret = create_topic(boss, create_space("staff-room", visibility="staff"))
    opening = db.session.scalars(select(Post).where(Post.topic_id == secret.id)).one()
    client.login("ann")
    assert client.get(f"/moderation/flag/{opening.id}").status_code == 404
    assert client.submit(f"/moderation/flag/{opening.id}", {"reason": "spam"}).status_code == 404
    assert client.get("/moderation/flag/999999").status_code == 404
    assert client.get("/moderation/flag/abc").status_code == 404
    assert flag_count() == 0


def test_visitors_are_sent_to_sign_in(client, reply):
    response = client.get(f"/moderation/flag/{reply.id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_flags_are_rate_limited(client, reply, monkeypatch):
    from community_moderation import limits

    monkeypatch.setattr(limits, "flag_limit", lambda user: "You are flagging too fast.")
    client.login("ann")
    response = client.submit(
        f"/moderation/flag/{reply.id}", {"reason": "other", "text": "Keep this text"}
    )
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "You are flagging too fast." in page
    assert "Keep this text" in page
    assert flag_count() == 0


def test_auto_hide_at_exactly_n_distinct_flaggers(client, reply):
    configure(auto_hide_flags=3, weigh_by_trust=False)
    for number, name in enumerate(("ann", "bob"), start=1):
        client.login(name)
        client.submit(f"/moderation/flag/{reply.id}", {"reason": "spam"})
        client.submit(f"/moderation/flag/{reply.id}", {"reason": "spam"})  # counts once
        client.logout()
        db.session.refresh(reply)
        assert reply.hidden_at is None, f"hidden after {number} flaggers"

    client.login("cat")
    client.submit(f"/moderation/flag/{reply.id}", {"reason": "off_topic"})
    db.session.refresh(reply)
    assert reply.hidden_at is not None
    assert reply.held_at is not None
    assert reply.held_reason == (
        "Hidden after members flagged it (Spam, Off-topic). A moderator will review it."
    )
    # The flags stay open: the post is in the moderators' queue.
    assert (
        db.session.scalar(select(func.count()).select_from(Flag).where(Flag.resolved_at.is_(None)))
        == 3
    )
    # The others no longer see it.
    client.logout()
    client.login("dan")
    assert "cheap watches" not in client.get(topic_url(reply)).get_data(as_text=True)


def test_posts_of_moderators_are_never_hidden_by_flags(client, reply, create_post):
    from community.accounts.models import User

    configure(auto_hide_flags=1)

    mod = db.session.scalars(select(User).where(User.username == "mod")).one()
    mods_post = create_post(mod, reply.topic, "I moderate here.")
    client.login("ann")
    client.submit(f"/moderation/flag/{mods_post.id}", {"reason": "abusive"})
    db.session.refresh(mods_post)
    assert mods_post.hidden_at is None
    assert flag_count(mods_post) == 1


def test_trusted_members_weigh_more(reply, create_user, monkeypatch):
    configure(auto_hide_flags=2, weigh_by_trust=True)
    trusted = create_user("trusted")
    monkeypatch.setattr(flags, "trust_levels", lambda users: {u.id: 3 for u in users})
    assert flags.flag_weight(trusted) == 2.0
    flags.add_flag(trusted, reply, "spam")
    db.session.refresh(reply)
    assert reply.hidden_at is not None

    configure(weigh_by_trust=False)
    assert flags.flag_weight(trusted) == 1.0


def test_the_author_never_learns_who_flagged(client, reply, create_user):
    configure(auto_hide_flags=1)
    create_user("zorroflagger")
    client.login("zorroflagger")
    client.submit(f"/moderation/flag/{reply.id}", {"reason": "other", "text": "Pure spam"})
    client.logout()

    client.login("author")
    for url in (topic_url(reply), "/moderation/mine", "/u/author", "/notifications"):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        assert "zorroflagger" not in response.get_data(as_text=True), url
    mine = client.get("/moderation/mine").get_data(as_text=True)
    assert "Buy cheap watches" in mine
    assert "Hidden after members flagged it" in mine


def test_deleting_a_post_closes_its_flags(client, reply):
    client.login("ann")
    client.submit(f"/moderation/flag/{reply.id}", {"reason": "spam"})
    client.logout()
    client.login("author")
    client.submit(f"/p/{reply.id}/delete")
    flag = db.session.scalars(select(Flag)).one()
    db.session.refresh(flag)
    assert flag.resolved_at is not None
    assert flag.resolution == "deleted"
