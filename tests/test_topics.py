import threading

import pytest
from sqlalchemy import func, select

from community.errors import Refused
from community.extensions import db
from community.spaces.models import Space
from community.topics import services
from community.topics.models import Post, PostRevision, Topic, Vote


@pytest.fixture
def qa(create_user, create_space, create_topic, create_post):
    """A question by `asker` with two answers, in a public space moderated by `spacemod`."""
    asker, helper, other = create_user("asker"), create_user("helper"), create_user("other")
    spacemod = create_user("spacemod")
    space = create_space("routers", moderators=[spacemod])
    topic = create_topic(asker, space, title="Router keeps rebooting at night")
    first = create_post(helper, topic, "Update the firmware.")
    second = create_post(other, topic, "Check the power supply.")
    return {
        "asker": asker,
        "helper": helper,
        "other": other,
        "spacemod": spacemod,
        "space": space,
        "topic": topic,
        "first": first,
        "second": second,
    }


def opening(topic):
    return db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.is_opening))


def test_create_topic_and_answers_keep_counters(qa):
    db.session.expire_all()
    assert qa["space"].topic_count == 1
    assert qa["space"].post_count == 3
    assert qa["topic"].reply_count == 2
    assert qa["topic"].first_answer_at is not None


def test_ask_through_the_form(client, create_user, create_space):
    create_user("asker")
    create_space("routers")
    client.login("asker")
    response = client.submit(
        "/s/routers/new",
        {
            "kind": "question",
            "title": "Why is my router blinking?",
            "body": "It blinks **red**.",
            "tags": "wifi, Firmware",
        },
    )
    assert response.status_code == 302
    topic = db.session.scalar(select(Topic))
    assert topic.title == "Why is my router blinking?"
    assert [t.name for t in topic.tags] == ["firmware", "wifi"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<strong>red</strong>" in page


@pytest.mark.parametrize(
    "title,body,message",
    [
        ("", "Some body text", "This field is required"),
        ("short", "Some body text", "8 to 200 characters"),
        ("x" * 201, "Some body text", "8 to 200 characters"),
        ("A perfectly fine title", "", "This field is required"),
        ("A perfectly fine title", "x" * 50_001, "2 to 50,000 characters"),
    ],
)
def test_bad_topic_input_is_refused_and_kept(
    client, create_user, create_space, title, body, message
):
    create_user("asker")
    create_space("routers")
    client.login("asker")
    response = client.submit(
        "/s/routers/new", {"kind": "question", "title": title, "body": body, "tags": "keepme"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="keepme"' in page
    if body and len(body) < 100:
        assert body in page
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 0


def test_script_in_every_text_field_is_inert(client, create_user, create_space):
    create_user("asker")
    create_space("routers")
    client.login("asker")
    evil = "<script>alert(1)</script><img src=x onerror=alert(1)>"
    response = client.submit(
        "/s/routers/new", {"kind": "question", "title": "Title " + evil, "body": "Body " + evil}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "<img src=x onerror" not in page and '<img src="x"' not in page
    assert "&lt;script&gt;" in page
    # Tags refuse markup outright.
    response = client.submit(
        "/s/routers/new",
        {"kind": "question", "title": "Another fine title", "body": "ok ok", "tags": evil},
    )
    assert response.status_code == 400


def test_post_without_csrf_token_is_refused(client, qa):
    client.login("other")
    response = client.post(f"/t/{qa['topic'].id}/reply", data={"body": "No token here"})
    assert response.status_code == 400
    assert "expired or was not sent from this site" in response.get_data(as_text=True)
    assert qa["topic"].reply_count == 2
    response = client.post(f"/p/{qa['first'].id}/vote", data={"value": "up"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


def test_answers_sorted_by_votes_with_accepted_first(client, qa, create_user):
    voter = create_user("voter")
    services.cast_vote(voter, qa["second"], 1)
    page = client.get(f"/t/{qa['topic'].id}/x", follow_redirects=True).get_data(as_text=True)
    assert page.index("Check the power supply") < page.index("Update the firmware")
    services.accept_answer(qa["asker"], qa["first"])
    page = client.get(f"/t/{qa['topic'].id}/x", follow_redirects=True).get_data(as_text=True)
    assert page.index("Update the firmware") < page.index("Check the power supply")


# --- votes -----------------------------------------------------------------------------------


def test_vote_changes_score_and_toggles(qa):
    answer, voter = qa["first"], qa["other"]
    assert services.cast_vote(voter, answer, 1) == 1
    db.session.refresh(answer)
    assert (answer.score, answer.upvotes, answer.downvotes) == (1, 1, 0)
    assert services.cast_vote(voter, answer, -1) == -1
    db.session.refresh(answer)
    assert (answer.score, answer.upvotes, answer.downvotes) == (-1, 0, 1)
    assert services.cast_vote(voter, answer, -1) is None
    db.session.refresh(answer)
    assert (answer.score, answer.upvotes, answer.downvotes) == (0, 0, 0)


def test_vote_on_own_post_is_refused(client, qa):
    client.login("helper")
    response = client.submit(f"/p/{qa['first'].id}/vote", {"value": "up"})
    assert response.status_code == 403
    assert "cannot vote on your own post" in response.get_data(as_text=True)
    db.session.refresh(qa["first"])
    assert qa["first"].score == 0


def test_vote_json_answer_for_progressive_enhancement(client, qa):
    client.login("other")
    response = client.submit(
        f"/p/{qa['first'].id}/vote", {"value": "up"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.json == {"score": 1, "vote": 1, "error": None}


def test_bad_vote_value_is_refused(client, qa):
    client.login("other")
    response = client.submit(f"/p/{qa['first'].id}/vote", {"value": "sideways"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


def test_ideas_take_only_up_votes(qa, create_topic):
    idea = create_topic(qa["asker"], qa["space"], kind="idea", title="Add a night mode please")
    with pytest.raises(Refused):
        services.cast_vote(qa["other"], opening(idea), -1)
    services.cast_vote(qa["other"], opening(idea), 1)
    db.session.refresh(idea)
    assert idea.score == 1 and idea.status == "new"


def test_duplicate_vote_rows_are_impossible(qa):
    db.session.add(Vote(post_id=qa["first"].id, user_id=qa["other"].id, value=1))
    db.session.commit()
    db.session.add(Vote(post_id=qa["first"].id, user_id=qa["other"].id, value=1))
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        db.session.commit()
    db.session.rollback()


def test_two_votes_at_once_count_once(app, qa):
    post_id, user_id = qa["first"].id, qa["other"].id
    barrier = threading.Barrier(2)
    results = []

    def vote():
        with app.app_context():
            from community.accounts.models import User

            user = db.session.get(User, user_id)
            post = db.session.get(Post, post_id)
            post.topic  # load before the race  # noqa: B018
            barrier.wait()
            try:
                results.append(services.cast_vote(user, post, 1))
            except Refused as refusal:
                results.append(refusal.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=vote) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    votes = db.session.scalar(select(func.count()).select_from(Vote))
    post = db.session.get(Post, post_id)
    # Either one counted and the other was refused or took it back; never two.
    assert votes in (0, 1)
    assert post.score == votes
    assert post.upvotes == votes


# --- accepted answers ------------------------------------------------------------------------


def test_asker_accepts_and_changes_answer(client, qa):
    client.login("asker")
    assert client.submit(f"/p/{qa['first'].id}/accept").status_code == 302
    db.session.refresh(qa["topic"])
    assert qa["topic"].accepted_answer_id == qa["first"].id
    assert client.submit(f"/p/{qa['second'].id}/accept").status_code == 302
    db.session.refresh(qa["topic"])
    assert qa["topic"].accepted_answer_id == qa["second"].id
    assert client.submit(f"/t/{qa['topic'].id}/unaccept").status_code == 302
    db.session.refresh(qa["topic"])
    assert qa["topic"].accepted_answer_id is None


def test_other_member_cannot_accept(client, qa):
    client.login("other")
    response = client.submit(f"/p/{qa['first'].id}/accept")
    assert response.status_code == 403
    db.session.refresh(qa["topic"])
    assert qa["topic"].accepted_answer_id is None


@pytest.mark.parametrize("who", ["staff", "spacemod", "globalmod"])
def test_staff_and_moderators_may_accept(client, qa, create_user, who):
    if who == "staff":
        create_user("staff", staff=True)
    elif who == "globalmod":
        create_user("globalmod", role="moderator")
    client.login(who)
    assert client.submit(f"/p/{qa['first'].id}/accept").status_code == 302
    db.session.refresh(qa["topic"])
    assert qa["topic"].accepted_answer_id == qa["first"].id


def test_moderator_of_another_space_cannot_accept(client, qa, create_user, create_space):
    mod = create_user("elsewhere")
    create_space("billing", moderators=[mod])
    client.login("elsewhere")
    assert client.submit(f"/p/{qa['first'].id}/accept").status_code == 403


def test_opening_post_cannot_be_accepted(qa):
    with pytest.raises(Refused):
        services.accept_answer(qa["asker"], opening(qa["topic"]))


def test_deleting_accepted_answer_unsolves_question(qa):
    services.accept_answer(qa["asker"], qa["first"])
    services.delete_post(qa["helper"], qa["first"])
    db.session.refresh(qa["topic"])
    assert qa["topic"].accepted_answer_id is None
    assert qa["topic"].reply_count == 1


# --- locks, edits, deletes -------------------------------------------------------------------


def test_locked_topic_refuses_replies_and_keeps_text(client, qa):
    services.set_topic_flag(qa["spacemod"], qa["topic"], "is_locked", True)
    client.login("other")
    response = client.submit(f"/t/{qa['topic'].id}/reply", {"body": "My precious answer"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "locked" in page and "My precious answer" in page
    db.session.refresh(qa["topic"])
    assert qa["topic"].reply_count == 2


def test_member_cannot_lock_or_pin(client, qa):
    client.login("other")
    assert client.submit(f"/t/{qa['topic'].id}/lock").status_code == 403
    assert client.submit(f"/t/{qa['topic'].id}/pin").status_code == 403
    db.session.refresh(qa["topic"])
    assert not qa["topic"].is_locked and not qa["topic"].is_pinned


def test_moderator_pins_and_pinned_topics_come_first(client, qa, create_topic):
    newer = create_topic(qa["other"], qa["space"], title="A newer topic than the first")
    client.login("spacemod")
    assert client.submit(f"/t/{qa['topic'].id}/pin").status_code == 302
    page = client.get("/s/routers").get_data(as_text=True)
    assert page.index(qa["topic"].title) < page.index(newer.title)


def test_edit_keeps_history_and_others_cannot_edit(client, qa):
    client.login("helper")
    response = client.submit(f"/p/{qa['first'].id}/edit", {"body": "Update the firmware to 2.1."})
    assert response.status_code == 302
    revision = db.session.scalar(select(PostRevision))
    assert revision.body_source == "Update the firmware."
    client.logout()
    client.login("other")
    assert client.submit(f"/p/{qa['first'].id}/edit", {"body": "vandalism"}).status_code == 403
    db.session.refresh(qa["first"])
    assert qa["first"].body_source == "Update the firmware to 2.1."
    page = client.get(f"/p/{qa['first'].id}/revisions").get_data(as_text=True)
    assert "Update the firmware." in page


def test_delete_and_restore_topic_keep_counters(qa):
    services.delete_post(qa["asker"], opening(qa["topic"]))
    db.session.refresh(qa["space"])
    assert (qa["space"].topic_count, qa["space"].post_count) == (0, 0)
    with pytest.raises(Refused):
        services.restore_post(qa["asker"], opening(qa["topic"]))
    services.restore_post(qa["spacemod"], opening(qa["topic"]))
    db.session.refresh(qa["space"])
    assert (qa["space"].topic_count, qa["space"].post_count) == (1, 3)


def test_deleted_topic_is_gone_for_members_but_not_moderators(client, qa):
    services.delete_post(qa["asker"], opening(qa["topic"]))
    url = f"/t/{qa['topic'].id}/{qa['topic'].slug}"
    assert client.get(url).status_code == 404
    client.login("spacemod")
    assert client.get(url).status_code == 200


def test_comments(client, qa):
    client.login("asker")
    response = client.submit(f"/p/{qa['first'].id}/comment", {"body": "Which version?"})
    assert response.status_code == 302
    page = client.get(f"/t/{qa['topic'].id}/{qa['topic'].slug}").get_data(as_text=True)
    assert "Which version?" in page
    db.session.refresh(qa["topic"])
    assert qa["topic"].reply_count == 2
    response = client.submit(f"/p/{qa['first'].id}/comment", {"body": ""})
    assert response.status_code == 400


def test_unconfirmed_member_cannot_post(client, create_user, create_space):
    create_user("newbie", confirmed=False)
    create_space("routers")
    client.login("newbie")
    assert client.get("/s/routers/new").status_code == 403


def test_unknown_pages_and_bad_page_numbers_are_404(client, qa):
    assert client.get("/t/999999/none").status_code == 404
    assert client.get("/s/routers?page=abc").status_code == 404
    assert client.get("/s/routers?page=99").status_code == 404
    assert client.get("/s/routers?filter=nonsense").status_code == 404


def test_idea_list_sorted_by_votes(client, qa, create_topic):
    low = create_topic(qa["asker"], qa["space"], kind="idea", title="An idea with one vote")
    high = create_topic(qa["asker"], qa["space"], kind="idea", title="An idea with two votes")
    services.cast_vote(qa["other"], opening(low), 1)
    services.cast_vote(qa["other"], opening(high), 1)
    services.cast_vote(qa["helper"], opening(high), 1)
    page = client.get("/s/routers?filter=ideas&sort=votes").get_data(as_text=True)
    assert page.index(high.title) < page.index(low.title)
    assert qa["topic"].title not in page
    page = client.get("/s/routers?filter=ideas&sort=newest").get_data(as_text=True)
    assert page.index(high.title) < page.index(low.title)


def test_unanswered_and_unsolved_lists(client, qa, create_topic):
    lonely = create_topic(qa["asker"], qa["space"], title="Nobody answered this one yet")
    page = client.get("/s/routers?filter=unanswered").get_data(as_text=True)
    assert lonely.title in page and qa["topic"].title not in page
    services.accept_answer(qa["asker"], qa["first"])
    page = client.get("/s/routers?filter=unsolved").get_data(as_text=True)
    assert lonely.title in page and qa["topic"].title not in page


def test_space_counters_match_rows(qa):
    space = db.session.get(Space, qa["space"].id)
    topics = db.session.scalar(
        select(func.count()).select_from(Topic).where(Topic.deleted_at.is_(None))
    )
    assert space.topic_count == topics
