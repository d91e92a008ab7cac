"""Review findings in core's moderation services: each test states what is wrong and what
correct behaviour is."""

from __future__ import annotations

from sqlalchemy import func, select

from community.extensions import db
from community.topics import services
from community.topics.models import Topic


def test_split_with_an_impossible_post_id_is_not_a_server_error(
    client, create_user, create_space, create_topic, create_post
):
    """POST /t/<id>/split coerces every ``posts`` value with int() and services.split_topic
    puts them straight into ``Post.id IN (...)``: an id beyond 64 bits makes SQLite raise
    OverflowError, a 500 (community/topics/views.py split, services.split_topic). Bad input
    must be answered with the form's message ("Only published replies of this topic can be
    moved") and a 400, the topic untouched."""
    mod = create_user("spacemod")
    asker, helper = create_user("asker"), create_user("helper")
    space = create_space("routers", moderators=[mod])
    topic = create_topic(asker, space, title="The router restarts every night")
    create_post(helper, topic, "Update the firmware, it fixed it for me.")
    client.login("spacemod")
    response = client.submit(
        f"/t/{topic.id}/split",
        {"title": "A brand new topic title", "posts": ["99999999999999999999999"]},
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 1


def test_hiding_the_accepted_answer_unmarks_the_question_as_solved(
    client, create_user, create_space, create_topic, create_post
):
    """hide_post (community/topics/services.py hide_post) takes a reply out of view but leaves
    ``topic.accepted_answer_id`` pointing at it, unlike delete_post which clears it. Members
    then see a question listed as solved (it is left out of the "unsolved" filter) whose
    accepted answer nobody but moderators and its author can read. Hiding the accepted answer
    must clear the acceptance, as deleting it does."""
    mod = create_user("spacemod")
    asker, helper = create_user("asker"), create_user("helper")
    create_user("reader")
    space = create_space("routers", moderators=[mod])
    topic = create_topic(asker, space, title="The router restarts every night")
    answer = create_post(helper, topic, "Buy my miracle router cleaner at example.com")
    services.accept_answer(asker, answer)
    assert services.hide_post(mod, answer, "Advertising")

    client.login("reader")
    page = client.get("/s/routers?filter=unsolved").get_data(as_text=True)
    assert "The router restarts every night" in page
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).accepted_answer_id is None
