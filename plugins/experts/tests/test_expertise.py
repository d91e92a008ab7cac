"""Earned expertise: accepted answers and answer votes in the window make an expert in a space
(and on a tag); it drops when they age out, are unaccepted, hidden or deleted, and moves with
a moved topic; granted expertise stays until revoked. And the badge on posts and profiles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from community_experts import expertise
from community_experts.models import SPACE, TAG, Grant, Standing
from sqlalchemy import select, update

from community.dbtypes import utcnow
from community.extensions import db
from community.notifications.models import Notification
from community.plugins.settings import save_plugin_settings
from community.topics import services
from community.topics.models import Tag, Topic


@pytest.fixture
def experts(enable_plugin):
    enable_plugin("experts")
    # Two accepted answers make an expert (score: 2 × 5 ≥ 10), in a 30-day window.
    errors = save_plugin_settings(
        "experts", {"min_accepted": 2, "min_score": 10, "accepted_weight": 5, "window_days": 30}
    )
    assert errors == {}


@pytest.fixture
def people(create_user, create_space):
    routers = create_space("routers", title="Routers")
    return {
        "helper": create_user("helper"),
        "asker": create_user("asker"),
        "other": create_user("other"),
        "routers": routers,
        "mesh": create_space("mesh", title="Mesh", parent=routers),
        "billing": create_space("billing", title="Billing"),
    }


def answered(people, create_topic, create_post, space, n=1, tags=""):
    """``n`` questions in ``space`` by the asker, each answered by the helper and accepted."""
    answers = []
    for i in range(n):
        topic = create_topic(
            people["asker"], space, title=f"Question {space.slug} {i} {utcnow()}", tags=tags
        )
        answer = create_post(people["helper"], topic, f"Answer {i} in {space.slug} {utcnow()}")
        services.accept_answer(people["asker"], answer)
        answers.append(answer)
    return answers


def standing(user, scope_id, scope=SPACE):
    db.session.expire_all()
    return db.session.scalar(
        select(Standing).where(
            Standing.user_id == user.id, Standing.scope == scope, Standing.scope_id == scope_id
        )
    )


def is_expert(user, space):
    db.session.expire_all()
    return expertise.is_expert(user.id, space.id)


def test_accepted_answers_in_the_window_make_an_expert_and_unaccepting_undoes_it(
    experts, people, create_topic, create_post, run_tasks
):
    helper, routers = people["helper"], people["routers"]
    first = answered(people, create_topic, create_post, routers)
    assert not is_expert(helper, routers)
    assert standing(helper, routers.id).accepted == 1
    second = answered(people, create_topic, create_post, routers)
    assert is_expert(helper, routers)
    row = standing(helper, routers.id)
    assert (row.accepted, row.score, row.is_expert) == (2, 10, True)
    # Told once, with the space's name.
    notes = db.session.scalars(
        select(Notification).where(
            Notification.user_id == helper.id, Notification.kind == "experts_earned"
        )
    ).all()
    assert len(notes) == 1 and notes[0].data["name"] == "Routers"
    # Not an expert of another space.
    assert not is_expert(helper, people["billing"])
    services.unaccept_answer(people["asker"], second[0].topic)
    assert not is_expert(helper, routers)
    assert standing(helper, routers.id).accepted == 1
    # Accepting another answer of the same question moves the acceptance away.
    services.accept_answer(people["asker"], second[0])
    assert is_expert(helper, routers)
    other_answer = create_post(people["other"], first[0].topic, "Another way to do it, really")
    services.accept_answer(people["asker"], other_answer)
    assert not is_expert(helper, routers)
    assert standing(people["other"], routers.id).accepted == 1


def test_expertise_drops_when_the_accepted_answers_age_out(
    experts, people, create_topic, create_post
):
    helper, routers = people["helper"], people["routers"]
    answers = answered(people, create_topic, create_post, routers, n=2)
    assert is_expert(helper, routers)
    # One acceptance 29 days old, in a 30-day window (as imported data would be).
    now = utcnow()
    db.session.execute(
        update(Topic)
        .where(Topic.id == answers[0].topic_id)
        .values(accepted_at=now - timedelta(days=29))
    )
    db.session.commit()
    expertise.rebuild()
    assert is_expert(helper, routers)
    # The standing knows when its oldest item leaves the window: in a day.
    due = standing(helper, routers.id).changes_at
    assert now + timedelta(hours=23) < due <= now + timedelta(days=1)
    assert expertise.refresh_due(now=now + timedelta(hours=12)) == 0
    assert is_expert(helper, routers)
    # The hourly refresh a day later works it out again: one acceptance left.
    assert expertise.refresh_due(now=now + timedelta(days=1, minutes=1)) == 1
    assert not is_expert(helper, routers)
    assert standing(helper, routers.id).accepted == 1


def test_votes_count_with_accepted_answers(experts, people, create_topic, create_post, create_user):
    save_plugin_settings(
        "experts", {"min_accepted": 1, "min_score": 8, "accepted_weight": 5, "window_days": 30}
    )
    helper, routers = people["helper"], people["routers"]
    (answer,) = answered(people, create_topic, create_post, routers)
    assert not is_expert(helper, routers)  # 5 < 8
    voters = [create_user(f"voter{i}") for i in range(3)]
    for voter in voters:
        services.cast_vote(voter, answer, 1)
    assert is_expert(helper, routers)  # 5 + 3
    assert standing(helper, routers.id).votes == 3
    services.cast_vote(voters[0], answer, 1)  # the same vote again retracts it
    assert not is_expert(helper, routers)


def test_hidden_deleted_and_own_answers_do_not_count(
    experts, people, create_topic, create_post, create_user
):
    helper, routers = people["helper"], people["routers"]
    moderator = create_user("mod", role="moderator")
    answers = answered(people, create_topic, create_post, routers, n=2)
    assert is_expert(helper, routers)
    services.hide_post(moderator, answers[0], "Spam")
    assert not is_expert(helper, routers)
    services.release_post(moderator, answers[0])
    services.accept_answer(people["asker"], answers[0])
    assert is_expert(helper, routers)
    services.delete_post(moderator, answers[1])
    assert not is_expert(helper, routers)
    services.restore_post(moderator, answers[1])
    services.accept_answer(people["asker"], answers[1])
    assert is_expert(helper, routers)
    # Answering and accepting your own question counts for nothing.
    own = create_topic(helper, routers, title="My own question about routers")
    own_answer = create_post(helper, own, "I found it myself, here is how")
    services.accept_answer(helper, own_answer)
    assert standing(helper, routers.id).accepted == 2


def test_expertise_moves_with_a_moved_topic(experts, people, create_topic, create_post):
    helper, routers, billing = people["helper"], people["routers"], people["billing"]
    answers = answered(people, create_topic, create_post, routers, n=2)
    moderator = people["asker"]
    moderator.role = "moderator"
    db.session.commit()
    services.move_topic(moderator, answers[0].topic, billing)
    assert not is_expert(helper, routers)
    assert standing(helper, billing.id).accepted == 1
    assert standing(helper, routers.id).accepted == 1


def test_granted_expertise_stays_until_revoked(experts, people, create_user):
    engineer, routers = create_user("engineer", staff=True), people["routers"]
    db.session.add(Grant(user_id=engineer.id, space_id=routers.id, reason="Firmware engineer"))
    db.session.commit()
    assert is_expert(engineer, routers)
    expertise.rebuild()
    expertise.refresh_due(now=utcnow() + timedelta(days=400))
    assert is_expert(engineer, routers)
    found = expertise.expertise_of([engineer.id])[engineer.id]
    assert [(e.scope_id, e.earned, e.granted) for e in found] == [(routers.id, False, True)]
    db.session.execute(Grant.__table__.delete())
    db.session.commit()
    assert not is_expert(engineer, routers)


def test_tag_expertise_counts_only_spaces_everyone_may_see(
    experts, people, create_topic, create_post, create_space
):
    helper = people["helper"]
    answered(people, create_topic, create_post, people["routers"], n=2, tags="wifi")
    wifi = db.session.scalar(select(Tag).where(Tag.name == "wifi"))
    assert standing(helper, wifi.id, TAG).is_expert
    members_only = create_space("beta", visibility="members")
    answered(people, create_topic, create_post, members_only, n=2, tags="vpn")
    vpn = db.session.scalar(select(Tag).where(Tag.name == "vpn"))
    assert standing(helper, vpn.id, TAG) is None
    assert is_expert(helper, members_only)  # the space's own expertise still counts


def test_rebuild_matches_incremental_and_reports(
    experts, people, create_topic, create_post, runner
):
    helper, routers = people["helper"], people["routers"]
    answered(people, create_topic, create_post, routers, n=2, tags="wifi")
    before = {
        (r.user_id, r.scope, r.scope_id, r.accepted, r.votes, r.is_expert)
        for r in db.session.scalars(select(Standing))
    }
    db.session.execute(Standing.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["experts", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "2 expertises now, 2 changed" in result.output
    db.session.expire_all()
    after = {
        (r.user_id, r.scope, r.scope_id, r.accepted, r.votes, r.is_expert)
        for r in db.session.scalars(select(Standing))
    }
    assert after == before and is_expert(helper, routers)
    # Nothing to change the second time.
    again = runner.invoke(args=["experts", "rebuild"])
    assert "0 changed" in again.output


# --- display ---------------------------------------------------------------------------------


def test_the_badge_names_the_space_on_posts_and_profiles(
    experts, people, create_topic, create_post, client
):
    helper, routers, mesh, billing = (
        people["helper"],
        people["routers"],
        people["mesh"],
        people["billing"],
    )
    answered(people, create_topic, create_post, routers, n=2)
    topic = create_topic(people["asker"], routers, title="Which firmware for the AX3000?")
    create_post(helper, topic, "The latest stable one, 2.1.4.")
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert "Expert · Routers" in page and 'class="badge badge-expert"' in page
    # In a space inside Routers, the Routers expert is an expert too.
    inner = create_topic(people["asker"], mesh, title="Satellite keeps blinking orange")
    create_post(helper, inner, "Move it closer to the main unit for the pairing.")
    page = client.get(f"/t/{inner.id}/{inner.slug}").get_data(as_text=True)
    assert "Expert · Routers" in page
    # Not in another space.
    elsewhere = create_topic(people["asker"], billing, title="Invoice address change")
    create_post(helper, elsewhere, "Under Account, Billing address, you can edit it.")
    page = client.get(f"/t/{elsewhere.id}/{elsewhere.slug}").get_data(as_text=True)
    assert "Expert ·" not in page
    profile = client.get("/u/helper").get_data(as_text=True)
    assert "Expert · Routers" in profile and "Expertise" in profile


def test_a_private_spaces_expertise_is_not_shown_to_who_may_not_see_it(
    experts, people, create_topic, create_post, create_space, client, create_user
):
    # Its moderators may ask and answer there; a plain visitor may not see it.
    staff_room = create_space(
        "lounge",
        title="Secret Lounge",
        visibility="staff",
        moderators=[people["asker"], people["helper"]],
    )
    answered(people, create_topic, create_post, staff_room, n=2)
    assert is_expert(people["helper"], staff_room)
    assert "Secret Lounge" not in client.get("/u/helper").get_data(as_text=True)
    create_user("boss", staff=True)
    client.login("boss")
    assert "Expert · Secret Lounge" in client.get("/u/helper").get_data(as_text=True)


def test_topic_page_queries_do_not_grow_with_experts(
    experts, people, create_topic, create_post, create_user, client, count_queries
):
    routers = people["routers"]

    def page_with(n):
        topic = create_topic(people["asker"], routers, title=f"A question with {n} answers")
        for i in range(n):
            user = create_user(f"u{n}x{i}")
            db.session.add(Grant(user_id=user.id, space_id=routers.id, reason="x"))
            create_post(user, topic, f"Answer {i} of {n}")
        db.session.commit()
        url = f"/t/{topic.id}/{topic.slug}"
        client.get(url)
        with count_queries() as counter:
            page = client.get(url).get_data(as_text=True)
        assert page.count("Expert · Routers") == n
        return len(counter)

    assert page_with(3) == page_with(15)


def test_enabling_or_changing_the_thresholds_works_everything_out_again(
    people, create_topic, create_post, create_user, client, run_tasks
):
    """Events are missed while the plugin is off, and the thresholds decide who is an expert:
    enabling it, or saving new thresholds, has the worker rebuild every standing."""
    helper, routers = people["helper"], people["routers"]
    answered(people, create_topic, create_post, routers, n=4)  # while the plugin is off
    create_user("boss", role="admin")
    client.login("boss")
    assert client.submit("/admin/plugins/experts/enable").status_code == 302
    run_tasks()
    # The defaults: 3 accepted answers and a score of 20 (4 × 5).
    assert is_expert(helper, routers)
    assert standing(helper, routers.id).accepted == 4
    form = {spec.key: str(expertise.settings()[spec.key]) for spec in _settings_specs()}
    form["min_accepted"] = "5"
    response = client.submit("/admin/plugins/experts", form)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert is_expert(helper, routers)  # not yet: the worker does it
    run_tasks()
    assert not is_expert(helper, routers)


def _settings_specs():
    from community_experts.settings import SETTINGS

    return SETTINGS
