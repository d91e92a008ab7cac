"""Review findings: each test states what is wrong and what correct behaviour is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from community_moderation import flags, sanctions
from community_moderation.models import Flag
from sqlalchemy import select

from community.dbtypes import utcnow
from community.extensions import db
from community.plugins.settings import save_plugin_settings


@pytest.fixture
def site(enable_plugin, create_user, create_space, create_topic, create_post):
    enable_plugin("moderation")
    # Topics here share their default body: no duplicate check.
    assert save_plugin_settings("moderation", {"duplicate_hours": 0}) == {}

    boss = create_user("boss", role="moderator")
    keeper = create_user("keeper")
    space = create_space("help", moderators=[keeper])
    asker = create_user("asker")
    helper = create_user("helper")
    troll = create_user("troll")
    topic = create_topic(asker, space, title="How do I reset my router?")
    answer = create_post(helper, topic, "Hold the reset button for ten seconds.")
    return {
        "boss": boss,
        "keeper": keeper,
        "space": space,
        "asker": asker,
        "helper": helper,
        "troll": troll,
        "topic": topic,
        "answer": answer,
    }


def test_audit_log_far_future_date_is_not_a_server_error(client, site):
    """/moderation/log?to=9999-12-31 adds a day to the last representable date
    (web_tools.log: ``day + timedelta(days=1)``) and raises OverflowError: a 500. Bad input
    must get a clear message (400) or simply no entries, never a 500."""
    client.login("boss")
    response = client.get("/moderation/log?to=9999-12-31")
    assert response.status_code in (200, 400)


def test_lifting_a_sanction_with_a_huge_id_is_a_404(client, site):
    """/moderation/sanctions/<int:sanction_id>/lift accepts any number of digits and hands it
    to db.session.get: on SQLite the driver raises OverflowError (500). An id that cannot
    exist must answer 404."""
    client.login("boss")
    response = client.submit("/moderation/sanctions/99999999999999999999999/lift")
    assert response.status_code == 404


def test_a_silenced_member_cannot_flag(client, site):
    """A silence makes a member read-only ("can read but not post or vote"), yet the flag
    form still accepts their flags (flags.may_flag and web_queue.flag ignore silences), so a
    silenced troll can keep flagging — and with others auto-hide — posts. Flagging must be
    refused while silenced, and nothing stored."""
    sanctions.impose(site["boss"], site["troll"], "silence", "Flooding", minutes=60)
    client.login("troll")
    response = client.submit(
        f"/moderation/flag/{site['answer'].id}", {"reason": "spam", "text": ""}
    )
    assert db.session.scalars(select(Flag)).all() == []
    assert response.status_code in (403, 400, 302)


def test_audit_log_does_not_show_space_moderators_a_private_merge_target(
    client, site, create_space, create_topic
):
    """A global moderator merges a public duplicate into a topic of a staff-only space. The
    ``topic.merge`` entry is filed under the *source* space (audit.describe_target uses the
    source topic's space) but its ``after`` holds the target's title (core merge_topic
    passes ``after={"title": target.title}``), so the source space's moderator, who may not
    see the staff space, reads the private topic's title in /moderation/log. Entries must not
    show space moderators what they may not see."""
    from community.topics.services import merge_topic

    internal = create_space("internal", visibility="staff")
    secret = create_topic(
        site["boss"], internal, title="Layoffs planned for the router team in March"
    )
    duplicate = create_topic(site["asker"], site["space"], title="Is the router team changing?")
    merge_topic(site["boss"], duplicate, secret)

    client.login("keeper")
    assert client.get(f"/t/{secret.id}").status_code == 404  # keeper may not see it
    page = client.get("/moderation/log").get_data(as_text=True)
    assert "Layoffs planned" not in page


def test_the_end_of_a_short_suspension_does_not_lift_an_admins_suspension(
    client, site, create_user
):
    """An administrator suspends an account indefinitely (core suspend_user, e.g. the admin
    user form). A moderator then adds a one-day suspension through the plugin; suspend_user
    reports the account already suspended, but when the day is over lift_expired →
    sanctions.lift calls reinstate_user because no *plugin* sanction is live any more
    (sanctions.py lift, ``if still is None: reinstate_user``), and the account the admin
    suspended is active again. Only the suspension that ran out may end."""
    from community.accounts.services import suspend_user

    admin = create_user("root", role="admin")
    suspend_user(site["troll"], admin, "Chargeback fraud")
    sanction = sanctions.impose(site["boss"], site["troll"], "suspend", "Spam", minutes=60 * 24)
    sanction.ends_at = utcnow() - timedelta(seconds=5)
    db.session.commit()
    sanctions.lift_expired()
    db.session.refresh(site["troll"])
    assert site["troll"].active is False


def test_queue_actions_need_the_csrf_token(client, site):
    """Confirmed fine: /moderation/act without the CSRF token changes nothing."""
    flags.add_flag(site["troll"], site["answer"], "spam")
    client.login("keeper")
    response = client.post(
        "/moderation/act", data={"action": "hide", "post": str(site["answer"].id)}
    )
    assert response.status_code == 400
    db.session.refresh(site["answer"])
    assert site["answer"].hidden_at is None


def test_space_moderator_cannot_act_on_mixed_ids(
    client, site, create_space, create_topic, create_post
):
    """Confirmed fine: one post outside the moderator's spaces refuses the whole batch."""
    other = create_space("news")
    outside = create_post(
        site["helper"],
        create_topic(site["asker"], other, title="Release notes for 2.0"),
        "Outside reply text here.",
    )
    client.login("keeper")
    response = client.submit(
        "/moderation/act",
        {"action": "hide", "post": [str(site["answer"].id), str(outside.id)]},
    )
    assert response.status_code == 403
    for post in (site["answer"], outside):
        db.session.refresh(post)
        assert post.hidden_at is None


# Rate limits on, in memory, for this test only (overrides the app_config fixture).
@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}]
)
def test_a_sign_up_refused_for_a_taken_name_does_not_use_up_the_address_limit(
    app_config, client, site
):
    """The registration view asks the plugins' registration gate (limits.registration_gate
    counts one sign-up for the address) *before* core's register_user checks the name and
    the email, so attempts refused with "That username is taken." each use up the address's
    sign-up allowance; after two typos (limit 2/hour) a valid sign-up is refused with "Too
    many accounts were created from your address" although none was. Only sign-ups that
    actually create an account (or at least pass core's checks) may count
    (community/accounts/views.py register, plugins limits.registration_gate)."""
    from community.extensions import limiter
    from community.testing import DEFAULT_PASSWORD

    limiter.reset()
    assert save_plugin_settings("moderation", {"limit_registrations": "2/hour"}) == {}

    def sign_up(name, email):
        return client.submit(
            "/register",
            {
                "username": name,
                "email": email,
                "password": DEFAULT_PASSWORD,
                "confirm": DEFAULT_PASSWORD,
            },
        )

    for n in range(2):
        page = sign_up("troll", f"someone{n}@example.com").get_data(as_text=True)
        assert "That username is taken." in page
    response = sign_up("newcomer", "newcomer@example.com")
    limiter.reset()
    assert "Too many accounts" not in response.get_data(as_text=True)
    assert response.status_code == 302


