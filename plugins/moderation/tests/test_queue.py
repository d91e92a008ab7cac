"""The review queue: who sees what, the actions, bad input, audit, and query budgets."""

from __future__ import annotations

import pytest
from community_moderation import flags
from community_moderation.models import Flag
from sqlalchemy import select

from community.accounts.models import User
from community.extensions import db
from community.topics.models import Post

AUDITED: list[dict] = []


@pytest.fixture(autouse=True)
def audit_spy(monkeypatch):
    """Listen to core's community_audited hook: the plugin's implementation hands every
    call to ``audit.record``, which this replaces with a recorder."""
    from community_moderation import audit

    AUDITED.clear()

    def record(actor, action, target, reason=None, before=None, after=None):
        AUDITED.append({"actor": actor, "action": action, "target": target, "reason": reason})

    monkeypatch.setattr(audit, "record", record)
    return AUDITED


@pytest.fixture
def world(enable_plugin, create_user, create_space, create_topic, create_post):
    """Two spaces, "help" (moderated by "helpmod") and "news" (moderated by "newsmod"), a
    flagged reply in each by "author", flagged by "ann"."""
    enable_plugin("moderation")
    helpmod, newsmod = create_user("helpmod"), create_user("newsmod")
    author, ann = create_user("author"), create_user("ann")
    create_user("member")
    create_user("globalmod", role="moderator")
    help_space = create_space("help", moderators=[helpmod])
    news = create_space("news", moderators=[newsmod])
    in_help = create_post(
        author,
        create_topic(author, help_space, title="Router help", body="Router body"),
        "Help spam",
    )
    in_news = create_post(
        author, create_topic(author, news, title="Release news", body="News body"), "News spam"
    )
    flags.add_flag(ann, in_help, "spam")
    flags.add_flag(ann, in_news, "other", "Advertises a shop")
    return {"help": in_help, "news": in_news}


def user(name):
    return db.session.scalars(select(User).where(User.username == name)).one()


