"""Moderators move topics between spaces and merge duplicates; ideas change status."""

import pytest
from sqlalchemy import func, select

from community.errors import Refused
from community.extensions import db
from community.permissions import can
from community.spaces.models import Space
from community.topics import services
from community.topics.models import Post, Topic, Vote
from community.topics.recount import recount_all
from tests.plugins import recorder


@pytest.fixture
def app_config():
    return {"PLUGINS": ["tests.plugins.recorder"]}


@pytest.fixture(autouse=True)
def _clear_calls():
    recorder.calls.clear()


@pytest.fixture
def forum(create_user, create_space, create_topic, create_post):
    """Two public spaces moderated by `mod`, a third one by `othermod` only, and a question
    with two answers and a comment in the first space."""
    users = {
        name: create_user(name) for name in ("asker", "helper", "other", "voter", "mod", "othermod")
    }
    users["staffer"] = create_user("staffer", staff=True)
    routers = create_space("routers", moderators=[users["mod"]])
    switches = create_space("switches", moderators=[users["mod"]])
    lounge = create_space("lounge", moderators=[users["othermod"]])
    topic = create_topic(users["asker"], routers, title="Router keeps rebooting at night")
    answer = create_post(users["helper"], topic, "Update the firmware.")
    create_post(users["other"], topic, "Check the power supply.")
    create_post(users["asker"], topic, "Which firmware?", parent=answer)
    return {
        **users,
        "routers": routers,
        "switches": switches,
        "lounge": lounge,
        "topic": topic,
        "answer": answer,
    }


def opening(topic):
    return db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.is_opening))


def counters():
    """Every denormalized counter, to compare what services kept with a recount."""
    db.session.expire_all()
    return {
        "spaces": sorted(
            db.session.execute(select(Space.id, Space.topic_count, Space.post_count)).all()
        ),
        "topics": sorted(
            db.session.execute(select(Topic.id, Topic.reply_count, Topic.score)).all()
        ),
        "posts": sorted(
            db.session.execute(select(Post.id, Post.score, Post.upvotes, Post.downvotes)).all()
        ),
    }


def assert_counters_match_a_recount():
    kept = counters()
    recount_all()
    assert kept == counters()


def topic_url(topic):
    return f"/t/{topic.id}/{topic.slug}"


def events(name):
    return [call for event, call in recorder.calls if event == name]


# --- moving a topic --------------------------------------------------------------------------


def test_move_changes_space_and_counters_and_fires_after_commit(forum):
    topic = forum["topic"]
    services.move_topic(forum["mod"], topic, forum["switches"])
    db.session.expire_all()
    assert topic.space_id == forum["switches"].id
    assert (forum["routers"].topic_count, forum["routers"].post_count) == (0, 0)
    assert (forum["switches"].topic_count, forum["switches"].post_count) == (1, 3)
    assert_counters_match_a_recount()
    assert events("topic_moved") == [
        {
            "topic": topic.id,
            "actor": "mod",
            "previous_space": forum["routers"].id,
            "space": forum["switches"].id,
            "committed_space": forum["switches"].id,
        }
    ]


def test_moving_a_deleted_topic_leaves_counters_right(forum):
    services.delete_post(forum["mod"], opening(forum["topic"]))
    services.move_topic(forum["mod"], forum["topic"], forum["switches"])
    assert_counters_match_a_recount()
    services.restore_post(forum["mod"], opening(forum["topic"]))
    db.session.expire_all()
    assert (forum["switches"].topic_count, forum["switches"].post_count) == (1, 3)
    assert_counters_match_a_recount()


def test_move_needs_a_moderator_of_both_spaces(forum):
    for actor, space in [
        (forum["helper"], forum["switches"]),
        (forum["othermod"], forum["lounge"]),
        (forum["mod"], forum["lounge"]),
    ]:
        with pytest.raises(Refused, match="moderators of both spaces"):
            services.move_topic(actor, forum["topic"], space)
    with pytest.raises(Refused, match="already in this space"):
        services.move_topic(forum["mod"], forum["topic"], forum["routers"])
    db.session.expire_all()
    assert forum["topic"].space_id == forum["routers"].id
    assert events("topic_moved") == []


