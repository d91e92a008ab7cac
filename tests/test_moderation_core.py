"""Core's moderation services and hooks that plugins build on: hiding a published post,
splitting a topic, suspending accounts, the registration gate, trust levels, shared rate
limits and the audit announcements of every moderator's and admin's action."""

import pytest
from sqlalchemy import select

from community.accounts import services as account_services
from community.extensions import db
from community.plugins import hit_rate_limit, trust_levels
from community.spaces.models import Space
from community.topics import services
from community.topics.models import Post, Topic
from tests.plugins import gatekeeper, recorder


@pytest.fixture
def app_config():
    return {"PLUGINS": ["tests.plugins.recorder", "tests.plugins.gatekeeper"]}


@pytest.fixture(autouse=True)
def _clear_calls():
    recorder.calls.clear()
    gatekeeper.refusals.clear()


@pytest.fixture
def thread(create_user, create_space, create_topic, create_post):
    asker, helper = create_user("asker"), create_user("helper")
    mod = create_user("spacemod")
    space = create_space("routers", moderators=[mod])
    topic = create_topic(asker, space, title="The router restarts every night")
    answer = create_post(helper, topic, "Update the firmware, it fixed it for me.")
    return {
        "asker": asker,
        "helper": helper,
        "mod": mod,
        "space": space,
        "topic": topic,
        "answer": answer,
    }


def audits(action=None):
    return [
        c for n, c in recorder.calls if n == "audited" and (action is None or c["action"] == action)
    ]


def counts(topic):
    db.session.expire_all()
    topic = db.session.get(Topic, topic.id)
    space = db.session.get(Space, topic.space_id)
    return topic.reply_count, space.topic_count, space.post_count


def test_hiding_an_answer_takes_it_out_of_view_and_counts_until_it_comes_back(client, thread):
    topic, answer, mod = thread["topic"], thread["answer"], thread["mod"]
    assert counts(topic) == (1, 1, 2)

    assert services.hide_post(mod, answer, "Advertising") is True
    assert counts(topic) == (0, 1, 1)
    assert services.hide_post(mod, answer, "again") is False  # already hidden: nothing changes
    assert counts(topic) == (0, 1, 1)
    hidden = [c for n, c in recorder.calls if n == "post_hidden"]
    assert hidden == [
        {"post": answer.id, "actor": "spacemod", "reason": "Advertising", "committed": True}
    ]
    assert audits("post.hide")[0]["before"] == {"visible": True}
    assert audits("post.hide")[0]["after"] == {"visible": False}

    url = f"/t/{topic.id}/{topic.slug}"
    assert "Update the firmware" not in client.get(url).get_data(as_text=True)
    client.login("helper")
    page = client.get(url).get_data(as_text=True)
    assert "Update the firmware" in page and "Reason: Advertising" in page
    client.logout()

    recorder.calls.clear()
    services.release_post(mod, db.session.get(Post, answer.id))
    assert counts(topic) == (1, 1, 2)
    # It comes back: no "new post" event for it, and it is not waiting any more.
    assert [n for n, _ in recorder.calls] == ["post_unhidden", "audited"]
    assert audits()[0]["action"] == "post.unhide"
    post = db.session.get(Post, answer.id)
    assert post.held_at is None and post.hidden_at is None and post.held_reason is None
    assert "Update the firmware" in client.get(url).get_data(as_text=True)


def test_hiding_the_opening_post_hides_the_topic(client, thread):
    topic, mod = thread["topic"], thread["mod"]
    opening = db.session.scalars(
        select(Post).where(Post.topic_id == topic.id, Post.is_opening)
    ).one()
    services.hide_post(None, opening, "Flagged by members")
    assert counts(topic) == (1, 0, 0)
    assert client.get(f"/t/{topic.id}").status_code == 404
    assert "The router restarts" not in client.get("/s/routers").get_data(as_text=True)
    assert audits("post.hide")[0]["actor"] is None  # a plugin's rule, not a person
    services.release_post(mod, db.session.get(Post, opening.id))
    assert counts(topic) == (1, 1, 2)
    assert client.get(f"/t/{topic.id}/{topic.slug}").status_code == 200