def open_flags(post):
    return db.session.scalars(
        select(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
    ).all()


def audited():
    return [entry["action"] for entry in AUDITED]


def test_members_get_404(client, world):
    client.login("member")
    assert client.get("/moderation/").status_code == 404
    response = client.submit("/moderation/act", {"action": "hide", "post": world["help"].id})
    assert response.status_code == 404
    db.session.refresh(world["help"])
    assert world["help"].hidden_at is None
    assert "Moderation (" not in client.get("/").get_data(as_text=True)


def test_visitors_are_sent_to_sign_in(client, world):
    response = client.get("/moderation/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_space_moderators_see_only_their_spaces(client, world):
    client.login("helpmod")
    page = client.get("/moderation/").get_data(as_text=True)
    assert "Help spam" in page
    assert "News spam" not in page
    assert "Advertises a shop" not in page
    assert "Moderation (1)" in page
    assert client.get("/moderation/?space=news").status_code == 404
    assert client.get("/moderation/?space=nowhere").status_code == 404
    assert client.get("/moderation/?tab=bogus").status_code == 404
    assert client.get("/moderation/?page=x").status_code == 404
    client.logout()

    client.login("globalmod")
    page = client.get("/moderation/").get_data(as_text=True)
    assert "Help spam" in page
    assert "News spam" in page
    assert "Advertises a shop" in page
    assert "ann" not in page.replace("annot", "")  # flaggers are not named
    filtered = client.get("/moderation/?space=news").get_data(as_text=True)
    assert "News spam" in filtered
    assert "Help spam" not in filtered


def test_space_moderators_cannot_act_outside_their_spaces(client, world):
    client.login("helpmod")
    ids = [world["help"].id, world["news"].id]
    response = client.submit("/moderation/act", {"action": "hide", "post": ids})
    assert response.status_code == 403
    for post in world.values():
        db.session.refresh(post)
        assert post.hidden_at is None  # nothing changed, not even in their own space
        assert len(open_flags(post)) == 1
    assert (
        client.submit("/moderation/act", {"action": "keep", "post": world["news"].id}).status_code
        == 403
    )
    assert client.submit("/moderation/act", {"action": "keep", "post": 99999}).status_code == 404


def test_posts_they_may_not_see_are_404(client, world, create_user, create_space, create_topic):
    boss = create_user("boss", staff=True)
    secret = create_topic(boss, create_space("staff-room", visibility="staff"))
    opening = db.session.scalars(select(Post).where(Post.topic_id == secret.id)).one()
    client.login("helpmod")
    response = client.submit(
        "/moderation/act", {"action": "hide", "post": [world["help"].id, opening.id]}
    )
    assert response.status_code == 404
    db.session.refresh(world["help"])
    assert world["help"].hidden_at is None


def test_hide_from_the_queue(client, world):
    post = world["help"]
    client.login("helpmod")
    response = client.submit(
        "/moderation/act",
        {"action": "hide", "post": post.id, "reason": "Advertising", "next": "/moderation/?page=1"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/moderation/?page=1")
    db.session.refresh(post)
    assert post.hidden_at is not None
    assert post.held_reason == "Advertising"
    [flag] = db.session.scalars(select(Flag).where(Flag.post_id == post.id)).all()
    assert (flag.resolution, flag.resolved_by_id) == ("hidden", user("helpmod").id)
    assert flag.resolved_at is not None
    assert "post.hide" in audited()
    assert "1 post hidden." in client.get("/moderation/").get_data(as_text=True)


def test_bulk_hide(client, world, create_post):
    author, ann = user("author"), user("ann")
    topic = world["help"].topic
    more = [create_post(author, topic, f"More spam {n}") for n in range(3)]
    for post in more:
        flags.add_flag(ann, post, "spam")
    client.login("globalmod")
    ids = [world["help"].id, world["news"].id, *(p.id for p in more)]
    response = client.submit("/moderation/act", {"action": "hide", "post": ids})
    assert response.status_code == 302
    for post in [world["help"], world["news"], *more]:
        db.session.refresh(post)
        assert post.hidden_at is not None
        assert not open_flags(post)
    assert audited().count("post.hide") == 5
    assert "5 posts hidden." in client.get("/moderation/").get_data(as_text=True)


def test_select_all_on_the_page_without_javascript(client, world):
    client.login("globalmod")
    response = client.submit(
        "/moderation/act",
        {"action": "keep", "all_on_page": "1", "page_post": [world["help"].id, world["news"].id]},
    )
    assert response.status_code == 302
    assert not open_flags(world["help"]) and not open_flags(world["news"])


def test_keep_dismisses_flags_and_brings_back_hidden_posts(client, world):
    from community.topics.services import hide_post

    hidden = world["news"]
    hide_post(None, hidden, "Flagged")
    client.login("globalmod")
    client.submit("/moderation/act", {"action": "keep", "post": [world["help"].id, hidden.id]})
    db.session.refresh(hidden)
    assert hidden.hidden_at is None and hidden.held_at is None
    resolutions = set(db.session.scalars(select(Flag.resolution)))
    assert resolutions == {"kept"}
    assert "flags.dismiss" in audited()
    assert "post.unhide" in audited()
    page = client.get("/moderation/").get_data(as_text=True)
    assert "No flagged posts" in page


def test_delete_from_the_queue(client, world):
    client.login("helpmod")
    client.submit("/moderation/act", {"action": "delete", "post": world["help"].id})
    db.session.refresh(world["help"])
    assert world["help"].deleted_at is not None
    assert not open_flags(world["help"])
    assert "post.delete" in audited()


def test_warn_and_suspend_the_author(client, world):
    from community_moderation.models import Sanction

    client.login("globalmod")
    response = client.submit("/moderation/act", {"action": "warn", "post": world["help"].id})
    assert response.status_code == 400
    assert "Write the warning" in response.get_data(as_text=True)

    response = client.submit(
        "/moderation/act",
        {"action": "warn", "post": [world["help"].id, world["news"].id], "reason": "No ads"},
    )
    assert response.status_code == 302
    warnings = db.session.scalars(select(Sanction).where(Sanction.kind == "warning")).all()
    assert len(warnings) == 1  # one author, warned once

    response = client.submit(
        "/moderation/act",
        {"action": "suspend", "post": world["help"].id, "reason": "Spam", "duration": "99y"},
    )
    assert response.status_code == 400
    response = client.submit(
        "/moderation/act",
        {"action": "suspend", "post": world["help"].id, "reason": "Spam", "duration": "7d"},
    )
    assert response.status_code == 302
    assert not user("author").active
    assert any(a.startswith(("sanction.", "user.suspend")) for a in audited())


def test_space_moderators_cannot_sanction_moderators(client, world):
    client.login("helpmod")
    post = world["help"]
    post.author_id = user("newsmod").id  # a post by another moderator
    db.session.commit()
    response = client.submit(
        "/moderation/act", {"action": "warn", "post": post.id, "reason": "Careful"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "explode", "post": "1"}, "Choose what to do"),
        ({"post": "1"}, "Choose what to do"),
        ({"action": "hide"}, "Choose at least one post"),
        ({"action": "hide", "post": "abc"}, "not valid"),
        ({"action": "hide", "post": "-3"}, "not valid"),
        ({"action": "hide", "post": "99999999999999999999"}, "not valid"),
        ({"action": "hide", "post": "1", "reason": "x" * 600}, "at most 500"),
        ({"action": "suspend", "post": "1", "reason": "Spam"}, "how long"),
    ],
)
def test_bad_input_is_a_400_with_a_message(client, world, data, message):
    client.login("globalmod")
    if data.get("post") == "1":
        data = {**data, "post": str(world["help"].id)}
    response = client.submit("/moderation/act", {**data, "next": "/moderation/?tab=flagged"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "Help spam" in page  # the queue is shown again
    for post in world.values():
        db.session.refresh(post)
        assert post.hidden_at is None and post.deleted_at is None


def test_typed_reason_is_kept_on_error(client, world):
    client.login("globalmod")
    response = client.submit(
        "/moderation/act",
        {"action": "suspend", "post": world["help"].id, "reason": "Keep me", "source": "row"},
    )
    assert response.status_code == 400
    assert 'value="Keep me"' in response.get_data(as_text=True)


def test_next_stays_in_the_queue(client, world):
    client.login("globalmod")
    for evil in ("https://evil.example/", "//evil.example/moderation/", "/admin/"):
        response = client.submit(
            "/moderation/act", {"action": "keep", "post": world["help"].id, "next": evil}
        )
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/moderation/")


def test_the_queue_needs_csrf(client, world):
    client.login("globalmod")
    response = client.post("/moderation/act", data={"action": "hide", "post": world["help"].id})
    assert response.status_code == 400
    db.session.refresh(world["help"])
    assert world["help"].hidden_at is None


def test_queue_shows_flag_details_and_counts(client, world, create_user):
    bob = create_user("bob")
    flags.add_flag(bob, world["news"], "abusive")
    client.login("globalmod")
    page = client.get("/moderation/").get_data(as_text=True)
    assert "2 members flagged it" in page
    assert "Rude or abusive: 1" in page
    assert "Something else: 1" in page
    assert "Advertises a shop" in page
    # The heavier post comes first.
    assert page.index("News spam") < page.index("Help spam")
    assert 'aria-label="Select post by author"' in page
    assert "Select all on this page" in page


def test_queue_is_paginated(client, world, create_post):
    author, ann = user("author"), user("ann")
    for n in range(26):
        flags.add_flag(ann, create_post(author, world["help"].topic, f"Spam number {n}"), "spam")
    client.login("helpmod")
    first = client.get("/moderation/").get_data(as_text=True)
    assert first.count('class="mod-item ') == 25
    assert 'rel="next"' in first
    second = client.get("/moderation/?page=2").get_data(as_text=True)
    assert second.count('class="mod-item ') == 2
    assert client.get("/moderation/?page=3").status_code == 404


def test_queue_queries_do_not_grow_with_items(client, world, count_queries, create_post):
    author = user("author")
    client.login("globalmod")
    client.get("/moderation/")
    with count_queries() as few:
        client.get("/moderation/")
    for n in range(6):
        post = create_post(author, world["help"].topic, f"Spam number {n}")
        flags.add_flag(user("ann"), post, "spam")
        flags.add_flag(user("member"), post, "other", "Again")
    with count_queries() as many:
        assert client.get("/moderation/").status_code == 200
    assert len(many) == len(few), many.statements


def test_nav_link_for_moderators(client, world):
    client.login("helpmod")
    page = client.get("/").get_data(as_text=True)
    assert "Moderation (1)" in page
    assert 'href="/moderation/"' in page
