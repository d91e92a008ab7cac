"""The audit log: every action of core's tools and the plugin's, and who may read what."""

from datetime import timedelta

import pytest
from community_moderation import audit
from community_moderation.models import AuditEntry
from community_moderation.settings import SETTINGS
from sqlalchemy import select

from community.dbtypes import utcnow
from community.extensions import db
from community.plugins.settings import save_plugin_settings


@pytest.fixture
def site(enable_plugin, create_user, create_space, create_topic, create_post):
    enable_plugin("moderation")
    # The factories' default texts would be duplicates.
    save_plugin_settings("moderation", {"duplicate_hours": 0})
    root = create_user("root", role="admin")
    keeper = create_user("keeper")
    create_user("member")
    asker = create_user("asker")
    helper = create_user("helper")
    help_space = create_space("help", moderators=[keeper])
    other = create_space("other")
    topic = create_topic(asker, help_space, title="How do I reset my router?")
    answer = create_post(helper, topic, "Hold the reset button for ten seconds.")
    second = create_post(helper, topic, "Or unplug it for a whole minute.")
    duplicate = create_topic(asker, help_space, title="Router reset, how?", body="Same question.")
    elsewhere = create_topic(asker, other, title="Something in another space")
    db.session.query(AuditEntry).delete()  # enabling the plugin was logged
    db.session.commit()
    return {
        "root": root,
        "keeper": keeper,
        "help": help_space,
        "other": other,
        "topic": topic,
        "answer": answer,
        "second": second,
        "duplicate": duplicate,
        "elsewhere": elsewhere,
        "helper": helper,
    }


def entries(action=None):
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return db.session.scalars(stmt).all()


def plugin_settings_form(**changes):
    data = {}
    for spec in SETTINGS:
        value = changes.get(spec.key, spec.default)
        if spec.kind == "boolean":
            if value:
                data[spec.key] = "y"
        else:
            data[spec.key] = str(value)
    return data


def do_hide(client, s):
    return client.submit(f"/p/{s['answer'].id}/hide", {"reason": "Rude"})


def do_unhide(client, s):
    from community.topics.services import hide_post

    hide_post(s["root"], s["answer"], "Checking")
    db.session.query(AuditEntry).delete()
    db.session.commit()
    return client.submit(f"/p/{s['answer'].id}/release")


def do_delete(client, s):
    return client.submit(f"/p/{s['answer'].id}/delete")


def do_pin(client, s):
    return client.submit(f"/t/{s['topic'].id}/pin")


def do_lock(client, s):
    return client.submit(f"/t/{s['topic'].id}/lock")


def do_move(client, s):
    return client.submit(f"/t/{s['topic'].id}/move", {"space_id": str(s["other"].id)})


def do_merge(client, s):
    return client.submit(f"/t/{s['duplicate'].id}/merge", {"target": str(s["topic"].id)})


def do_split(client, s):
    return client.submit(
        f"/t/{s['topic'].id}/split",
        {"posts": [str(s["answer"].id)], "title": "Unplugging routers"},
    )


def do_role(client, s):
    return client.submit(f"/admin/users/{s['helper'].id}", {"role": "moderator", "active": "y"})


def do_suspend(client, s):
    return client.submit(f"/admin/users/{s['helper'].id}", {"role": "member"})


def do_plugin_settings(client, s):
    return client.submit("/admin/plugins/moderation", plugin_settings_form(auto_hide_flags=5))


def do_silence(client, s):
    return client.submit(
        "/moderation/users/helper", {"kind": "silence", "duration": "1d", "reason": "Flooding"}
    )


def do_crisis(client, s):
    return client.submit(
        "/moderation/crisis", {"scope": str(s["help"].id), "mode": "read_only", "message": ""}
    )


@pytest.mark.parametrize(
    ("act", "action", "target_type"),
    [
        (do_hide, "post.hide", "post"),
        (do_unhide, "post.unhide", "post"),
        (do_delete, "post.delete", "post"),
        (do_pin, "topic.pin", "topic"),
        (do_lock, "topic.lock", "topic"),
        (do_move, "topic.move", "topic"),
        (do_merge, "topic.merge", "topic"),
        (do_split, "topic.split", "topic"),
        (do_role, "user.role", "user"),
        (do_suspend, "user.suspend", "user"),
        (do_plugin_settings, "plugin.settings", "plugin"),
        (do_silence, "sanction.silence", "user"),
        (do_crisis, "crisis.start", "space"),
    ],
)
def test_every_action_is_logged_with_before_and_after(client, site, act, action, target_type):
    client.login("root")
    response = act(client, site)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    found = entries(action)
    assert len(found) == 1, [e.action for e in entries()]
    entry = found[0]
    assert entry.actor_name == "root" and entry.actor_id == site["root"].id
    assert entry.target_type == target_type
    assert entry.before != entry.after
    assert entry.before or entry.after
    page = client.get("/moderation/log").get_data(as_text=True)
    assert action in page
    assert "→" in page
    page = client.get("/moderation/log", query_string={"action": action}).get_data(as_text=True)
    assert page.count('class="mod-log-entry"') == 1


