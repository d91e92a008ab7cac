"""Sanctions: warnings, silences and suspensions, their pages, and how they end."""

from datetime import timedelta

import pytest
from community_moderation import sanctions
from community_moderation.models import AuditEntry, Sanction
from sqlalchemy import select

from community.dbtypes import utcnow
from community.errors import Refused
from community.extensions import db
from community.testing import DEFAULT_PASSWORD


@pytest.fixture
def site(enable_plugin, create_user, create_space, create_topic, create_post):
    enable_plugin("moderation")
    boss = create_user("boss", role="moderator")
    keeper = create_user("keeper")
    space = create_space("help", moderators=[keeper])
    troll = create_user("troll")
    asker = create_user("asker")
    topic = create_topic(asker, space, title="How do I reset my router?")
    answer = create_post(asker, topic, "Hold the reset button for ten seconds.")
    return {
        "boss": boss,
        "keeper": keeper,
        "space": space,
        "troll": troll,
        "topic": topic,
        "answer": answer,
        "asker": asker,
    }


def topic_url(topic):
    return f"/t/{topic.id}/{topic.slug}"


def rows(kind=None):
    stmt = select(Sanction)
    if kind:
        stmt = stmt.where(Sanction.kind == kind)
    return db.session.scalars(stmt).all()