def test_a_space_moderator_cannot_lift_a_global_moderators_suspension(
    client, site, create_space, create_topic, create_post
):
    """A global moderator suspends a member indefinitely for spam in a space "news" that
    "keeper" does not moderate. /moderation/sanctions lists it to every space moderator, and
    sanctions.lift only asks refusal(actor, member) — "may this actor sanction this member?"
    — so "keeper", a moderator of an unrelated space, lifts it and reinstates the account.
    A space moderator must not undo a sanction imposed above them / outside their spaces
    (sanctions.py lift → refusal): 403 and nothing changes."""
    news = create_space("news")
    spam = create_post(
        site["troll"],
        create_topic(site["asker"], news, title="Release notes for 2.0"),
        "Cheap watches at example.com",
    )
    sanction = sanctions.impose(site["boss"], site["troll"], "suspend", "Spam", post=spam)
    client.login("keeper")
    response = client.submit(f"/moderation/sanctions/{sanction.id}/lift")
    db.session.refresh(site["troll"])
    db.session.refresh(sanction)
    assert response.status_code == 403
    assert sanction.lifted_at is None
    assert site["troll"].active is False


def test_a_silenced_member_cannot_edit_their_post(client, site, create_post):
    """Confirmed fine: the silence also refuses edits (the post gate runs for post.edit)."""
    post = create_post(site["troll"], site["topic"], "My first, harmless reply here.")
    sanctions.impose(site["boss"], site["troll"], "silence", "Flooding", minutes=60)
    client.login("troll")
    client.submit(f"/p/{post.id}/edit", {"body": "Now full of insults and spam links."})
    db.session.refresh(post)
    assert post.body_source == "My first, harmless reply here."


def test_flagging_a_hidden_post_of_someone_else_is_a_404(client, site):
    """Confirmed fine: members cannot learn that a hidden post exists through the flag form."""
    from community.topics.services import hide_post

    hide_post(site["keeper"], site["answer"], "Rude")
    client.login("troll")
    assert client.get(f"/moderation/flag/{site['answer'].id}").status_code == 404
    response = client.submit(f"/moderation/flag/{site['answer'].id}", {"reason": "spam"})
    assert response.status_code == 404
    assert db.session.scalars(select(Flag)).all() == []
