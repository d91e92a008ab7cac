"""Notifications: following, the inbox, email at once and in digests, visibility."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from community.extensions import db
from community.notifications import delivery, service
from community.notifications.models import Follow, Notification, NotificationEvent


def inbox_of(client, user):
    client.login(user.username)
    return client.get("/notifications").get_data(as_text=True)


def notifications_of(user, kind=None):
    stmt = select(Notification).where(Notification.user_id == user.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


@pytest.fixture
def space(create_space):
    return create_space("routers")


def test_answer_notifies_the_asker_in_the_inbox_and_by_email(
    app, client, create_user, create_topic, create_post, space, run_tasks, outbox
):
    asker = create_user("asker")
    helper = create_user("helper")
    topic = create_topic(asker, space, title="My router does not boot at all")
    answer = create_post(helper, topic, body="Hold the reset button for ten seconds.")
    assert notifications_of(asker) == []  # the worker does it, not the request
    run_tasks()
    [notification] = notifications_of(asker)
    assert notification.kind == "reply" and notification.post_id == answer.id
    assert notifications_of(helper) == []  # nobody hears of their own answer

    page = inbox_of(client, asker)
    assert "helper answered “My router does not boot at all”" in page
    assert 'class="bell-count" data-unread="1"' in page
    [message] = outbox
    assert message["To"] == "asker@example.com"
    assert message["Subject"] == "helper answered “My router does not boot at all”"
    assert "Hold the reset button" in message.get_body(("plain",)).get_content()


def link_in(message, pattern):
    text = message.get_body(("plain",)).get_content()
    match = re.search(pattern, text)
    assert match, text
    return match.group(0)


def test_the_asker_hears_in_their_own_language_with_a_working_unsubscribe_link(
    app, client, create_user, create_topic, create_post, space, run_tasks, outbox
):
    asker = create_user("chiara", locale="it")
    topic = create_topic(asker, space, title="Il router non si accende più")
    create_post(create_user("helper"), topic, body="Tieni premuto il tasto reset.")
    run_tasks()
    [message] = outbox
    assert message["Subject"] == "helper ha risposto a “Il router non si accende più”"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    html = message.get_body(("html",)).get_content()
    assert 'lang="it"' in html and "Smetti di ricevere queste email" in html
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert link_in(message, r"https?://\S+/unsubscribe/\S+") == unsubscribe

    # No login: the signed link is enough. Opening it asks (mail scanners open links too);
    # its one button stops these emails: from now on answers reach the inbox only.
    path = unsubscribe.split("community.test", 1)[1]
    page = client.get(path)
    assert page.status_code == 200
    assert "Disiscriviti" in page.get_data(as_text=True)
    assert service.preferences(asker)["reply"] == "email"
    page = client.post(path)
    assert page.status_code == 200
    assert service.preferences(asker)["reply"] == "app"
    create_post(create_user("another"), topic, body="Oppure aggiorna il firmware.")
    run_tasks()
    assert [m["To"] for m in outbox].count("chiara@example.com") == 1
    assert len(notifications_of(asker, "reply")) == 2

    # Undo puts the previous choice back.
    token = page.get_data(as_text=True)
    assert 'name="was-reply" value="email"' in token
    client.submit(path + "/undo", {"kind": "reply", "was-reply": "email"})
    assert service.preferences(asker)["reply"] == "email"


def test_one_click_unsubscribe_by_post_needs_no_form_token(app, client, create_user):
    user = create_user("ann")
    token = delivery.unsubscribe_token(user, "*")
    response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert set(service.preferences(user).values()) <= {"app", "off"}


def test_a_forged_unsubscribe_link_changes_nothing(app, client, create_user):
    user = create_user("ann")
    token = delivery.unsubscribe_token(user, "reply")
    for forged in (token[:-2] + "xx", "", "x" * 300, delivery.unsubscribe_token(user, "nokind")):
        response = client.post(f"/unsubscribe/{forged}")
        assert response.status_code == 404
        if forged:
            assert "not valid" in response.get_data(as_text=True)
    assert client.post(f"/unsubscribe/{token[:-2]}xx/undo").status_code in (400, 404)
    assert service.preferences(user)["reply"] == "email"


def test_preferences_decide_inbox_email_and_off(
    app, client, create_user, create_topic, create_post, space, run_tasks, outbox
):
    asker = create_user("asker")
    topic = create_topic(asker, space)
    client.login("asker")
    form = {"kind-reply": "app", "kind-comment": "off"}
    assert client.submit("/settings/notifications", form).status_code == 302
    assert service.preferences(asker)["reply"] == "app"
    create_post(create_user("helper"), topic)
    run_tasks()
    assert len(notifications_of(asker, "reply")) == 1 and outbox == []

    answer = create_post(asker, topic, body="Thanks, and here is what I tried.")
    create_post(create_user("commenter"), topic, body="Did you try the other port?", parent=answer)
    run_tasks()
    assert notifications_of(asker, "comment") == []  # off


def test_bad_preference_values_are_refused_and_keep_what_was_chosen(app, client, create_user):
    user = create_user("ann")
    client.login("ann")
    response = client.submit(
        "/settings/notifications", {"kind-reply": "daily", "kind-comment": "sometimes"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose one of the options." in page
    assert re.search(r'<option value="daily" selected>', page)
    assert service.preferences(user)["reply"] == "email"  # nothing saved


def test_without_a_form_token_settings_are_not_changed(app, client, create_user):
    user = create_user("ann")
    client.login("ann")
    response = client.post("/settings/notifications", data={"kind-reply": "off"})
    assert response.status_code == 400
    assert service.preferences(user)["reply"] == "email"


def test_askers_answerers_and_idea_voters_follow_automatically(
    app, create_user, create_topic, create_post, space, run_tasks
):
    from community.topics.services import cast_vote

    asker, answerer, voter = create_user("asker"), create_user("answerer"), create_user("voter")
    question = create_topic(asker, space)
    create_post(answerer, question)
    idea = create_topic(asker, space, kind="idea", title="Add a dark mode to the app")
    cast_vote(voter, db.session.get(type(idea), idea.id) and service_opening(idea), 1)
    follows = set(
        db.session.execute(
            select(Follow.user_id, Follow.target_id).where(Follow.active.is_(True))
        ).all()
    )
    assert follows == {
        (asker.id, question.id),
        (answerer.id, question.id),
        (asker.id, idea.id),
        (voter.id, idea.id),
    }


def service_opening(topic):
    from community.topics.queries import opening_post

    return opening_post(topic)


def test_unfollowing_stops_notifications_and_is_not_undone_by_answering_again(
    app, client, create_user, create_topic, create_post, space, run_tasks
):
    asker, answerer = create_user("asker"), create_user("answerer")
    topic = create_topic(asker, space)
    create_post(answerer, topic)
    client.login("answerer")
    response = client.submit(f"/unfollow/topic/{topic.id}", {"next": "/settings/notifications"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/settings/notifications"
    create_post(answerer, topic, body="One more idea: check the cable.")
    create_post(create_user("third"), topic)
    run_tasks()
    assert notifications_of(answerer) == []
    assert len(notifications_of(asker, "reply")) == 3


def test_following_needs_a_visible_target_and_a_form_token(
    app, client, create_user, create_space, create_topic
):
    create_user("ann")
    staff_space = create_space("internal", visibility="staff")
    secret = create_topic(create_user("boss", staff=True), staff_space)
    client.login("ann")
    assert client.submit(f"/follow/topic/{secret.id}").status_code == 404
    assert client.submit(f"/follow/space/{staff_space.id}").status_code == 404
    assert client.submit("/follow/user/1").status_code == 404
    assert client.post(f"/follow/space/{staff_space.id}").status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Follow)) == 1  # boss's own


def test_followers_of_a_space_and_a_tag_hear_of_new_topics_in_their_digest(
    app, client, create_user, create_space, create_topic, run_tasks, outbox
):
    parent = create_space("products")
    child = create_space("routers", parent=parent)
    fan, tagger = create_user("fan"), create_user("tagger")
    client.login("fan")
    client.submit(f"/follow/space/{parent.id}")
    client.logout()
    create_topic(create_user("first"), child, title="Which router for a big house?")
    run_tasks()
    [notification] = notifications_of(fan, "topic")
    assert notification.delivery == "daily" and outbox == []

    from community.topics.models import Tag

    topic = create_topic(create_user("second"), child, title="Mesh or repeaters?", tags="wifi")
    run_tasks()
    tag = db.session.scalar(select(Tag).where(Tag.name == "wifi"))
    service.follow(tagger, "tag", tag.id)
    create_topic(create_user("third"), child, title="Mesh network keeps dropping", tags="wifi")
    run_tasks()
    assert len(notifications_of(tagger, "topic")) == 1
    assert len(notifications_of(fan, "topic")) == 3
    assert topic.id in {n.topic_id for n in notifications_of(fan, "topic")}

    assert delivery.send_digests("weekly") == 0
    assert delivery.send_digests("daily") == 2
    run_tasks()
    by_recipient = {m["To"]: m for m in outbox}
    digest = by_recipient["fan@example.com"].get_body(("plain",)).get_content()
    assert "3 new topics in Routers" in digest
    assert by_recipient["fan@example.com"]["List-Unsubscribe"]
    # Sent once: a second run finds nothing new.
    assert delivery.send_digests("daily") == 0


def test_a_weekly_digest_takes_what_the_user_chose_weekly(
    app, create_user, create_topic, create_post, space, run_tasks, outbox
):
    asker = create_user("asker")
    service.set_preferences(asker, {"reply": "weekly"})
    topic = create_topic(asker, space, title="Where is the WPS button?")
    create_post(create_user("helper"), topic)
    run_tasks()
    assert outbox == []
    assert delivery.send_digests("daily") == 0
    assert delivery.send_digests("weekly") == 1
    run_tasks()
    assert (
        "helper answered “Where is the WPS button?”" in outbox[0].get_body(("plain",)).get_content()
    )


def test_answers_are_grouped_and_opening_leads_to_the_first_new_one(
    app, client, create_user, create_topic, create_post, space, run_tasks
):
    asker = create_user("asker")
    topic = create_topic(asker, space, title="Printer shows error E3 on start")
    first = create_post(create_user("ann1"), topic)
    create_post(create_user("ann2"), topic, body="Another answer here.")
    create_post(create_user("ann3"), topic, body="A third answer here.")
    run_tasks()
    page = inbox_of(client, asker)
    assert "3 new answers to “Printer shows error E3 on start”" in page
    assert page.count('class="notification unread"') == 1
    first_id = notifications_of(asker)[0].id
    response = client.get(f"/notifications/{first_id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/p/{first.id}"
    landing = client.get(f"/p/{first.id}")
    assert landing.headers["Location"] == f"/t/{topic.id}/{topic.slug}#post-{first.id}"
    assert all(n.read_at is not None for n in notifications_of(asker))
    assert "data-unread" not in client.get("/notifications").get_data(as_text=True)


def test_mark_read_and_mark_all_read(
    app, client, create_user, create_topic, create_post, space, run_tasks
):
    asker = create_user("asker")
    topic_a = create_topic(asker, space)
    topic_b = create_topic(asker, space)
    create_post(create_user("xavier"), topic_a)
    create_post(create_user("yvonne"), topic_b)
    run_tasks()
    client.login("asker")
    first = notifications_of(asker)[0]
    assert client.post(f"/notifications/{first.id}/read").status_code == 400  # no token
    assert client.submit(f"/notifications/{first.id}/read").status_code == 302
    assert [n.read_at is not None for n in notifications_of(asker)] == [True, False]
    assert 'data-unread="1"' in client.get("/").get_data(as_text=True)
    assert client.submit("/notifications/read-all").status_code == 302
    assert all(n.read_at is not None for n in notifications_of(asker))


def test_nobody_opens_or_marks_another_users_notification(
    app, client, create_user, create_topic, create_post, space, run_tasks
):
    asker = create_user("asker")
    create_post(create_user("xavier"), create_topic(asker, space))
    run_tasks()
    create_user("mallory")
    client.login("mallory")
    [notification] = notifications_of(asker)
    assert client.get(f"/notifications/{notification.id}").status_code == 404
    assert client.submit(f"/notifications/{notification.id}/read").status_code == 404
    db.session.refresh(notification)
    assert notification.read_at is None
    assert client.get("/notifications/999999").status_code == 404


def test_visiting_the_topic_reads_its_notifications(
    app, client, create_user, create_topic, create_post, space, run_tasks
):
    asker = create_user("asker")
    topic = create_topic(asker, space)
    create_post(create_user("xavier"), topic)
    run_tasks()
    client.login("asker")
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert "data-unread" not in page
    assert notifications_of(asker)[0].read_at is not None


def test_a_topic_moved_to_a_private_space_disappears_from_inbox_count_and_email(
    app, client, create_user, create_space, create_topic, create_post, space, run_tasks, outbox
):
    from community.topics.services import move_topic

    asker = create_user("asker")
    mod = create_user("mod", role="moderator")
    topic = create_topic(asker, space, title="Question about the staff discount")
    create_post(create_user("xavier"), topic)
    # The notification is written, then the topic moves before its email goes out.
    for event_id in db.session.scalars(select(NotificationEvent.id).order_by(NotificationEvent.id)):
        delivery.process_event(event_id)
    [notification] = notifications_of(asker)
    staff = create_space("staff-only", visibility="staff")
    move_topic(mod, topic, staff)
    run_tasks()
    assert outbox == []
    page = inbox_of(client, asker)
    assert "staff discount" not in page and "data-unread" not in page
    assert client.get(f"/notifications/{notification.id}").status_code == 404


def test_nobody_is_told_about_a_topic_they_may_not_see(
    app, create_user, create_space, create_topic, create_post, run_tasks
):
    staff_space = create_space("internal", visibility="staff")
    member = create_user("member")
    service.follow(member, "space", staff_space.id)
    boss = create_user("boss", staff=True)
    topic = create_topic(boss, staff_space, title="Roadmap for next year, internal")
    create_post(create_user("colleague", staff=True), topic, body="Hi @member, see this.")
    run_tasks()
    assert notifications_of(member) == []


def test_mentions_notify_once_and_only_who_may_see(
    app, create_user, create_topic, create_post, space, run_tasks
):
    asker = create_user("asker")
    ann = create_user("ann")
    topic = create_topic(asker, space)
    post = create_post(create_user("helper"), topic, body="Maybe @ann or @asker knows this.")
    run_tasks()
    [mention] = notifications_of(ann)
    assert mention.kind == "mention" and mention.post_id == post.id
    # The asker follows the topic and is mentioned: one notification, the mention.
    assert [n.kind for n in notifications_of(asker)] == ["mention"]


def test_a_mention_added_by_an_edit_notifies_the_new_name_only(
    app, create_user, create_topic, create_post, space, run_tasks
):
    from community.topics.services import edit_post

    helper = create_user("helper")
    ann, bob = create_user("ann"), create_user("bob")
    post = create_post(helper, create_topic(create_user("asker"), space), body="Ask @ann.")
    run_tasks()
    edit_post(helper, post, "Ask @ann or @bob.")
    run_tasks()
    assert len(notifications_of(ann)) == 1
    assert [n.kind for n in notifications_of(bob)] == ["mention"]


def test_comments_notify_the_author_of_the_post(
    app, create_user, create_topic, create_post, space, run_tasks
):
    asker, helper = create_user("asker"), create_user("helper")
    topic = create_topic(asker, space)
    answer = create_post(helper, topic)
    run_tasks()
    create_post(asker, topic, body="Which button do you mean?", parent=answer)
    run_tasks()
    assert [n.kind for n in notifications_of(helper)] == ["comment"]


def test_an_accepted_answer_and_an_idea_status_notify(
    app, create_user, create_topic, create_post, space, run_tasks
):
    from community.topics.services import accept_answer, cast_vote, set_idea_status

    asker, helper, voter = create_user("asker"), create_user("helper"), create_user("voter")
    topic = create_topic(asker, space)
    answer = create_post(helper, topic)
    accept_answer(asker, answer)
    idea = create_topic(asker, space, kind="idea", title="Export my data as CSV")
    cast_vote(voter, service_opening(idea), 1)
    set_idea_status(create_user("staffer", staff=True), idea, "shipped")
    run_tasks()
    assert [n.kind for n in notifications_of(helper)] == ["accepted"]
    [status] = notifications_of(voter, "idea_status")
    assert service.describe(status) == "The idea “Export my data as CSV” is now: Shipped"


def test_an_idea_back_to_an_earlier_status_is_news_again(
    app, create_user, create_topic, space, run_tasks
):
    from community.topics.services import cast_vote, set_idea_status

    staff, voter = create_user("staffer", staff=True), create_user("voter")
    idea = create_topic(create_user("asker"), space, kind="idea", title="Export my data as CSV")
    cast_vote(voter, service_opening(idea), 1)
    for status in ("planned", "under_review", "planned"):
        set_idea_status(staff, idea, status)
        run_tasks()
    told = [n.data["status"] for n in notifications_of(voter, "idea_status")]
    assert sorted(told) == ["planned", "planned", "under_review"]


def test_the_note_of_a_status_change_is_quoted_in_the_email(
    app, create_user, create_topic, space, run_tasks, outbox
):
    from community.topics.services import cast_vote, set_idea_status

    staff, voter = create_user("staffer", staff=True), create_user("voter")
    idea = create_topic(create_user("asker"), space, kind="idea", title="Export my data as CSV")
    cast_vote(voter, service_opening(idea), 1)
    run_tasks()
    outbox.clear()
    set_idea_status(staff, idea, "declined", note="Not **this year**: the exporter is *old*.")
    run_tasks()
    [mail] = [m for m in outbox if m["To"] == "voter@example.com"]
    assert "Not this year: the exporter is old." in mail.get_body(("plain",)).get_content()


def test_each_event_and_email_happens_once_however_often_the_tasks_run(
    app, create_user, create_topic, create_post, space, run_tasks, outbox
):
    asker = create_user("asker")
    create_post(create_user("xavier"), create_topic(asker, space))
    event_id = db.session.scalar(select(NotificationEvent.id))
    run_tasks()
    # The same event and the same email again, as a sweep racing the queue would.
    from community.tasks import enqueue

    [notification] = notifications_of(asker)
    db.session.add(
        NotificationEvent(id=event_id, name="post", payload={"post": notification.post_id})
    )
    db.session.commit()
    enqueue(delivery.process_event, event_id)
    enqueue(delivery.email_notification, notification.id)
    run_tasks()
    assert len(notifications_of(asker)) == 1
    assert len(outbox) == 1
    assert db.session.scalar(select(func.count()).select_from(NotificationEvent)) == 0


def test_the_sweep_queues_again_what_the_queue_lost(
    app, create_user, create_topic, create_post, space, run_tasks, outbox
):
    from datetime import timedelta

    from community.dbtypes import utcnow
    from community.tasks import task_queue

    asker = create_user("asker")
    create_post(create_user("xavier"), create_topic(asker, space))
    task_queue(app).huey.flush()  # the queue lost everything
    assert run_tasks() == 0
    assert delivery.requeue_lost() == (0, 0)  # too recent to call lost
    assert delivery.requeue_lost(utcnow() + timedelta(minutes=5)) == (2, 0)
    run_tasks()
    assert len(outbox) == 1


def test_plugins_add_kinds_and_channels_and_notify_through_one_api(
    app, create_user, run_tasks, outbox
):
    import tests.plugins.notifier as notifier

    notifier.delivered.clear()
    notifier.fail["times"] = 1
    ann, bob, gone = create_user("ann"), create_user("bob"), create_user("gone")
    gone.active = False
    db.session.commit()
    ids = service.notify(
        [ann, bob, gone, ann],
        "notifier.ping",
        actor=bob,
        key="ping:1",
        url="/s/x",
        data={"word": "hello"},
    )
    assert len(ids) == 1  # not the actor, not a suspended account, once per user
    assert service.notify([ann], "notifier.ping", key="ping:1") == []  # told already
    run_tasks()
    assert [(d[1], d[2]) for d in notifier.delivered] == [("ann", "Ping from the notifier: hello")]
    assert notifier.delivered[0][3] == "http://community.test/s/x"
    assert [m["Subject"] for m in outbox] == ["Ping from the notifier: hello"]
    with pytest.raises(LookupError):
        service.notify([ann], "no.such.kind", key="x")
    with pytest.raises(ValueError):
        service.notify([ann], "notifier.ping", key="y", url="https://evil.example/")


@pytest.fixture
def app_config():
    return {"PLUGINS": ["tests.plugins.notifier"]}


def test_a_page_of_the_inbox_costs_a_fixed_number_of_queries(
    app, client, create_user, create_topic, create_post, space, run_tasks, count_queries
):
    asker = create_user("asker")
    for n in range(6):
        create_post(create_user(f"helper{n}"), create_topic(asker, space))
    run_tasks()
    client.login("asker")
    client.get("/notifications")
    with count_queries() as few:
        client.get("/notifications")
    for n in range(6):
        create_post(create_user(f"more{n}"), create_topic(asker, space))
    run_tasks()
    client.get("/notifications")
    with count_queries() as many:
        page = client.get("/notifications").get_data(as_text=True)
    assert page.count('class="notification unread"') == 12
    assert len(many) == len(few), (
        "\n".join(few.statements) + "\n----\n" + "\n".join(many.statements)
    )


def test_the_command_line_shows_what_waits_and_sends_digests_now(
    app, runner, create_user, create_topic, create_post, space, run_tasks, outbox
):
    asker = create_user("asker")
    service.set_preferences(asker, {"reply": "daily"})
    create_post(create_user("helper"), create_topic(asker, space))
    result = runner.invoke(args=["notifications", "status"])
    assert "Events waiting for the worker: 2 (0 failed at least once)" in result.output
    run_tasks()
    result = runner.invoke(args=["notifications", "status"])
    assert "Events waiting for the worker: 0" in result.output
    assert "Waiting for the daily digest: 1" in result.output
    result = runner.invoke(args=["notifications", "digest"])
    assert result.exit_code == 0 and "Queued 1 daily digests" in result.output
    run_tasks()
    assert [m["To"] for m in outbox] == ["asker@example.com"]
    for command in (["notifications", "--help"], ["notifications", "digest", "--help"]):
        assert runner.invoke(args=command).exit_code == 0


def test_the_inbox_groups_only_the_newest_notifications(
    app, client, create_user, create_topic, create_post, space, run_tasks, monkeypatch
):
    asker = create_user("asker")
    topics = [
        create_topic(asker, space, title=f"Question number {n} about my router") for n in range(4)
    ]
    for n, topic in enumerate(topics):
        create_post(create_user(f"helper{n}"), topic)
    run_tasks()
    monkeypatch.setattr(service, "INBOX_WINDOW", 2)
    page = inbox_of(client, asker)
    assert "Question number 3" in page and "Question number 2" in page
    assert "Question number 1" not in page and "Question number 0" not in page


def test_auto_follow_many_follows_in_one_go_but_not_who_unfollowed(
    app, create_user, create_topic, space
):
    ann, bob, cid = create_user("ann"), create_user("bob"), create_user("cid")
    topic = create_topic(ann, space, title="Export my data as CSV")
    service.unfollow(bob, "topic", topic.id)
    service.auto_follow_many([bob.id, cid.id, cid.id], "topic", topic.id)
    following = set(db.session.scalars(service.followers("topic", [topic.id])))
    assert following == {ann.id, cid.id}