def entries(action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


# --- who may sanction whom -------------------------------------------------------------------


def test_rules_of_who_may_sanction(site, create_user):
    admin = create_user("root", role="admin")
    other_mod = create_user("other", role="moderator")
    staff = create_user("employee", staff=True)
    boss, keeper, troll = site["boss"], site["keeper"], site["troll"]
    assert sanctions.may_sanction(boss, troll)
    assert sanctions.may_sanction(keeper, troll)
    assert sanctions.may_sanction(admin, boss)
    assert not sanctions.may_sanction(boss, admin)  # admins cannot be sanctioned
    assert not sanctions.may_sanction(boss, boss)  # nor oneself
    assert not sanctions.may_sanction(keeper, staff)  # space moderators: members only
    assert not sanctions.may_sanction(keeper, other_mod)
    assert not sanctions.may_sanction(keeper, boss)
    assert not sanctions.may_sanction(troll, site["asker"])
    with pytest.raises(Refused):
        sanctions.impose(keeper, staff, "silence", "Nope", minutes=60)
    with pytest.raises(Refused):
        sanctions.impose(boss, troll, "silence", "   ", minutes=60)
    with pytest.raises(Refused):
        sanctions.impose(boss, troll, "banish", "Bad", minutes=60)
    assert rows() == []


# --- warnings -----------------------------------------------------------------------------------


def test_warning_notifies_the_member(client, site, run_tasks):
    client.login("keeper")
    response = client.submit(
        "/moderation/users/troll", {"kind": "warning", "duration": "1d", "reason": "Be kind."}
    )
    assert response.status_code == 302
    assert [s.kind for s in rows()] == ["warning"]
    entry = entries("sanction.warning")[0]
    assert (entry.actor_name, entry.target_label, entry.reason) == ("keeper", "troll", "Be kind.")
    client.logout()
    client.login("troll")
    inbox = client.get("/notifications").get_data(as_text=True)
    assert "A moderator warned you: Be kind." in inbox


# --- silence ------------------------------------------------------------------------------------


def test_silence_blocks_posting_and_voting_until_it_ends(client, site, create_post):
    client.login("boss")
    response = client.submit(
        "/moderation/users/troll", {"kind": "silence", "duration": "1h", "reason": "Flooding"}
    )
    assert response.status_code == 302
    silence = rows("silence")[0]
    assert silence.ends_at is not None
    entry = entries("sanction.silence")[0]
    assert entry.before["silenced"] is False and entry.after["silenced"] is True
    client.logout()

    client.login("troll")
    topic, answer = site["topic"], site["answer"]
    page = client.get(topic_url(topic)).get_data(as_text=True)
    assert "You can read but not post until" in page and "Flooding" in page
    assert 'role="status"' in page
    # The permission answer hides the forms and refuses the writes.
    response = client.submit(f"/t/{topic.id}/reply", {"body": "I will keep posting anyway."})
    assert response.status_code in (400, 403)
    response = client.submit(f"/p/{answer.id}/vote", {"value": "1"})
    assert response.status_code in (400, 403)
    # The gates say why, to whoever asks them directly.
    assert "You are silenced until" in sanctions.post_gate(user=site["troll"], action="post.create")
    assert "Flooding" in sanctions.vote_gate(site["troll"], answer)

    # Expired: the lazy check lets them post before the task runs ...
    silence.ends_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    db.session.expire_all()
    from flask import g

    g.pop("moderation_sanctions", None)
    assert sanctions.active_silence(site["troll"]) is None
    response = client.submit(f"/t/{topic.id}/reply", {"body": "Sorry, I calmed down now."})
    assert response.status_code == 302
    # ... and the periodic task records it as lifted.
    assert sanctions.lift_expired() == 1
    db.session.refresh(silence)
    assert silence.lifted_at is not None and silence.lifted_by_id is None
    lift = entries("sanction.lift")[0]
    assert lift.actor_id is None and lift.after == {"silenced": False}


def test_lift_a_silence_by_hand(client, site):
    sanction = sanctions.impose(site["boss"], site["troll"], "silence", "Flooding", minutes=None)
    client.login("keeper")
    page = client.get("/moderation/sanctions").get_data(as_text=True)
    assert "troll" in page and "Until lifted" in page
    # A space moderator does not undo a site moderator's decision: no button, and 403.
    assert f"/moderation/sanctions/{sanction.id}/lift" not in page
    assert client.submit(f"/moderation/sanctions/{sanction.id}/lift").status_code == 403
    client.logout()
    client.login("boss")
    response = client.submit(f"/moderation/sanctions/{sanction.id}/lift", {"back": "list"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/moderation/sanctions")
    db.session.refresh(sanction)
    assert sanction.lifted_at is not None
    assert "Nobody is silenced" in client.get("/moderation/sanctions").get_data(as_text=True)
    assert len(entries("sanction.lift")) == 1


# --- suspension ---------------------------------------------------------------------------------


def test_suspension_blocks_sign_in_with_reason_and_ends_on_its_own(client, site):
    client.login("boss")
    response = client.submit(
        "/moderation/users/troll", {"kind": "suspend", "duration": "3d", "reason": "spam"}
    )
    assert response.status_code == 302
    db.session.refresh(site["troll"])
    assert site["troll"].active is False
    # One audit entry: core's user.suspend, with the plugin's end date added.
    [entry] = entries("user.suspend")
    assert entry.reason == "spam" and entry.before == {"active": True}
    assert entry.after["active"] is False and entry.after["until"]
    assert entries("sanction.suspend") == []
    client.logout()

    response = client.submit("/login", {"login": "troll", "password": DEFAULT_PASSWORD})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This account is suspended." in page and "Suspended until" in page and "spam" in page

    suspension = rows("suspend")[0]
    suspension.ends_at = utcnow() - timedelta(seconds=5)
    db.session.commit()
    assert sanctions.lift_expired() == 1
    db.session.refresh(site["troll"])
    assert site["troll"].active is True
    [reinstated] = entries("user.reinstate")
    assert reinstated.actor_id is None
    client.login("troll")


def test_lifting_a_suspension_reinstates(client, site):
    sanction = sanctions.impose(site["boss"], site["troll"], "suspend", "spam", minutes=None)
    client.login("boss")
    page = client.get("/moderation/users/troll").get_data(as_text=True)
    assert "Suspension" in page and "Lift" in page
    assert client.submit(f"/moderation/sanctions/{sanction.id}/lift").status_code == 302
    db.session.refresh(site["troll"])
    assert site["troll"].active is True
    assert len(entries("user.reinstate")) == 1
    assert entries("sanction.lift") == []


def test_the_periodic_task_is_declared():
    from community.tasks import _TASKS

    assert any(name.endswith("lift_expired_sanctions") for name in _TASKS)


# --- pages and bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "silence", "duration": "2 weeks", "reason": "Flooding"}, "Choose how long"),
        ({"kind": "silence", "duration": "1d", "reason": "  "}, "Please give a reason"),
        ({"kind": "suspend", "duration": "1d", "reason": ""}, "Please give a reason"),
        ({"kind": "banish", "duration": "1d", "reason": "Bad"}, "Choose a warning"),
        ({"kind": "warning", "duration": "1d", "reason": ""}, "Please write the warning"),
    ],
)
def test_bad_input_says_why_and_keeps_what_was_typed(client, site, data, message):
    client.login("boss")
    response = client.submit("/moderation/users/troll", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    if data["reason"].strip():
        assert data["reason"] in page
    assert rows() == []


def test_space_moderators_cannot_sanction_moderators(client, site):
    client.login("keeper")
    page = client.get("/moderation/users/boss").get_data(as_text=True)
    assert "Only global moderators and administrators" in page
    response = client.submit(
        "/moderation/users/boss", {"kind": "silence", "duration": "1d", "reason": "Ha"}
    )
    assert response.status_code == 403
    sanction = sanctions.impose(site["boss"], site["troll"], "silence", "x", minutes=60)
    client.logout()
    client.login("troll")
    assert client.submit(f"/moderation/sanctions/{sanction.id}/lift").status_code == 404


def test_members_and_visitors_do_not_see_the_pages(client, site):
    for url in ("/moderation/users/troll", "/moderation/sanctions"):
        assert client.get(url).status_code == 302  # visitors sign in first
    client.login("asker")
    for url in ("/moderation/users/troll", "/moderation/sanctions", "/moderation/log"):
        assert client.get(url).status_code == 404
    response = client.submit(
        "/moderation/users/troll", {"kind": "silence", "duration": "1d", "reason": "Ha"}
    )
    assert response.status_code == 404
    client.logout()
    client.login("boss")
    assert client.get("/moderation/users/nobody-here").status_code == 404
    assert client.submit("/moderation/sanctions/999/lift").status_code == 404
    assert client.get("/moderation/sanctions?page=abc").status_code == 404


def test_a_moderator_finds_the_page_from_the_profile(client, site):
    client.login("keeper")
    assert "/moderation/users/troll" in client.get("/u/troll").get_data(as_text=True)
    client.logout()
    client.login("asker")
    assert "/moderation/users/troll" not in client.get("/u/troll").get_data(as_text=True)


def test_the_warning_kind_is_declared(client, site):
    client.login("troll")
    assert "Warnings from moderators" in client.get("/settings/notifications").get_data(
        as_text=True
    )
