"""The routing pages: "Unanswered in your spaces" (offers first, with a Pass button, then the
other unanswered questions where the member is an expert, never a question they may not see)
and "Away"."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from community_experts import routing
from community_experts.models import OPEN, PASSED, Availability, Grant, Offer, Standing
from community_experts.testing import wait
from sqlalchemy import select

from community.extensions import db
from community.plugins.settings import save_plugin_settings

UNANSWERED = "/experts/unanswered"
AWAY = "/experts/away"


@pytest.fixture
def world(enable_plugin, create_user, create_space):
    enable_plugin("experts")
    assert save_plugin_settings("experts", {"route_after_minutes": 30, "per_round": 1}) == {}
    help_space = create_space("help", title="Help")
    people = {
        "asker": create_user("asker"),
        "ann": create_user("ann"),
        "bob": create_user("bob"),
        "nobody": create_user("nobody"),
        "boss": create_user("boss", staff=True),
        "help": help_space,
        "room": create_space(
            "staff-room", title="Staff room", visibility="staff", parent=help_space
        ),
    }
    for name in ("ann", "bob", "boss"):
        db.session.add(Grant(user_id=people[name].id, space_id=help_space.id, reason="x"))
    db.session.commit()
    return people


def state_of(user, topic):
    db.session.expire_all()
    return db.session.scalar(
        select(Offer.state).where(Offer.user_id == user.id, Offer.topic_id == topic.id)
    )


def offered_question(world, create_topic, title="Why does my router blink?"):
    question = create_topic(world["asker"], world["help"], title=title)
    wait(question, 31)
    routing.route()
    assert state_of(world["ann"], question) == OPEN
    return question


# --- "Unanswered in your spaces" -------------------------------------------------------------


def test_visitors_are_sent_to_sign_in(client, world):
    response = client.get(UNANSWERED)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.get(AWAY).status_code == 302


def test_offers_come_first_with_a_pass_button(client, world, create_topic):
    question = offered_question(world, create_topic)
    other = create_topic(world["asker"], world["help"], title="Fresh question not offered yet")
    client.login("ann")
    page = client.get(UNANSWERED).get_data(as_text=True)
    assert "Unanswered in your spaces" in page
    assert page.index("Why does my router blink?") < page.index("Fresh question not offered")
    assert "Offered just now" in page
    assert f"/experts/unanswered/{question.id}/pass" in page
    assert f"/experts/unanswered/{other.id}/pass" not in page
    assert "/experts/away" in page


def test_pass_from_the_page(client, world, create_topic):
    question = offered_question(world, create_topic)
    client.login("ann")
    response = client.submit(f"/experts/unanswered/{question.id}/pass")
    assert response.status_code == 302
    assert state_of(world["ann"], question) == PASSED
    page = client.get(UNANSWERED).get_data(as_text=True)
    assert f"/experts/unanswered/{question.id}/pass" not in page
    assert "No question is waiting for you right now." in page
    # Twice: nothing more happens.
    assert client.submit(f"/experts/unanswered/{question.id}/pass").status_code == 302
    assert state_of(world["ann"], question) == PASSED
    assert routing.route() == 1  # someone else is asked
    assert state_of(world["bob"], question) == OPEN


def test_pass_refusals(client, world, create_topic, create_user):
    question = offered_question(world, create_topic)
    secret = create_topic(world["boss"], world["room"], title="Secret plans")
    client.login("bob")  # not offered this one (ann was)
    assert client.submit(f"/experts/unanswered/{question.id}/pass").status_code == 403
    assert client.submit("/experts/unanswered/999999/pass").status_code == 404
    assert client.submit(f"/experts/unanswered/{secret.id}/pass").status_code == 404
    assert client.get(f"/experts/unanswered/{question.id}/pass").status_code == 405
    client.logout()
    client.login("ann")
    # Without the CSRF token nothing changes.
    assert client.post(f"/experts/unanswered/{question.id}/pass").status_code == 400
    assert state_of(world["ann"], question) == OPEN


def test_members_who_are_experts_nowhere_get_an_explanation(client, world, create_topic):
    create_topic(world["asker"], world["help"], title="A question for experts")
    client.login("nobody")
    response = client.get(UNANSWERED)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "You are not an expert in any space or tag yet." in page
    assert "A question for experts" not in page
    assert client.get(UNANSWERED + "?page=2").status_code == 404


def test_private_questions_are_not_listed_for_those_who_may_not_see_them(
    client, world, create_topic, create_user
):
    colleague = create_user("colleague", staff=True)
    create_topic(colleague, world["room"], title="Secret plans for next year")
    create_topic(world["asker"], world["help"], title="A public question")
    client.login("ann")  # expert of Help, which the staff room is inside; not staff
    page = client.get(UNANSWERED).get_data(as_text=True)
    assert "A public question" in page
    assert "Secret plans" not in page
    client.logout()
    client.login("boss")
    page = client.get(UNANSWERED).get_data(as_text=True)
    assert "Secret plans for next year" in page


def test_tag_experts_see_the_tags_questions_they_may_see(
    client, world, create_space, create_topic, create_user
):
    from community.topics.models import Tag

    elsewhere = create_space("elsewhere")
    create_topic(world["asker"], elsewhere, title="Tagged public question", tags="wifi")
    create_topic(
        world["boss"],
        create_space("hidden", visibility="staff"),
        title="Tagged secret",
        tags="wifi",
    )
    create_topic(world["asker"], elsewhere, title="Untagged question")
    cat = create_user("cat")
    tag = db.session.scalar(select(Tag).where(Tag.name == "wifi"))
    db.session.add(
        Standing(user_id=cat.id, scope="tag", scope_id=tag.id, is_expert=True, accepted=3, score=30)
    )
    db.session.commit()
    client.login("cat")
    page = client.get(UNANSWERED).get_data(as_text=True)
    assert "Tagged public question" in page
    assert "Tagged secret" not in page
    assert "Untagged question" not in page


def test_answered_and_own_questions_are_not_listed(client, world, create_topic, create_post):
    answered = create_topic(world["asker"], world["help"], title="Already answered one")
    create_post(world["bob"], answered, "Like this.")
    create_topic(world["ann"], world["help"], title="Ann asks herself")
    create_topic(world["asker"], world["help"], title="Still waiting")
    client.login("ann")
    page = client.get(UNANSWERED).get_data(as_text=True)
    assert "Still waiting" in page
    assert "Already answered one" not in page
    assert "Ann asks herself" not in page


def test_bad_page_numbers_are_404(client, world, create_topic):
    create_topic(world["asker"], world["help"])
    client.login("ann")
    assert client.get(UNANSWERED + "?page=abc").status_code == 404
    assert client.get(UNANSWERED + "?page=50").status_code == 404
    assert client.get(UNANSWERED + "?page=1").status_code == 200


def test_unanswered_page_queries_do_not_grow_with_offers(
    client, world, create_topic, count_queries
):
    def make_offers(n):
        create_topic(world["asker"], world["help"], title=f"Not offered {n}", tags="wifi")
        for i in range(n):
            topic = create_topic(
                world["asker"], world["help"], title=f"Question {n} number {i}", tags="wifi lan"
            )
            db.session.add(
                Offer(topic_id=topic.id, user_id=world["ann"].id, space_id=world["help"].id)
            )
        db.session.commit()

    client.login("ann")
    make_offers(3)
    with count_queries() as few:
        assert client.get(UNANSWERED).status_code == 200
    make_offers(27)
    with count_queries() as many:
        page = client.get(UNANSWERED)
    assert page.get_data(as_text=True).count("/pass") == 30
    assert "Not offered 27" in page.get_data(as_text=True)
    assert len(many) == len(few), many.statements
    assert len(few) <= 25, few.statements


# --- away ------------------------------------------------------------------------------------


def test_mark_yourself_away_and_come_back(client, world, create_topic):
    question = offered_question(world, create_topic)
    client.login("ann")
    assert client.get(AWAY).status_code == 200
    until = (date.today() + timedelta(days=10)).isoformat()
    response = client.submit(AWAY, {"action": "away", "until": until, "note": "On holiday"})
    assert response.status_code == 302
    row = db.session.get(Availability, world["ann"].id)
    assert row.note == "On holiday" and row.until.date().isoformat() == until
    assert state_of(world["ann"], question) != OPEN  # withdrawn: someone else is asked
    page = client.get(UNANSWERED).get_data(as_text=True)
    assert f"You are away until {until}" in page
    page = client.get(AWAY).get_data(as_text=True)
    assert "On holiday" in page and "I am back" in page

    assert client.submit(AWAY, {"action": "back"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Availability, world["ann"].id) is None
    assert not routing.is_away(world["ann"].id)


def test_away_without_a_date(client, world):
    client.login("ann")
    assert client.submit(AWAY, {"action": "away", "until": "", "note": ""}).status_code == 302
    row = db.session.get(Availability, world["ann"].id)
    assert row is not None and row.until is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"until": "next tuesday", "note": "Keep this"}, "Enter a date as YYYY-MM-DD"),
        ({"until": "2001-01-01", "note": "Keep this"}, "Choose a date in the future"),
        ({"until": "", "note": "Keep this" + "x" * 200}, "at most 200 characters"),
    ],
)
def test_away_refuses_bad_input_keeping_what_was_typed(client, world, data, message):
    client.login("ann")
    response = client.submit(AWAY, {"action": "away", **data})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "Keep this" in page
    if data["until"]:
        assert data["until"] in page
    assert db.session.get(Availability, world["ann"].id) is None


def test_away_refuses_an_unknown_action(client, world):
    client.login("ann")
    response = client.submit(AWAY, {"action": "dance"})
    assert response.status_code == 400
    assert "Choose whether you are away or back." in response.get_data(as_text=True)


def test_away_needs_the_csrf_token(client, world):
    client.login("ann")
    assert client.post(AWAY, data={"action": "away", "note": "x"}).status_code == 400
    assert db.session.get(Availability, world["ann"].id) is None
    routing.set_away(world["ann"])
    assert client.post(AWAY, data={"action": "back"}).status_code == 400
    assert routing.is_away(world["ann"].id)


def test_pages_are_gone_while_the_plugin_is_disabled(client, world, runner):
    assert runner.invoke(args=["plugins", "disable", "experts"]).exit_code == 0
    client.login("ann")
    assert client.get(UNANSWERED).status_code == 404
    assert client.get(AWAY).status_code == 404
    response = client.get("/plugins/experts/static/routing.css")
    response.close()
    assert response.status_code == 404


def test_the_stylesheet_is_served(client, world):
    response = client.get("/plugins/experts/static/routing.css")
    response.close()
    assert response.status_code == 200
