"""Routing unanswered questions to experts: who is asked (never someone who may not see or
answer the question, nor someone away or already busy), in which order, how many, and that
the asking stops when someone answers; passing; the "Unanswered in your spaces" and "Away"
pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from community_experts import routing
from community_experts.models import (
    ANSWERED,
    OPEN,
    PASSED,
    WITHDRAWN,
    Availability,
    Offer,
    SpaceRouting,
)
from community_experts.testing import grant, wait
from sqlalchemy import func, select, update

from community.dbtypes import utcnow
from community.errors import Refused
from community.extensions import db
from community.notifications.models import Notification
from community.plugins.settings import save_plugin_settings
from community.topics.models import Topic

ROUTING_SETTINGS = {
    "route_after_minutes": 30,
    "routing_mode": "round_robin",
    "per_round": 1,
    "max_rounds": 3,
    "max_open_offers": 5,
    "max_question_age_hours": 72,
}


def configure(**changes):
    values = dict(ROUTING_SETTINGS, **changes)
    errors = save_plugin_settings("experts", values)
    assert errors == {}


@pytest.fixture
def world(enable_plugin, create_user, create_space):
    enable_plugin("experts")
    configure()
    help_space = create_space("help", title="Help")
    people = {
        "asker": create_user("asker"),
        "ann": create_user("ann"),
        "bob": create_user("bob"),
        "cat": create_user("cat"),
        "nobody": create_user("nobody"),
        "root": create_user("root", role="admin"),
        "help": help_space,
    }
    grant(people["ann"], help_space)
    grant(people["bob"], help_space)
    return people


def offers(topic=None, user=None, state=None):
    db.session.expire_all()
    stmt = select(Offer).order_by(Offer.id)
    if topic is not None:
        stmt = stmt.where(Offer.topic_id == topic.id)
    if user is not None:
        stmt = stmt.where(Offer.user_id == user.id)
    if state is not None:
        stmt = stmt.where(Offer.state == state)
    return list(db.session.scalars(stmt))


def offered_names(topic, state=None):
    return {o.user.username for o in offers(topic, state=state)}


def notified(user):
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.kind == "experts_offered")
    )


# --- who is asked ----------------------------------------------------------------------------


def test_nothing_is_offered_before_the_time(world, create_topic):
    topic = create_topic(world["asker"], world["help"])
    wait(topic, 29)
    assert routing.route() == 0
    wait(topic, 2)
    assert routing.route() == 1
    assert offered_names(topic) == {"ann"}
    assert notified(world["ann"]) == 1
    assert routing.route() == 0  # idempotent


def test_an_expert_who_may_not_see_the_space_is_never_offered_its_question(
    world, create_user, create_space, create_topic
):
    # ann and bob are experts of Help; its staff-only room inside is covered by their
    # expertise, but only staff may see it. boss is a staff member and an expert there.
    room = create_space("staff-room", visibility="staff", parent=world["help"])
    boss = create_user("boss", staff=True)
    grant(boss, room)
    grant(world["cat"], room)  # granted, but not staff: may not see it either
    question = create_topic(create_user("colleague", staff=True), room, title="Secret plans?")
    configure(per_round=5)
    wait(question, 31)
    assert routing.route() == 1
    wait(question, 200)  # every round of asking
    assert routing.route() == 0
    assert offered_names(question) == {"boss"}
    for name in ("ann", "bob", "cat"):
        assert notified(world[name]) == 0
    assert notified(boss) == 1


def test_tag_experts_who_may_not_see_the_space_are_not_offered(
    world, create_user, create_space, create_topic, monkeypatch
):
    from community_experts import expertise

    room = create_space("staff-room", visibility="staff")
    question = create_topic(create_user("boss", staff=True), room, tags="wifi")
    tag_id = question.tags[0].id
    monkeypatch.setattr(expertise, "tag_experts", lambda ids: {tag_id: {world["cat"].id}})
    wait(question, 100)
    assert routing.route() == 0
    assert offers(question) == []
    assert notified(world["cat"]) == 0


def test_tag_experts_are_asked_too(world, create_space, create_topic, monkeypatch):
    from community_experts import expertise

    other = create_space("other")
    question = create_topic(world["asker"], other, tags="wifi")
    tag_id = question.tags[0].id
    monkeypatch.setattr(expertise, "tag_experts", lambda ids: {tag_id: {world["cat"].id}})
    wait(question, 31)
    assert routing.route() == 1
    assert offered_names(question) == {"cat"}


def test_the_asker_is_never_offered_their_own_question(world, create_topic):
    question = create_topic(world["ann"], world["help"])
    configure(per_round=5)
    wait(question, 31)
    routing.route()
    assert offered_names(question) == {"bob"}


def test_round_robin_spreads_questions_over_experts(world, create_topic):
    questions = [create_topic(world["asker"], world["help"]) for _ in range(4)]
    for question in questions:
        wait(question, 31)
    assert routing.route() == 4
    names = [offered_names(q) for q in questions]
    assert names == [{"ann"}, {"bob"}, {"ann"}, {"bob"}]
    # The next question goes to whoever was asked longest ago.
    later = create_topic(world["asker"], world["help"])
    wait(later, 31)
    assert routing.route() == 1
    assert offered_names(later) == {"ann"}


def test_by_availability_the_least_busy_expert_is_asked(world, create_topic):
    configure(routing_mode="availability")
    first = create_topic(world["asker"], world["help"])
    second = create_topic(world["asker"], world["help"])
    wait(first, 31)
    wait(second, 31)
    routing.route()
    assert [offered_names(first), offered_names(second)] == [{"ann"}, {"bob"}]
    routing.pass_offer(world["bob"], second)  # bob has no open offer now, ann one
    third = create_topic(world["asker"], world["help"])
    wait(third, 31)
    routing.route()
    assert "bob" in offered_names(third)


def test_more_experts_are_asked_each_round_up_to_the_limit(world, create_user, create_topic):
    grant(world["cat"], world["help"])
    dan = create_user("dan")
    grant(dan, world["help"])
    configure(max_rounds=2)
    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    assert routing.route() == 1
    wait(question, 30)
    assert routing.route() == 1
    wait(question, 120)
    assert routing.route() == 0  # two rounds at most
    assert len(offers(question)) == 2
    assert {o.round for o in offers(question)} == {1, 2}


def test_away_experts_are_skipped(world, create_topic):
    routing.set_away(world["ann"], note="On holiday")
    assert routing.is_away(world["ann"].id)
    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    routing.route()
    assert offered_names(question) == {"bob"}
    routing.come_back(world["ann"])
    assert not routing.is_away(world["ann"].id)
    another = create_topic(world["asker"], world["help"])
    wait(another, 31)
    routing.route()
    assert offered_names(another) == {"ann"}


def test_an_absence_that_ran_out_is_over(world, create_topic):
    routing.set_away(world["ann"], until=utcnow() + timedelta(hours=1))
    db.session.execute(
        update(Availability)
        .where(Availability.user_id == world["ann"].id)
        .values(until=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    assert not routing.is_away(world["ann"].id)
    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    routing.route()
    assert offered_names(question) == {"ann"}


def test_going_away_withdraws_open_offers_and_someone_else_is_asked(world, create_topic):
    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    routing.route()
    assert offered_names(question) == {"ann"}
    routing.set_away(world["ann"])
    assert [o.state for o in offers(question)] == [WITHDRAWN]
    assert routing.route() == 1
    assert offered_names(question, OPEN) == {"bob"}


def test_set_away_refuses_bad_values(world):
    with pytest.raises(Refused) as refused:
        routing.set_away(world["ann"], note="x" * 201)
    assert refused.value.field == "note"
    with pytest.raises(Refused) as refused:
        routing.set_away(world["ann"], until=utcnow() - timedelta(days=1))
    assert refused.value.field == "until"
    assert not routing.is_away(world["ann"].id)


def test_max_open_offers_is_respected(world, create_topic):
    configure(max_open_offers=1)
    questions = [create_topic(world["asker"], world["help"]) for _ in range(3)]
    for question in questions:
        wait(question, 31)
    assert routing.route() == 2
    assert routing.open_offer_counts([world["ann"].id, world["bob"].id]) == {
        world["ann"].id: 1,
        world["bob"].id: 1,
    }
    assert offers(questions[2]) == []
    # ann passes: she is free again, and the third question goes to her.
    assert routing.pass_offer(world["ann"], questions[0])
    assert routing.route() == 1
    assert offered_names(questions[2]) == {"ann"}
    assert routing.open_offer_count(world["ann"]) == 1


def test_pass_lets_someone_else_be_asked(world, create_topic):
    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    routing.route()
    assert routing.pass_offer(world["ann"], question)
    assert not routing.pass_offer(world["ann"], question)  # only once
    assert [o.state for o in offers(question)] == [PASSED]
    assert routing.route() == 1
    assert offered_names(question, OPEN) == {"bob"}
    assert routing.route() == 0


# --- stop asking -----------------------------------------------------------------------------


def test_an_answer_stops_the_asking(world, create_user, create_topic, create_post):
    configure(per_round=2)
    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    assert routing.route() == 2
    create_post(world["bob"], question, "Here is how.")
    states = {o.user.username: (o.state, o.answered_by_them) for o in offers(question)}
    assert states == {"ann": (ANSWERED, False), "bob": (ANSWERED, True)}
    assert all(o.closed_at is not None for o in offers(question))
    grant(world["cat"], world["help"])
    wait(question, 300)
    assert routing.route() == 0
    assert len(offers(question)) == 2


def test_the_askers_own_reply_and_comments_do_not_stop_it(
    world, create_topic, create_post, create_user
):
    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    routing.route()
    create_post(world["asker"], question, "More details: it blinks red.")
    assert [o.state for o in offers(question)] == [OPEN]


def test_a_deleted_question_is_withdrawn(world, create_topic):
    from community.topics.services import delete_post

    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    routing.route()
    opening = db.session.scalar(select(Topic).where(Topic.id == question.id))  # the opening post
    from community.topics.models import Post

    post = db.session.scalar(
        select(Post).where(Post.topic_id == opening.id, Post.is_opening.is_(True))
    )
    delete_post(world["asker"], post)
    assert [o.state for o in offers(question)] == [WITHDRAWN]
    assert routing.route() == 0


def test_answered_while_the_plugin_was_off_is_withdrawn_at_routing_time(world, create_topic):
    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    routing.route()
    db.session.execute(
        update(Topic).where(Topic.id == question.id).values(first_answer_at=utcnow())
    )
    db.session.commit()
    assert routing.route() == 0
    assert [o.state for o in offers(question)] == [WITHDRAWN]


def test_a_moved_question_is_withdrawn_from_those_who_lost_sight(
    world, create_user, create_space, create_topic
):
    from community.topics.services import move_topic

    room = create_space("staff-room", visibility="staff")
    boss = create_user("boss", staff=True)
    grant(boss, world["help"])
    configure(per_round=3)
    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    assert routing.route() == 3
    move_topic(world["root"], question, room)
    states = {o.user.username: o.state for o in offers(question)}
    assert states == {"ann": WITHDRAWN, "bob": WITHDRAWN, "boss": OPEN}


def test_a_suspended_expert_is_withdrawn(world, create_topic):
    from community.accounts.services import suspend_user

    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    routing.route()
    suspend_user(world["ann"], world["root"], "spam")
    assert [o.state for o in offers(question)] == [WITHDRAWN]
    assert routing.route() == 1
    assert offered_names(question, OPEN) == {"bob"}


def test_only_open_offers_change(world, create_topic, create_post):
    configure(per_round=2)
    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    routing.route()
    routing.pass_offer(world["ann"], question)
    create_post(world["bob"], question, "Answer")
    states = {o.user.username: o.state for o in offers(question)}
    assert states == {"ann": PASSED, "bob": ANSWERED}


def test_questions_too_old_are_not_offered(world, create_topic):
    question = create_topic(world["asker"], world["help"])
    wait(question, 73 * 60)
    assert routing.route() == 0


def test_a_second_offer_of_the_same_question_is_refused_quietly(world, create_topic):
    question = create_topic(world["asker"], world["help"])
    now = utcnow()
    assert routing._make_offer(question, world["ann"], 1, now) is not None
    assert routing._make_offer(question, world["ann"], 1, now) is None  # concurrent run
    assert len(offers(question)) == 1  # and the session goes on


def test_a_concurrent_run_does_not_offer_twice_nor_too_many(world, create_topic, monkeypatch):
    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    original = routing.prefetch_moderated_spaces

    def meanwhile(user_ids):
        # Another worker offers the question to ann after this run read the offers.
        db.session.add(
            Offer(topic_id=question.id, user_id=world["ann"].id, space_id=question.space_id)
        )
        db.session.commit()
        original(user_ids)

    monkeypatch.setattr(routing, "prefetch_moderated_spaces", meanwhile)
    assert routing.route() == 0
    monkeypatch.setattr(routing, "prefetch_moderated_spaces", original)
    assert offered_names(question) == {"ann"}  # not bob as well: one per round
    assert routing.route() == 0


# --- a space's routing -----------------------------------------------------------------------


def test_space_routing_defaults_and_saving(world, create_topic, monkeypatch):
    audited = []
    monkeypatch.setattr(routing, "audit", lambda *a, **kw: audited.append((a, kw)))
    space = world["help"]
    default = routing.space_routing(space)
    assert (default.enabled, default.after_minutes, default.mode, default.per_round) == (
        True,
        30,
        "round_robin",
        1,
    )
    saved = routing.save_space_routing(world["root"], space, after_minutes=10, mode="availability")
    assert (saved.after_minutes, saved.mode, saved.custom) == (10, "availability", True)
    assert audited[0][0][1] == "experts.routing"
    assert audited[0][1]["after"]["after_minutes"] == 10
    for bad in ({"after_minutes": 0}, {"per_round": "two"}, {"mode": "random"}):
        with pytest.raises(Refused):
            routing.save_space_routing(world["root"], space, **bad)
    assert routing.space_routing(space.id).after_minutes == 10

    question = create_topic(world["asker"], space)
    wait(question, 11)
    assert routing.route() == 1
    routing.save_space_routing(world["root"], space, enabled=False)
    assert db.session.get(SpaceRouting, space.id).enabled is False
    other = create_topic(world["asker"], space)
    wait(other, 100)
    assert routing.route() == 0


def test_the_periodic_task_runs_only_while_enabled(world, create_topic, runner):
    question = create_topic(world["asker"], world["help"])
    wait(question, 31)
    result = runner.invoke(args=["plugins", "disable", "experts"])
    assert result.exit_code == 0, result.output
    routing.route_unanswered_questions()
    routing.refresh_expertise()
    assert offers(question) == []
    result = runner.invoke(args=["plugins", "enable", "experts"])
    assert result.exit_code == 0, result.output
    routing.route_unanswered_questions()
    routing.refresh_expertise()
    assert offered_names(question) == {"ann"}
