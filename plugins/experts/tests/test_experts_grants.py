"""Granted expertise: who may grant and revoke the expert badge in a space (admins anywhere,
a space's moderators only in their spaces), the reason, refusals, the audit and the
notification, and that a grant stays until it is revoked."""

from __future__ import annotations

import pytest
from community_experts import expertise, grants
from community_experts.models import Grant
from sqlalchemy import func, select

from community.accounts.services import suspend_user
from community.errors import Refused
from community.extensions import db
from community.notifications.models import Notification


@pytest.fixture
def site(enable_plugin, create_user, create_space):
    enable_plugin("experts")
    users = {
        "root": create_user("root", role="admin"),
        "globalmod": create_user("globalmod", role="moderator"),
        "moda": create_user("moda"),
        "modb": create_user("modb"),
        "eng": create_user("eng"),
        "plain": create_user("plain"),
    }
    users["routers"] = create_space("routers", title="Routers", moderators=[users["moda"]])
    users["mesh"] = create_space("mesh", title="Mesh Wi-Fi", parent=users["routers"])
    users["billing"] = create_space("billing", title="Billing", moderators=[users["modb"]])
    users["staffroom"] = create_space("staffroom", title="Staff room", visibility="staff")
    return users


@pytest.fixture
def audits(monkeypatch):
    calls = []

    def record(actor, action, target=None, **kw):
        calls.append({"actor": actor, "action": action, "target": target, **kw})

    monkeypatch.setattr(grants, "audit", record)
    return calls


def granted(user, space):
    return grants.find_grant(user.id, space.id) is not None


def grant_count():
    return db.session.scalar(select(func.count()).select_from(Grant))


# --- permissions through the pages -----------------------------------------------------------