def test_moderator_moves_a_topic_with_the_form(client, forum):
    topic = forum["topic"]
    client.login("mod")
    page = client.get(topic_url(topic)).get_data(as_text=True)
    assert f'action="/t/{topic.id}/move"' in page
    assert f'<option value="{forum["switches"].id}">Switches</option>' in page
    assert f'value="{forum["routers"].id}"' not in page  # where it is already
    assert f'value="{forum["lounge"].id}"' not in page  # not theirs to moderate
    response = client.submit(f"/t/{topic.id}/move", {"space_id": forum["switches"].id})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The topic was moved to Switches." in page
    assert topic.title in client.get("/s/switches").get_data(as_text=True)
    assert topic.title not in client.get("/s/routers").get_data(as_text=True)
    assert events("topic_moved")[0]["committed_space"] == forum["switches"].id


def test_members_see_no_move_form_and_cannot_move(client, forum):
    topic = forum["topic"]
    client.login("helper")
    page = client.get(topic_url(topic)).get_data(as_text=True)
    assert "/move" not in page and "/merge" not in page
    response = client.submit(f"/t/{topic.id}/move", {"space_id": forum["switches"].id})
    assert response.status_code == 403
    db.session.expire_all()
    assert topic.space_id == forum["routers"].id


@pytest.mark.parametrize("space_id", ["lounge", "99999", "abc", "", None])
def test_bad_move_input_is_a_400(client, forum, space_id):
    client.login("mod")
    data = {} if space_id is None else {"space_id": space_id}
    if space_id == "lounge":
        data["space_id"] = forum["lounge"].id  # a space the moderator does not moderate
    response = client.submit(f"/t/{forum['topic'].id}/move", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Not a valid choice" in page or "Invalid Choice" in page
    db.session.expire_all()
    assert forum["topic"].space_id == forum["routers"].id


# --- merging duplicates ----------------------------------------------------------------------


@pytest.fixture
def duplicate(forum, create_topic, create_post):
    """A second question about the same thing, in the other space, with an answer, a
    comment and votes on its opening post (one voter voted on both openings)."""
    source = create_topic(forum["other"], forum["switches"], title="My router reboots at night")
    answer = create_post(forum["helper"], source, "Same here, the firmware fixed it.")
    create_post(forum["voter"], source, "Which version?", parent=answer)
    target_opening = opening(forum["topic"])
    services.cast_vote(forum["voter"], target_opening, 1)
    services.cast_vote(forum["voter"], opening(source), -1)  # voted on both: dropped
    services.cast_vote(forum["helper"], opening(source), 1)  # moves to the target
    services.cast_vote(forum["asker"], opening(source), 1)  # wrote the target: dropped
    services.cast_vote(forum["mod"], opening(source), -1)  # moves to the target
    recorder.calls.clear()
    return source


def test_merge_moves_posts_and_votes_and_keeps_counters(forum, duplicate):
    target, source = forum["topic"], duplicate
    source_opening, target_opening = opening(source), opening(target)
    services.merge_topic(forum["mod"], source, target)
    db.session.expire_all()

    assert source.merged_into_id == target.id and source.deleted_at is not None
    assert db.session.scalar(select(func.count()).where(Post.topic_id == source.id)) == 0
    assert source_opening.topic_id == target.id and not source_opening.is_opening
    assert source_opening.author_id == forum["other"].id
    assert source_opening.body_source == "Some details about it."
    assert opening(target).id == target_opening.id
    assert target.reply_count == 4  # two answers, the other answer and the old opening post

    votes = db.session.execute(
        select(Vote.user_id, Vote.value).where(Vote.post_id == target_opening.id)
    ).all()
    assert sorted(votes) == sorted(
        [(forum["voter"].id, 1), (forum["helper"].id, 1), (forum["mod"].id, -1)]
    )
    assert db.session.scalar(select(func.count()).where(Vote.post_id == source_opening.id)) == 0
    assert (target_opening.score, target_opening.upvotes, target_opening.downvotes) == (1, 2, 1)
    assert target.score == 1 and source.score == 0 and source.reply_count == 0
    assert (forum["switches"].topic_count, forum["switches"].post_count) == (0, 0)
    assert (forum["routers"].topic_count, forum["routers"].post_count) == (1, 5)
    assert_counters_match_a_recount()

    assert events("topic_merged") == [
        {"source": source.id, "target": target.id, "actor": "mod", "committed_into": target.id}
    ]


def test_merged_topic_is_hidden_and_its_address_leads_to_the_target(client, forum, duplicate):
    services.merge_topic(forum["mod"], duplicate, forum["topic"])
    response = client.get(topic_url(duplicate))
    assert response.status_code in (301, 302)
    assert response.headers["Location"].endswith(topic_url(forum["topic"]))
    page = client.get(topic_url(forum["topic"])).get_data(as_text=True)
    assert "Same here, the firmware fixed it." in page
    assert "Which version?" in page
    for url in ("/", "/s/switches", "/u/other"):
        assert duplicate.title not in client.get(url).get_data(as_text=True)
    # Nothing can be done any more to the merged topic itself.
    client.login("mod")
    assert client.submit(f"/t/{duplicate.id}/reply", {"body": "Hello?"}).status_code == 404
    assert client.submit(f"/t/{duplicate.id}/pin").status_code == 404


def test_no_redirect_into_a_space_the_visitor_may_not_see(client, forum, duplicate, create_space):
    staff_space = create_space("internal", visibility="staff", moderators=[forum["mod"]])
    services.move_topic(forum["mod"], forum["topic"], staff_space)
    services.merge_topic(forum["mod"], duplicate, forum["topic"])
    client.login("helper")
    assert client.get(topic_url(duplicate)).status_code == 404
    client.logout()
    client.login("staffer")
    assert client.get(topic_url(duplicate)).status_code in (301, 302)


def test_no_redirect_from_a_space_the_visitor_may_not_see(
    client, forum, create_space, create_topic
):
    members = create_space("members-only", visibility="members", moderators=[forum["mod"]])
    source = create_topic(forum["other"], members, title="Router reboots every single night")
    services.merge_topic(forum["mod"], source, forum["topic"])
    assert client.get(topic_url(source)).status_code == 404
    client.login("helper")
    assert client.get(topic_url(source)).status_code in (301, 302)


def test_topics_merged_into_a_merged_topic_lead_to_the_last_one(client, forum, create_topic):
    first = create_topic(forum["other"], forum["routers"], title="Router reboots: first copy")
    second = create_topic(forum["other"], forum["routers"], title="Router reboots: second copy")
    services.merge_topic(forum["mod"], first, second)
    services.merge_topic(forum["mod"], second, forum["topic"])
    db.session.expire_all()
    assert first.merged_into_id == forum["topic"].id
    assert client.get(topic_url(first)).headers["Location"].endswith(topic_url(forum["topic"]))
    assert_counters_match_a_recount()


def test_merge_refusals_say_why(forum, duplicate, create_topic):
    mod, target = forum["mod"], forum["topic"]
    idea = create_topic(forum["other"], forum["routers"], kind="idea", title="Reboot less often")
    gone = create_topic(forum["other"], forum["routers"], title="A question deleted later on")
    services.delete_post(forum["mod"], opening(gone))
    merged = create_topic(forum["other"], forum["routers"], title="A question merged already")
    services.merge_topic(mod, merged, target)
    cases = [
        (duplicate, duplicate, "cannot be merged into itself"),
        (duplicate, merged, "was itself merged into another one"),
        (duplicate, gone, "That topic is deleted"),
        (gone, target, "A deleted topic cannot be merged"),
        (duplicate, idea, "Only topics of the same kind"),
    ]
    for source, into, message in cases:
        with pytest.raises(Refused, match=message):
            services.merge_topic(mod, source, into)
    with pytest.raises(Refused, match="Only moderators"):
        services.merge_topic(forum["helper"], duplicate, target)
    db.session.expire_all()
    assert duplicate.merged_into_id is None and duplicate.deleted_at is None
    assert len(events("topic_merged")) == 1


def test_moderator_merges_with_the_form_by_number_or_address(client, forum, duplicate):
    target = forum["topic"]
    client.login("mod")
    page = client.get(topic_url(duplicate)).get_data(as_text=True)
    assert f'action="/t/{duplicate.id}/merge"' in page
    address = f"http://community.test/t/{target.id}/{target.slug}?page=1"
    response = client.submit(f"/t/{duplicate.id}/merge", {"target": address})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(topic_url(target))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The topic was merged into this one." in page
    assert events("topic_merged")[0]["committed_into"] == target.id


def test_merge_by_number(client, forum, duplicate):
    client.login("mod")
    response = client.submit(f"/t/{duplicate.id}/merge", {"target": f" #{forum['topic'].id} "})
    assert response.status_code == 302
    db.session.expire_all()
    assert duplicate.merged_into_id == forum["topic"].id


@pytest.mark.parametrize(
    "target,message",
    [
        ("", "This field is required"),
        ("garbage", "There is no topic with that number or address."),
        ("/t/abc", "There is no topic with that number or address."),
        ("99999", "There is no topic with that number or address."),
        ("9" * 10, "There is no topic with that number or address."),
        ("9" * 40, "There is no topic with that number or address."),
        ("self", "cannot be merged into itself"),
        ("lounge", "Only moderators of both spaces"),
    ],
)
def test_bad_merge_input_is_a_400_with_the_reason(
    client, forum, duplicate, create_topic, target, message
):
    if target == "self":
        target = str(duplicate.id)
    elif target == "lounge":
        target = str(create_topic(forum["other"], forum["lounge"]).id)
    client.login("mod")
    response = client.submit(f"/t/{duplicate.id}/merge", {"target": target})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert duplicate.merged_into_id is None


def test_merging_into_a_topic_in_a_hidden_space_finds_nothing(
    client, forum, duplicate, create_space, create_topic
):
    hidden = create_space("internal", visibility="staff")
    secret = create_topic(forum["staffer"], hidden, title="An internal question here")
    client.login("mod")
    response = client.submit(f"/t/{duplicate.id}/merge", {"target": str(secret.id)})
    assert response.status_code == 400
    assert "There is no topic with that number or address." in response.get_data(as_text=True)


def test_members_cannot_merge(client, forum, duplicate):
    client.login("helper")
    response = client.submit(f"/t/{duplicate.id}/merge", {"target": str(forum["topic"].id)})
    assert response.status_code == 403
    client.logout()
    response = client.submit(f"/t/{duplicate.id}/merge", {"target": str(forum["topic"].id)})
    assert response.status_code == 302  # to the sign-in page
    db.session.expire_all()
    assert duplicate.merged_into_id is None
    assert events("topic_merged") == []


def test_merge_needs_the_csrf_token(client, forum, duplicate):
    client.login("mod")
    response = client.post(f"/t/{duplicate.id}/merge", data={"target": str(forum["topic"].id)})
    assert response.status_code == 400
    db.session.expire_all()
    assert duplicate.merged_into_id is None


# --- idea status -----------------------------------------------------------------------------


@pytest.fixture
def idea(forum, create_topic):
    return create_topic(forum["asker"], forum["routers"], kind="idea", title="Schedule reboots")


@pytest.mark.parametrize("who", ["staffer", "mod"])
def test_staff_and_space_moderators_change_an_idea_status(forum, idea, who):
    services.set_idea_status(forum[who], idea, "under_review", note="We **look** at it")
    services.set_idea_status(forum[who], idea, "under_review")  # unchanged: no event
    db.session.expire_all()
    assert idea.status == "under_review"
    assert events("idea_status_changed") == [
        {
            "topic": idea.id,
            "actor": who,
            "status": "under_review",
            "previous": "new",
            "note": "We **look** at it",
            "committed_status": "under_review",
        }
    ]


def test_idea_status_refusals(forum, idea):
    for actor in (forum["asker"], forum["helper"], forum["othermod"]):
        assert not can("topic.set_status", idea, actor)
        with pytest.raises(Refused, match="Only staff or moderators"):
            services.set_idea_status(actor, idea, "planned")
    for status in ("Planned", "in progress", "1st", "", "x" * 33, "planned\n", None):
        with pytest.raises(Refused, match="lowercase word"):
            services.set_idea_status(forum["mod"], idea, status)
    with pytest.raises(Refused, match="Only ideas have a status"):
        services.set_idea_status(forum["mod"], forum["topic"], "planned")
    db.session.expire_all()
    assert idea.status == "new" and forum["topic"].status is None
    assert events("idea_status_changed") == []


def test_merge_never_dates_the_first_answer_before_the_topic(
    app, create_user, create_space, create_topic, create_post
):
    mod = create_user("mergemod")
    space = create_space("mergers", moderators=[mod])
    older = create_topic(create_user("alice"), space, title="The older duplicate question")
    older_answer = create_post(create_user("carol"), older, "An old answer")
    newer = create_topic(create_user("bob"), space, title="The newer kept question")
    assert older_answer.created_at < newer.created_at
    services.merge_topic(mod, older, newer)
    db.session.expire_all()
    kept = db.session.get(Topic, newer.id)
    assert kept.first_answer_at is None or kept.first_answer_at >= kept.created_at