def test_only_moderators_of_the_space_may_hide(client, thread, create_user):
    answer = thread["answer"]
    create_user("member")
    client.login("member")
    assert client.submit(f"/p/{answer.id}/hide", {"reason": "no"}).status_code == 403
    assert db.session.get(Post, answer.id).hidden_at is None
    client.logout()
    client.login("spacemod")
    assert client.submit(f"/p/{answer.id}/hide", {"reason": "Spam link"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, answer.id).held_reason == "Spam link"


def test_a_moderator_splits_replies_into_a_new_topic(client, thread, create_post, create_user):
    topic, answer = thread["topic"], thread["answer"]
    other = create_user("other")
    off_topic = create_post(other, topic, "Unrelated: how do I change the wifi name?")
    create_post(thread["asker"], off_topic.topic, "Thanks!", parent=off_topic)
    client.login("spacemod")
    page = client.get(f"/t/{topic.id}/split")
    assert page.status_code == 200 and "Unrelated: how do I change" in page.get_data(as_text=True)

    # Bad input keeps what was typed and says why.
    response = client.submit(f"/t/{topic.id}/split", {"title": "Changing the wifi name"})
    assert response.status_code == 400
    assert "Choose the replies" in response.get_data(as_text=True)
    assert 'value="Changing the wifi name"' in response.get_data(as_text=True)

    response = client.submit(
        f"/t/{topic.id}/split", {"title": "Changing the wifi name", "posts": [str(off_topic.id)]}
    )
    assert response.status_code == 302
    db.session.expire_all()
    new = db.session.scalars(select(Topic).where(Topic.title == "Changing the wifi name")).one()
    moved = db.session.get(Post, off_topic.id)
    assert (moved.topic_id, moved.is_opening, new.author_id) == (new.id, True, other.id)
    comments = db.session.scalars(select(Post).where(Post.parent_id == off_topic.id)).all()
    assert [c.topic_id for c in comments] == [new.id]
    assert counts(topic) == (1, 2, 3)
    assert db.session.get(Post, answer.id).topic_id == topic.id
    split = [c for n, c in recorder.calls if n == "topic_split"]
    assert split == [
        {"source": topic.id, "target": new.id, "posts": [off_topic.id], "committed": True}
    ]
    assert audits("topic.split")[0]["after"]["topic"] == new.id


def test_members_cannot_split(client, thread):
    client.login("helper")
    assert client.get(f"/t/{thread['topic'].id}/split").status_code == 403
    response = client.submit(
        f"/t/{thread['topic'].id}/split",
        {"title": "A new topic here", "posts": [str(thread["answer"].id)]},
    )
    assert response.status_code == 403
    assert db.session.get(Post, thread["answer"].id).topic_id == thread["topic"].id


def test_a_suspension_ends_the_session_and_explains_itself(client, create_user):
    admin, member = create_user("root", role="admin"), create_user("sam")
    client.login("sam")
    assert client.get("/settings").status_code == 200
    assert account_services.suspend_user(member, admin, "Spam wave") is True
    assert account_services.suspend_user(member, admin, "twice") is False
    # The open session is over at the next request.
    assert client.get("/settings").status_code == 302
    response = client.submit("/login", {"login": "sam", "password": "correct horse battery"})
    text = response.get_data(as_text=True)
    assert "This account is suspended. Ask the moderators why, sam." in text
    suspended = [c for n, c in recorder.calls if n == "user_suspended"]
    assert suspended == [
        {"user": "sam", "actor": "root", "reason": "Spam wave", "committed_active": False}
    ]
    assert audits("user.suspend")[0]["reason"] == "Spam wave"
    assert account_services.reinstate_user(member, None) is True
    assert [c for n, c in recorder.calls if n == "user_reinstated"] == [{"user": "sam"}]
    client.login("sam")


def test_the_admin_form_suspends_through_the_same_service(client, create_user):
    create_user("root", role="admin")
    create_user("sam")
    client.login("root")
    sam = account_services.find_user_by_username("sam")
    response = client.submit(f"/admin/users/{sam.id}", {"role": "member"})
    assert response.status_code == 302
    assert [c["action"] for c in audits()] == ["user.suspend"]
    client.submit(f"/admin/users/{sam.id}", {"role": "moderator", "active": "y"})
    assert [c["action"] for c in audits()] == ["user.suspend", "user.role", "user.reinstate"]
    assert audits("user.role")[0]["after"] == {"role": "moderator", "staff": False}


def test_a_plugin_may_refuse_a_registration(client):
    response = client.submit(
        "/register",
        {
            "username": "bot1",
            "email": "bot1@spam.example",
            "password": "correct horse battery",
            "confirm": "correct horse battery",
        },
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Sign-ups from this domain are closed." in text and 'value="bot1"' in text
    assert account_services.find_user_by_username("bot1") is None
    assert gatekeeper.refusals == ["register:bot1:127.0.0.1"]


def test_trust_levels_come_from_plugins(create_user):
    plain, trusted = create_user("plain"), create_user("trusted_tom")
    assert trust_levels([plain, trusted, None]) == {plain.id: 0, trusted.id: 3}


def test_a_rate_limit_counts_per_key_and_says_how_long_to_wait(app):
    app.config["RATELIMIT_ENABLED"] = True
    assert hit_rate_limit("test.write", "2/minute", "user:1") is None
    assert hit_rate_limit("test.write", "2/minute", "user:1") is None
    wait = hit_rate_limit("test.write", "2/minute", "user:1")
    assert wait is not None and 1 <= wait <= 60
    assert hit_rate_limit("test.write", "2/minute", "user:2") is None  # another key
    assert hit_rate_limit("test.other", "2/minute", "user:1") is None  # another name


@pytest.mark.parametrize(
    ("url", "data", "action"),
    [
        (
            "/admin/settings",
            {"site_name": "Router Club", "theme": "default", "default_locale": "en"},
            "settings.edit",
        ),
        (
            "/admin/spaces/new",
            {
                "title": "Modems",
                "slug": "modems",
                "visibility": "public",
                "default_kind": "question",
                "parent_id": "0",
            },
            "space.create",
        ),
    ],
)
def test_admin_actions_are_announced_for_the_audit_log(client, create_user, url, data, action):
    create_user("root", role="admin")
    client.login("root")
    assert client.submit(url, data).status_code == 302
    entry = audits(action)[0]
    assert entry["actor"] == "root"
    assert entry["after"] and entry["after"] != entry["before"]


def test_topic_tools_are_announced_with_before_and_after(thread, create_space):
    topic, mod = thread["topic"], thread["mod"]
    services.edit_post(thread["helper"], thread["answer"], "Firmware 2.2 fixes it.")
    assert audits("post.edit") == []  # authors editing their own posts are not moderation
    services.set_topic_flag(mod, topic, "is_locked", True)
    services.set_topic_flag(mod, topic, "is_locked", True)  # no change, no entry
    services.set_topic_flag(mod, topic, "is_pinned", True)
    assert [(c["action"], c["before"], c["after"]) for c in audits()] == [
        ("topic.lock", {"is_locked": False}, {"is_locked": True}),
        ("topic.pin", {"is_pinned": False}, {"is_pinned": True}),
    ]
    services.edit_post(mod, thread["answer"], "Firmware 2.1 fixes it.")
    edit = audits("post.edit")[0]
    assert edit["before"]["body"] == "Firmware 2.2 fixes it."
    assert edit["after"]["body"] == "Firmware 2.1 fixes it."


def test_a_plugin_can_ask_whether_it_is_enabled(app, enable_plugin):
    from community.plugins import is_enabled
    from community.plugins.services import disable_plugin

    assert is_enabled("recorder") and not is_enabled("thanks")
    enable_plugin("thanks")
    assert is_enabled("thanks")
    disable_plugin("thanks")
    assert not is_enabled("thanks")
