import pytest

from community.extensions import db
from community.hookspecs import hookimpl
from community.plugins import SLOTS, plugin_manager, render_slot
from community.topics import services
from community.topics.queries import opening_post
from tests.plugins import recorder


@pytest.fixture
def app_config():
    return {"PLUGINS": ["tests.plugins.recorder", "tests.plugins.broken"]}


@pytest.fixture(autouse=True)
def _clear_calls():
    recorder.calls.clear()


def names():
    """The events recorded, without the audit announcements that follow moderators' actions
    (tests/test_moderation_core.py checks those)."""
    return [name for name, _ in recorder.calls if name != "audited"]


def test_events_fire_after_commit(create_user, create_space, create_topic, create_post):
    asker, helper = create_user("asker"), create_user("helper")
    moderator = create_user("mod", role="moderator")
    space = create_space()
    topic = create_topic(asker, space)
    answer = create_post(helper, topic)
    assert dict(recorder.calls)["topic_created"]["committed"]
    assert dict(recorder.calls)["post_created"]["committed"]
    assert dict(recorder.calls)["user_registered"]["committed"]

    services.cast_vote(asker, answer, 1)
    services.cast_vote(asker, answer, -1)
    services.cast_vote(asker, answer, -1)
    services.accept_answer(asker, answer)
    services.unaccept_answer(asker, topic)
    services.edit_post(helper, answer, "A better answer.")
    services.delete_post(helper, answer)
    services.restore_post(moderator, answer)
    assert names()[-8:] == [
        "vote_cast",
        "vote_cast",
        "vote_retracted",
        "answer_accepted",
        "answer_unaccepted",
        "post_edited",
        "post_deleted",
        "post_restored",
    ]
    vote_calls = [c for n, c in recorder.calls if n == "vote_cast"]
    assert vote_calls == [
        {"post": answer.id, "value": 1, "previous": None},
        {"post": answer.id, "value": -1, "previous": 1},
    ]
    assert (
        "post_edited",
        {"post": answer.id, "previous": "Try turning it off and on again."},
    ) in recorder.calls


def test_changing_a_topics_tags_is_an_event_of_its_own(create_user, create_space, create_topic):
    asker = create_user("asker")
    topic = create_topic(asker, create_space(), tags="wifi, vpn")
    opening = opening_post(topic)
    body = opening.body_source
    # Only the tags change: no post_edited, but topic_retagged.
    services.edit_post(asker, opening, body, tags="wifi, mesh")
    assert names()[-1:] == ["topic_retagged"]
    assert recorder.calls[-1][1] == {
        "topic": topic.id,
        "previous": ["vpn", "wifi"],
        "now": ["mesh", "wifi"],
    }
    # Text and tags: post_edited, then topic_retagged.
    services.edit_post(asker, opening, body + " More.", tags="mesh")
    assert names()[-2:] == ["post_edited", "topic_retagged"]
    # The same tags in another order, and only the text: no topic_retagged.
    recorder.calls.clear()
    services.edit_post(asker, opening, body + " Even more.", tags="mesh")
    services.edit_post(asker, opening, body + " Even more.", tags="mesh")
    assert names() == ["post_edited"]


def test_a_plugin_names_idea_statuses(client, create_user, create_space, create_topic):
    from community.notifications import service as notifications
    from community.notifications.models import Notification

    staff, voter = create_user("boss", staff=True), create_user("voter")
    idea = create_topic(voter, create_space("ideas"), kind="idea", title="A dark mode please")
    services.set_idea_status(staff, idea, "recording")
    page = client.get("/s/ideas").get_data(as_text=True)
    assert "Being recorded" in page and "Recording" not in page
    services.set_idea_status(staff, idea, "planned")  # not named by the plugin: core's name
    assert "Planned" in client.get("/s/ideas").get_data(as_text=True)
    note = Notification(kind="idea_status", topic=idea, data={"status": "recording"})
    assert notifications.describe(note).endswith("is now: Being recorded")


def test_a_duplicate_ideas_votes_and_followers_move_and_it_stays_readable(
    client, create_user, create_space, create_topic
):
    from community.notifications.service import is_following

    staff = create_user("boss", staff=True)
    ann, bob, cid = create_user("ann"), create_user("bob"), create_user("cid")
    space = create_space("ideas")
    original = create_topic(ann, space, kind="idea", title="Export my data as CSV")
    duplicate = create_topic(bob, space, kind="idea", title="A CSV export of my data")
    services.cast_vote(cid, opening_post(original), 1)
    services.cast_vote(cid, opening_post(duplicate), 1)  # voted both: counts once
    services.cast_vote(ann, opening_post(duplicate), 1)  # the original's author: not twice
    services.cast_vote(staff, opening_post(duplicate), 1)
    with pytest.raises(services.Refused):
        services.transfer_idea_votes(cid, duplicate, original)  # members may not
    assert services.transfer_idea_votes(staff, duplicate, original) == 1
    db.session.expire_all()
    assert (original.score, duplicate.score) == (2, 0)
    assert is_following(staff, "topic", original.id)  # voting followed the duplicate
    assert is_following(bob, "topic", original.id)  # its author followed it
    assert names()[-1] == "idea_votes_moved"
    page = client.get(f"/t/{duplicate.id}/{duplicate.slug}")
    assert page.status_code == 200 and "A CSV export of my data" in page.get_data(as_text=True)


def test_a_raising_listener_does_not_stop_others_or_the_request(client, create_user, create_space):
    create_user("asker")
    create_space("routers")
    client.login("asker")
    response = client.submit(
        "/s/routers/new",
        {"kind": "question", "title": "Why is my router blinking?", "body": "It blinks red."},
    )
    assert response.status_code == 302
    # The broken plugin raised in the same event; the recorder still heard it.
    assert "topic_created" in names()
    assert "Why is my router blinking?" in client.get("/s/routers").get_data(as_text=True)


def test_a_raising_slot_renders_nothing_and_page_still_works(client, create_space):
    create_space("routers")
    assert render_slot("home.sidebar") == ""
    assert client.get("/").status_code == 200


def test_unknown_slot_name_raises(app):
    with pytest.raises(LookupError):
        render_slot("no.such.slot")
    assert "topic.sidebar" in SLOTS


def test_core_permission_answer_comes_last(app):
    impls = plugin_manager().hook.community_permission.get_hookimpls()
    assert impls[0].plugin_name == "community.permissions"
    assert impls[0].trylast


def test_app_created_is_historic(app):
    seen = []

    class LatePlugin:
        @hookimpl
        def community_app_created(self, app):
            seen.append(app)

    # A plugin registered after the app was created still gets the call.
    plugin_manager().register(LatePlugin(), name="late")
    assert seen == [app]


def test_permission_hook_lets_a_plugin_deny_first(client, create_user, create_space, create_topic):
    create_user("muted")
    topic = create_topic(create_user("asker"), create_space("routers"))
    client.login("muted")
    response = client.submit(f"/t/{topic.id}/reply", {"body": "Let me in"})
    assert response.status_code == 400
    db.session.refresh(topic)
    assert topic.reply_count == 0
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert "Recorded topic" in page
