"""Crisis mode: slow, read-only and pre-moderated spaces (and site), the page and the banner."""

import pytest
from community_moderation import crisis
from community_moderation.models import AuditEntry, Crisis
from sqlalchemy import select

from community.errors import Refused
from community.extensions import db
from community.plugins.settings import save_plugin_settings


@pytest.fixture
def site(enable_plugin, create_user, create_space, create_topic, create_post):
    enable_plugin("moderation")
    # No duplicate or newcomer rules in the way of these tests.
    save_plugin_settings("moderation", {"newcomer_days": 0, "duplicate_hours": 0})
    boss = create_user("boss", role="moderator")
    keeper = create_user("keeper")
    create_user("member")
    asker = create_user("asker")
    help_space = create_space("help", moderators=[keeper])
    routers = create_space("routers", parent=help_space)
    other = create_space("other")
    topic = create_topic(asker, routers, title="How do I reset my router?")
    answer = create_post(asker, topic, "Hold the reset button for ten seconds.")
    quiet = create_topic(asker, other, title="A topic somewhere else")
    return {
        "boss": boss,
        "keeper": keeper,
        "help": help_space,
        "routers": routers,
        "other": other,
        "topic": topic,
        "answer": answer,
        "quiet": quiet,
    }


def topic_url(topic):
    return f"/t/{topic.id}/{topic.slug}"


def switch(client, scope, mode, **extra):
    return client.submit("/moderation/crisis", {"scope": str(scope), "mode": mode, **extra})