def test_labels_and_spaces(site):
    from community.plugins import audit as announce

    announce(site["root"], "post.hide", site["answer"], reason="Rude", before={"a": 1})
    announce(site["root"], "topic.pin", site["topic"])
    announce(site["root"], "user.role", site["helper"])
    announce(site["root"], "space.edit", site["other"])
    announce(site["root"], "plugin.enable", "moderation")
    announce(None, "settings.edit", None, before={"site_name": "A"}, after={"site_name": "B"})
    post, topic, user, space, plugin, settings = entries()
    assert post.target_label == f"Post #{site['answer'].id} in “How do I reset my router?”"
    assert (post.space_id, post.reason, post.before) == (site["help"].id, "Rude", {"a": 1})
    assert (topic.target_label, topic.space_id) == ("How do I reset my router?", site["help"].id)
    assert (user.target_type, user.target_label, user.space_id) == ("user", "helper", None)
    assert (space.target_type, space.space_id) == ("space", site["other"].id)
    assert (plugin.target_type, plugin.target_label) == ("plugin", "moderation")
    assert (settings.target_type, settings.actor_id, settings.actor_name) == ("site", None, "")


def test_values_that_are_not_json_are_kept_as_text(site):
    entry = audit.record(site["root"], "x.test", None, before={"when": utcnow(), "s": {1, 2}})
    assert isinstance(entry.before["when"], str) and sorted(entry.before["s"]) == [1, 2]


def test_space_moderators_see_their_spaces_only(client, site):
    from community.plugins import audit as announce

    announce(site["root"], "post.hide", site["answer"], reason="In help")
    announce(site["root"], "topic.lock", site["elsewhere"], reason="In other")
    announce(site["root"], "user.role", site["helper"], reason="Roles")
    client.login("keeper")
    page = client.get("/moderation/log").get_data(as_text=True)
    assert "In help" in page
    assert "In other" not in page and "Roles" not in page
    response = client.get("/moderation/log", query_string={"space": site["other"].id})
    assert response.status_code == 400
    assert "In other" not in response.get_data(as_text=True)
    client.logout()
    client.login("root")
    page = client.get("/moderation/log").get_data(as_text=True)
    assert "In help" in page and "In other" in page and "Roles" in page


def test_members_and_visitors_get_nothing(client, site):
    assert client.get("/moderation/log").status_code == 302
    client.login("member")
    for url in ("/moderation/log", "/moderation/crisis", "/moderation/sanctions"):
        assert client.get(url).status_code == 404


def test_search_and_filters(client, site):
    from community.plugins import audit as announce

    announce(site["root"], "post.hide", site["answer"], reason="Rude words")
    announce(site["keeper"], "topic.lock", site["topic"], reason="Heated")
    announce(site["root"], "topic.pin", site["elsewhere"], reason="Important")
    old = entries()[0]
    old.created_at = utcnow() - timedelta(days=10)
    db.session.commit()
    client.login("root")

    def shown(**args):
        response = client.get("/moderation/log", query_string=args)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True).count('class="mod-log-entry"')

    assert shown() == 3
    assert shown(q="keeper") == 1  # the actor's name
    assert shown(q="rude") == 1  # the reason
    assert shown(q="another space") == 1  # the target's label
    assert shown(q="topic.") == 2  # the action
    assert shown(q="100%_") == 0
    assert shown(action="topic.pin") == 1
    assert shown(space=site["help"].id) == 2
    today = utcnow().date()
    assert shown(**{"from": str(today - timedelta(days=1))}) == 2
    assert shown(to=str(today - timedelta(days=5))) == 1
    for args in ({"from": "yesterday"}, {"to": "2026-13-45"}, {"space": "abc"}):
        response = client.get("/moderation/log", query_string=args)
        assert response.status_code == 400
        assert "YYYY-MM-DD" in response.get_data(as_text=True) or "no such space" in (
            response.get_data(as_text=True)
        )
    assert client.get("/moderation/log?page=0").status_code == 404


def test_nothing_edits_or_deletes_entries(client, site):
    from community.plugins import audit as announce

    announce(site["root"], "topic.pin", site["topic"])
    client.login("root")
    for method in ("post", "put", "delete", "patch"):
        response = getattr(client, method)("/moderation/log")
        assert response.status_code in (400, 405)
    assert len(entries()) == 1


def test_pages_cost_the_same_number_of_queries(client, site, count_queries):
    from community.plugins import audit as announce

    def add(n):
        for i in range(n):
            target = [site["answer"], site["topic"], site["helper"], site["other"], "x", None][
                i % 6
            ]
            announce(site["root"], "topic.pin", target, reason=f"r{i}", before={"i": i})

    def measure():
        client.get("/moderation/log")
        db.session.expire_all()  # as in a new request: nothing from the test's session
        with count_queries() as queries:
            assert client.get("/moderation/log").status_code == 200
        return len(queries)

    client.login("root")
    add(3)
    few = measure()
    add(40)
    assert measure() == few
