"""Gates that hold a post for review: saved, seen only by its author and moderators, counted
nowhere, published by a moderator."""

import pytest
from sqlalchemy import select

from community.extensions import db
from community.spaces.models import Space
from community.topics import services
from community.topics.models import Post, Topic
from community.topics.recount import recount_all
from tests.plugins import holder


@pytest.fixture
def app_config():
    return {"PLUGINS": ["tests.plugins.holder"]}


@pytest.fixture(autouse=True)
def _clear():
    holder.calls.clear()


@pytest.fixture
def people(create_user, create_space):
    space = create_space("routers", moderators=[create_user("mod")])
    return {
        "space": space,
        "newbie": create_user("newbie1"),
        "member": create_user("member"),
        "other": create_user("other"),
    }


def counters(space_id, topic_id=None):
    db.session.expire_all()
    space = db.session.get(Space, space_id)
    topic = db.session.get(Topic, topic_id) if topic_id else None
    return (space.topic_count, space.post_count, topic.reply_count if topic else None)


def assert_counters_match_a_recount(space_id, topic_id=None):
    before = counters(space_id, topic_id)
    recount_all()
    db.session.commit()
    assert counters(space_id, topic_id) == before


def test_a_held_topic_is_seen_by_its_author_and_moderators_only(client, people):
    client.login("newbie1")
    response = client.submit(
        "/s/routers/new",
        {"kind": "question", "title": "My very first question", "body": "Hello all"},
    )
    assert response.status_code == 302
    topic = db.session.scalars(select(Topic)).one()
    assert topic.held_at is not None
    page = client.get(response.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "waits for a moderator" in page and "Waiting for review" in page
    assert holder.calls == [("held", topic.id)]  # not created yet for the plugins
    client.logout()

    assert "My very first question" not in client.get("/s/routers").get_data(as_text=True)
    assert client.get(f"/t/{topic.id}/{topic.slug}").status_code == 404
    client.login("member")
    assert client.get(f"/t/{topic.id}/{topic.slug}").status_code == 404
    assert "My very first question" not in client.get("/").get_data(as_text=True)
    client.logout()
    assert counters(people["space"].id) == (0, 0, None)
    assert_counters_match_a_recount(people["space"].id)

    client.login("mod")
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert "Publish" in page
    opening = db.session.scalars(select(Post).where(Post.topic_id == topic.id)).one()
    assert client.submit(f"/p/{opening.id}/release").status_code == 302
    assert [name for name, _ in holder.calls] == ["held", "released", "topic_created"]
    client.logout()
    assert "My very first question" in client.get("/s/routers").get_data(as_text=True)
    assert counters(people["space"].id) == (1, 1, None)
    assert_counters_match_a_recount(people["space"].id)


def test_a_held_answer_counts_nowhere_until_released(client, people, create_topic):
    topic = create_topic(people["member"], people["space"])
    answer = services.create_post(people["newbie"], topic, "Have you tried the reset button?")
    assert answer.held_at is not None and "checked by a moderator" in answer.held_reason
    assert counters(people["space"].id, topic.id) == (1, 1, 0)
    assert_counters_match_a_recount(people["space"].id, topic.id)
    assert db.session.get(Topic, topic.id).first_answer_at is None

    url = f"/t/{topic.id}/{topic.slug}"
    assert "reset button" not in client.get(url).get_data(as_text=True)
    client.login("other")
    assert "reset button" not in client.get(url).get_data(as_text=True)
    client.logout()
    client.login("newbie1")
    assert "reset button" in client.get(url).get_data(as_text=True)
    client.logout()

    # Nobody can vote on it, accept it or comment on it while it waits.
    with pytest.raises(services.Refused):
        services.cast_vote(people["other"], answer, 1)
    with pytest.raises(services.Refused):
        services.accept_answer(people["member"], answer)
    with pytest.raises(services.Refused):
        services.create_post(people["other"], topic, "Me too", parent=answer)

    services.release_post(_mod(), answer)
    assert counters(people["space"].id, topic.id) == (1, 2, 1)
    assert db.session.get(Topic, topic.id).first_answer_at is not None
    assert_counters_match_a_recount(people["space"].id, topic.id)
    assert "reset button" in client.get(url).get_data(as_text=True)
    assert holder.calls[-2:] == [("released", answer.id), ("post_created", answer.id)]


def _mod():
    from community.accounts.services import find_user_by_username

    return find_user_by_username("mod")


def test_only_moderators_of_the_space_release_and_releasing_twice_is_harmless(
    client, people, create_topic
):
    topic = create_topic(people["member"], people["space"])
    answer = services.create_post(people["newbie"], topic, "A held answer text")
    for who in ("member", "newbie1"):
        client.login(who)
        assert client.submit(f"/p/{answer.id}/release").status_code in (403, 404)
        client.logout()
    db.session.expire_all()
    assert db.session.get(Post, answer.id).held_at is not None
    assert client.post(f"/p/{answer.id}/release").status_code in (302, 400)  # visitor
    services.release_post(_mod(), answer)
    with pytest.raises(services.Refused):
        services.release_post(_mod(), answer)  # nothing is held any more
    assert counters(people["space"].id, topic.id) == (1, 2, 1)


def test_deleting_a_held_post_leaves_the_counters_alone(people, create_topic):
    topic = create_topic(people["member"], people["space"])
    answer = services.create_post(people["newbie"], topic, "Spam spam spam")
    services.delete_post(_mod(), answer)
    assert counters(people["space"].id, topic.id) == (1, 1, 0)
    services.restore_post(_mod(), answer)
    assert counters(people["space"].id, topic.id) == (1, 1, 0)
    assert_counters_match_a_recount(people["space"].id, topic.id)


def test_an_edit_cannot_be_held(people, create_topic):
    topic = create_topic(people["member"], people["space"])
    answer = services.create_post(people["newbie"], topic, "First text")
    services.release_post(_mod(), answer)
    with pytest.raises(services.Refused, match="review"):
        services.edit_post(people["newbie"], answer, "Changed text")
    db.session.expire_all()
    assert db.session.get(Post, answer.id).body_source == "First text"


def test_releasing_a_reply_in_a_deleted_topic_keeps_the_space_counters_right(people, create_topic):
    topic = create_topic(people["member"], people["space"])
    held = services.create_post(people["newbie"], topic, "Held reply text")
    services.delete_post(_mod(), queries_opening(topic))
    services.release_post(_mod(), db.session.get(Post, held.id))
    assert_counters_match_a_recount(people["space"].id, topic.id)
    services.restore_post(_mod(), queries_opening(topic))
    assert counters(people["space"].id, topic.id) == (1, 2, 1)
    assert_counters_match_a_recount(people["space"].id, topic.id)


def test_deleting_a_reply_in_a_deleted_topic_keeps_the_space_counters_right(
    people, create_topic, create_post
):
    topic = create_topic(people["member"], people["space"])
    reply = create_post(people["other"], topic)
    services.delete_post(_mod(), queries_opening(topic))
    services.delete_post(_mod(), db.session.get(Post, reply.id))
    assert_counters_match_a_recount(people["space"].id, topic.id)
    services.restore_post(_mod(), db.session.get(Post, reply.id))
    assert_counters_match_a_recount(people["space"].id, topic.id)


def test_a_release_racing_a_deletion_publishes_nothing(people, create_topic):
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    topic = create_topic(people["member"], people["space"])
    held = services.create_post(people["newbie"], topic, "Held reply text")
    stale = db.session.get(Post, held.id)  # the releasing moderator's copy: held, not deleted
    with Session(db.engine) as other:  # another moderator deletes it meanwhile
        other.execute(update(Post).where(Post.id == held.id).values(deleted_at=held.created_at))
        other.commit()
    services.release_post(_mod(), stale)
    assert counters(people["space"].id, topic.id) == (1, 1, 0)
    assert_counters_match_a_recount(people["space"].id, topic.id)
    assert ("released", held.id) not in holder.calls


def test_the_author_may_still_correct_a_held_post(people, create_topic):
    topic = create_topic(people["member"], people["space"])
    held = services.create_post(people["newbie"], topic, "Held reply with a tpyo")
    services.edit_post(people["newbie"], held, "Held reply without a typo")
    db.session.expire_all()
    post = db.session.get(Post, held.id)
    assert post.body_source == "Held reply without a typo" and post.held_at is not None


def queries_opening(topic):
    from community.topics.queries import opening_post

    return opening_post(topic)


def test_a_merge_does_not_count_a_held_reply_as_the_first_answer(people, create_topic):
    target = create_topic(people["member"], people["space"])
    source = create_topic(people["member"], people["space"])
    services.create_post(people["newbie"], source, "Held reply text")
    services.merge_topic(_mod(), source, target)
    db.session.expire_all()
    assert db.session.get(Topic, target.id).first_answer_at is None


def test_the_merge_form_does_not_tell_what_a_space_one_does_not_moderate_holds(
    client, create_user, create_space, create_topic
):
    create_user("alphamod")
    alpha = create_space("alpha", moderators=[create_user("alphamod2")])
    beta = create_space("beta")
    mine = create_topic(create_user("asker"), alpha)
    held = create_topic(create_user("newbie9"), beta)
    assert held.held_at is not None
    client.login("alphamod2")
    unknown = client.submit(f"/t/{mine.id}/merge", {"target": "99999"}).get_data(as_text=True)
    response = client.submit(f"/t/{mine.id}/merge", {"target": str(held.id)})
    assert response.status_code == 400
    assert "waiting for review" not in response.get_data(as_text=True)
    assert "There is no topic with that number or address." in unknown
    assert "There is no topic with that number or address." in response.get_data(as_text=True)