def test_space_moderator_grants_and_revokes_only_in_their_spaces(client, site, audits):
    eng = site["eng"]
    client.login("moda")

    response = client.submit(
        "/experts/s/routers/grant", {"username": "eng", "reason": "Product engineer for routers"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/experts/s/routers")
    assert granted(eng, site["routers"])
    page = client.get("/experts/s/routers").get_data(as_text=True)
    assert "Granted" in page and "Product engineer for routers" in page

    # Billing is not theirs: refused, and nothing changes.
    response = client.submit(
        "/experts/s/billing/grant", {"username": "eng", "reason": "Knows invoices"}
    )
    assert response.status_code == 403
    assert not granted(eng, site["billing"])
    grants.grant(site["root"], eng, site["billing"], "Billing engineer")
    response = client.submit(f"/experts/s/billing/revoke/{eng.id}", {"reason": "Not theirs"})
    assert response.status_code == 403
    assert granted(eng, site["billing"])
    response = client.submit("/experts/s/billing/routing", {"after_minutes": "30"})
    assert response.status_code == 403
    assert "Make a member an expert" not in client.get("/experts/s/billing").get_data(as_text=True)

    # A space inside Routers is theirs too (core's space.moderate).
    assert (
        client.submit(
            "/experts/s/mesh/grant", {"username": "eng", "reason": "Mesh too"}
        ).status_code
        == 302
    )
    assert granted(eng, site["mesh"])

    response = client.submit(f"/experts/s/routers/revoke/{eng.id}", {"reason": "Changed team"})
    assert response.status_code == 302
    assert not granted(eng, site["routers"])
    assert granted(eng, site["billing"])
    assert [call["action"] for call in audits] == [
        "experts.grant",
        "experts.grant",  # the admin's grant in Billing
        "experts.grant",
        "experts.revoke",
    ]


def test_plain_members_and_visitors_may_not_grant(client, site):
    eng = site["eng"]
    response = client.submit("/experts/s/routers/grant", {"username": "eng", "reason": "x"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]

    client.login("plain")
    page = client.get("/experts/s/routers").get_data(as_text=True)
    assert "Make a member an expert" not in page
    assert (
        client.submit(
            "/experts/s/routers/grant", {"username": "eng", "reason": "Because"}
        ).status_code
        == 403
    )
    assert (
        client.submit(
            "/experts/s/routers/routing", {"enabled": "y", "after_minutes": "5"}
        ).status_code
        == 403
    )
    # A space they may not see: 404, not 403.
    assert (
        client.submit(
            "/experts/s/staffroom/grant", {"username": "plain", "reason": "Because"}
        ).status_code
        == 404
    )
    grants.grant(site["root"], eng, site["routers"], "Engineer")
    assert client.submit(f"/experts/s/routers/revoke/{eng.id}", {"reason": "No"}).status_code == 403
    assert granted(eng, site["routers"])
    assert grant_count() == 1


def test_admin_and_global_moderator_grant_anywhere(client, site, create_user):
    create_user("boss", staff=True)
    client.login("root")
    for slug in ("routers", "billing"):
        response = client.submit(
            f"/experts/s/{slug}/grant", {"username": "eng", "reason": "Our engineer"}
        )
        assert response.status_code == 302
    response = client.submit(
        "/experts/s/staffroom/grant", {"username": "boss", "reason": "Runs the staff room"}
    )
    assert response.status_code == 302
    client.logout()
    client.login("globalmod")
    response = client.submit("/experts/s/mesh/grant", {"username": "plain", "reason": "Helps"})
    assert response.status_code == 302
    assert grant_count() == 4


# --- the service -----------------------------------------------------------------------------


def test_grant_service_rules(site):
    eng, routers, billing = site["eng"], site["routers"], site["billing"]
    with pytest.raises(grants.Forbidden):
        grants.grant(site["moda"], eng, billing, "Nope")
    with pytest.raises(grants.Forbidden):
        grants.grant(site["plain"], eng, routers, "Nope")
    with pytest.raises(Refused) as refused:
        grants.grant(site["moda"], eng, routers, "   ")
    assert refused.value.field == "reason"
    with pytest.raises(Refused) as refused:
        grants.grant(site["moda"], eng, routers, "x" * 301)
    assert refused.value.field == "reason"
    # A member who may not see the space cannot be its expert.
    with pytest.raises(Refused) as refused:
        grants.grant(site["root"], eng, site["staffroom"], "Secret")
    assert refused.value.field == "username"
    assert grant_count() == 0

    row = grants.grant(site["moda"], eng, routers, "x" * 300)
    assert (row.user_id, row.space_id, row.granted_by_id) == (eng.id, routers.id, site["moda"].id)
    with pytest.raises(grants.AlreadyGranted):
        grants.grant(site["root"], eng, routers, "Again")
    assert grant_count() == 1

    with pytest.raises(grants.Forbidden):
        grants.revoke(site["modb"], eng, routers, "Not mine")
    with pytest.raises(Refused):
        grants.revoke(site["moda"], eng, routers, "")
    assert grants.revoke(site["moda"], eng, routers, "Done") is True
    assert grants.revoke(site["moda"], eng, routers, "Done") is False
    assert grant_count() == 0


def test_suspended_members_cannot_be_granted(site):
    suspend_user(site["eng"], site["root"], "Spam")
    with pytest.raises(Refused) as refused:
        grants.grant(site["root"], site["eng"], site["routers"], "Engineer")
    assert refused.value.field == "username"
    assert grant_count() == 0


def test_two_grants_at_once_make_one(site, monkeypatch):
    """The unique constraint decides when two moderators grant at the same moment."""
    grants.grant(site["root"], site["eng"], site["routers"], "First")
    monkeypatch.setattr(grants, "find_grant", lambda user_id, space_id: None)
    with pytest.raises(grants.AlreadyGranted):
        grants.grant(site["moda"], site["eng"], site["routers"], "Second")
    assert grant_count() == 1
    # The session is still usable.
    assert db.session.scalar(select(Grant.reason)) == "First"


def test_granted_badges_stay_until_revoked(site):
    eng, routers = site["eng"], site["routers"]
    grants.grant(site["moda"], eng, routers, "Product engineer")
    # No accepted answer at all, yet an expert in Routers.
    assert expertise.is_expert(eng.id, routers.id)
    mine = expertise.expertise_of([eng.id])[eng.id]
    assert [(e.scope_id, e.granted, e.earned, e.reason) for e in mine] == [
        (routers.id, True, False, "Product engineer")
    ]
    # Working every standing out again does not take it away.
    expertise.rebuild()
    assert expertise.is_expert(eng.id, routers.id)
    assert eng.id in expertise.experts_in([routers.id])[routers.id]
    grants.revoke(site["moda"], eng, routers, "Left the team")
    assert not expertise.is_expert(eng.id, routers.id)


def test_audit_and_notification(site, audits, run_tasks):
    eng, routers = site["eng"], site["routers"]
    grants.grant(site["moda"], eng, routers, "Product engineer")
    grants.revoke(site["moda"], eng, routers, "Moved to billing")
    grant, revoke = audits
    assert grant["action"] == "experts.grant"
    assert grant["actor"] == site["moda"] and grant["target"] == eng
    assert grant["reason"] == "Product engineer"
    assert grant["before"]["space"] == grant["after"]["space"] == "Routers"
    assert (grant["before"]["granted"], grant["after"]["granted"]) == (False, True)
    assert revoke["action"] == "experts.revoke"
    assert revoke["reason"] == "Moved to billing"
    assert revoke["before"]["space"] == revoke["after"]["space"] == "Routers"
    assert revoke["before"]["granted_reason"] == "Product engineer"
    assert revoke["after"]["granted"] is False

    notes = list(
        db.session.scalars(
            select(Notification).where(
                Notification.user_id == eng.id, Notification.kind == "experts_granted"
            )
        )
    )
    assert len(notes) == 1
    assert notes[0].key == f"granted:{routers.id}"
    assert notes[0].url == "/experts/s/routers"
    assert notes[0].data == {"name": "Routers"}


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message", "kept"),
    [
        ({"username": "eng", "reason": ""}, "Give a reason.", 'value="eng"'),
        ({"username": "", "reason": "An engineer"}, "Give the username", "An engineer"),
        (
            {"username": "nobody-here", "reason": "Knows routers"},
            "There is no member with this username.",
            'value="nobody-here"',
        ),
        ({"username": "eng", "reason": "y" * 301}, "At most 300 characters.", "y" * 301),
    ],
)
def test_bad_grants_are_refused_with_what_was_typed(client, site, data, message, kept):
    client.login("moda")
    response = client.submit("/experts/s/routers/grant", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert kept in page
    assert grant_count() == 0


def test_refusals_of_the_service_come_back_on_the_form(client, site, create_user):
    suspend_user(site["plain"], site["root"], "Spam")
    client.login("root")
    response = client.submit(
        "/experts/s/routers/grant", {"username": "plain", "reason": "Was helpful"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "suspended" in page and "Was helpful" in page
    response = client.submit(
        "/experts/s/staffroom/grant", {"username": "eng", "reason": "Secret engineer"}
    )
    assert response.status_code == 400
    assert "may not see" in response.get_data(as_text=True)
    assert grant_count() == 0


def test_granting_twice_is_refused_nicely(client, site):
    client.login("moda")
    client.submit("/experts/s/routers/grant", {"username": "eng", "reason": "Engineer"})
    response = client.submit(
        "/experts/s/routers/grant", {"username": "ENG", "reason": "Engineer again"}
    )
    assert response.status_code == 302
    assert "already an expert" in client.get("/experts/s/routers").get_data(as_text=True)
    assert grant_count() == 1


def test_revoking_needs_a_reason(client, site):
    eng = site["eng"]
    grants.grant(site["moda"], eng, site["routers"], "Engineer")
    client.login("moda")
    response = client.submit(f"/experts/s/routers/revoke/{eng.id}", {"reason": ""})
    assert response.status_code == 400
    assert "Give a reason." in response.get_data(as_text=True)
    response = client.submit(f"/experts/s/routers/revoke/{eng.id}", {"reason": "z" * 301})
    assert response.status_code == 400
    assert "z" * 301 in response.get_data(as_text=True)
    assert granted(eng, site["routers"])
    assert client.submit("/experts/s/routers/revoke/999999", {"reason": "x"}).status_code == 404