def log(action=None):
    stmt = select(AuditEntry).where(AuditEntry.action.like("crisis.%")).order_by(AuditEntry.id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return db.session.scalars(stmt).all()


def test_read_only_space_and_the_spaces_inside_it(client, site):
    client.login("keeper")
    page = client.get("/moderation/crisis").get_data(as_text=True)
    assert "Help" in page and "Routers" in page and "Whole site" not in page
    response = switch(client, site["help"].id, "read_only", message="Spam wave, back soon.")
    assert response.status_code == 302
    client.logout()

    client.login("member")
    page = client.get(topic_url(site["topic"])).get_data(as_text=True)
    assert "Crisis mode: this space is read-only for now." in page
    assert "Spam wave, back soon." in page
    assert 'class="mod-banner mod-banner-crisis" role="status"' in page
    response = client.submit(f"/t/{site['topic'].id}/reply", {"body": "Can I still reply?"})
    assert response.status_code == 400
    assert "read-only for now" in response.get_data(as_text=True)
    assert "Can I still reply?" in response.get_data(as_text=True)
    response = client.submit(f"/p/{site['answer'].id}/vote", {"value": "up"})
    assert response.status_code == 403
    assert "read-only" in response.get_data(as_text=True)
    response = client.submit(
        "/s/routers/new", {"kind": "question", "title": "A brand new question", "body": "Body."}
    )
    assert response.status_code == 400
    # Other spaces go on as usual, without the banner.
    page = client.get(topic_url(site["quiet"])).get_data(as_text=True)
    assert "Crisis mode" not in page
    response = client.submit(f"/t/{site['quiet'].id}/reply", {"body": "All fine over here."})
    assert response.status_code == 302
    client.logout()

    # The space's moderator is not affected.
    client.login("keeper")
    response = client.submit(f"/t/{site['topic'].id}/reply", {"body": "A moderator's note."})
    assert response.status_code == 302

    response = switch(client, site["help"].id, "off")
    assert response.status_code == 302
    assert db.session.scalars(select(Crisis)).all() == []
    start, end = log()
    assert (start.action, start.before, start.after["mode"]) == (
        "crisis.start",
        {"mode": None},
        "read_only",
    )
    assert start.after["message"] == "Spam wave, back soon."
    assert (end.action, end.before["mode"], end.after) == (
        "crisis.end",
        "read_only",
        {"mode": None},
    )
    assert start.space_id == site["help"].id


def test_slow_mode(client, site):
    client.login("keeper")
    assert switch(client, site["routers"].id, "slow", minutes="15").status_code == 302
    client.logout()
    client.login("member")
    page = client.get(topic_url(site["topic"])).get_data(as_text=True)
    assert "one post every 15 minutes per member" in page
    url = f"/t/{site['topic'].id}/reply"
    assert client.submit(url, {"body": "My first reply here."}).status_code == 302
    response = client.submit(url, {"body": "And my second reply."})
    assert response.status_code == 400
    assert "Slow mode is on here: you can post again in 15 minutes." in response.get_data(
        as_text=True
    )
    # Elsewhere, no slow mode.
    assert client.submit(f"/t/{site['quiet'].id}/reply", {"body": "Quiet."}).status_code == 302


def test_premoderate_holds_new_posts(client, site):
    client.login("keeper")
    assert switch(client, site["help"].id, "premoderate").status_code == 302
    [entry] = log("crisis.start")
    assert entry.after == {"mode": "premoderate"}
    # Switching straight to another mode is one click too.
    assert switch(client, site["help"].id, "read_only").status_code == 302
    assert switch(client, site["help"].id, "premoderate").status_code == 302
    assert [e.action for e in log()] == ["crisis.start", "crisis.change", "crisis.change"]
    client.logout()

    client.login("member")
    page = client.get(topic_url(site["topic"])).get_data(as_text=True)
    assert "Crisis mode: new posts here wait for a moderator&#39;s approval." in page or (
        "Crisis mode: new posts here wait for a moderator's approval." in page
    )
    response = client.submit(f"/t/{site['topic'].id}/reply", {"body": "Please approve me."})
    assert response.status_code == 302
    from community.topics.models import Post

    post = db.session.scalars(select(Post).where(Post.body_source == "Please approve me.")).one()
    assert post.held_at is not None


def test_site_wide_only_for_global_moderators(client, site):
    client.login("keeper")
    assert switch(client, "site", "read_only").status_code == 403
    assert switch(client, site["other"].id, "read_only").status_code == 403
    assert switch(client, "99999", "read_only").status_code == 404
    assert db.session.scalars(select(Crisis)).all() == []
    client.logout()

    client.login("boss")
    assert "Whole site" in client.get("/moderation/crisis").get_data(as_text=True)
    assert switch(client, "site", "read_only", message="Maintenance").status_code == 302
    client.logout()
    client.login("member")
    home = client.get("/").get_data(as_text=True)
    assert "Crisis mode: the site is read-only for now." in home and "Maintenance" in home
    response = client.submit(f"/t/{site['quiet'].id}/reply", {"body": "Anyone here?"})
    assert response.status_code == 400
    assert "The site is read-only for now" in response.get_data(as_text=True)
    [entry] = log("crisis.start")
    assert entry.target_type == "site" and entry.space_id is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "panic"}, "Choose slow mode, read-only or pre-moderation."),
        ({"mode": "slow", "minutes": "soon"}, "Slow mode needs a number of minutes"),
        ({"mode": "slow", "minutes": "0"}, "Slow mode needs a number of minutes"),
        ({"mode": "slow", "minutes": "999999"}, "Slow mode needs a number of minutes"),
        ({"mode": "read_only", "message": "x" * 301}, "at most 300 characters"),
    ],
)
def test_bad_input(client, site, data, message):
    client.login("keeper")
    response = client.submit("/moderation/crisis", {"scope": str(site["help"].id), **data})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    if "minutes" in data:
        assert f'value="{data["minutes"]}"' in page
    assert db.session.scalars(select(Crisis)).all() == []


def test_members_do_not_see_the_page(client, site):
    client.login("member")
    assert client.get("/moderation/crisis").status_code == 404
    assert switch(client, site["help"].id, "read_only").status_code == 404


def test_the_gates_directly(site, create_user, create_post):
    crisis.switch(site["boss"], site["help"], "read_only")
    member = create_user("another")
    with pytest.raises(Refused):
        create_post(member, site["topic"], "Blocked by the crisis.")
    # Edits are not new posts.
    assert crisis.post_gate(user=member, action="post.edit", space=site["routers"]) is None
    staff = create_user("employee", staff=True)
    create_post(staff, site["topic"], "Staff may still post.")
    crisis.switch(site["boss"], site["help"], None)
    create_post(member, site["topic"], "Open again, now I can post.")


def test_crises_are_read_once_per_request(client, site, count_queries):
    crisis.switch(site["boss"], site["help"], "slow", 5)
    crisis.switch(site["boss"], None, "premoderate")
    client.login("member")
    client.get(topic_url(site["topic"]))
    with count_queries() as queries:
        client.get(topic_url(site["topic"]))
    crisis_queries = [q for q in queries.statements if "moderation_crises" in q]
    assert len(crisis_queries) == 1
