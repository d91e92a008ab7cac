"""The idea's page and the pages around it: marking duplicates, importance, staff notes, the
product team page, the roadmap index, the statuses' stylesheet, and timelines of changes made
outside the plugin's form."""

from __future__ import annotations

from datetime import date

import pytest
from community_ideation import changes, importance, releases, team
from community_ideation.models import Change, Duplicate, Importance, ProductTeam, ShippedIn
from sqlalchemy import func, select

from community.errors import Refused
from community.extensions import db
from community.plugins.settings import plugin_settings, save_plugin_settings
from community.topics import services
from community.topics.queries import opening_post


@pytest.fixture
def site(enable_plugin, create_user, create_space, create_topic):
    enable_plugin("ideation")
    people = {
        "admin": create_user("admin", role="admin"),
        "mod": create_user("moderator"),
        "pm": create_user("product"),
        "member": create_user("member"),
        "voter": create_user("voter"),
        "other_voter": create_user("othervoter"),
    }
    people["ideas"] = create_space(
        "ideas", title="App ideas", default_kind="idea", moderators=[people["mod"]]
    )
    people["other"] = create_space("other", title="Other ideas", default_kind="idea")
    people["secret"] = create_space(
        "secret", title="Secret ideas", default_kind="idea", visibility="staff"
    )
    team.add_member(people["admin"], people["ideas"], people["pm"])
    people["original"] = create_topic(
        people["member"], people["ideas"], kind="idea", title="Export my data as CSV"
    )
    people["copy"] = create_topic(
        people["member"], people["ideas"], kind="idea", title="A CSV export of my data"
    )
    return people


def text(response):
    return response.get_data(as_text=True)


def url(topic):
    return f"/t/{topic.id}/{topic.slug}"


def test_the_duplicate_page_moves_votes_and_links_both_ways(site, client):
    for name in ("voter", "other_voter"):
        services.cast_vote(site[name], opening_post(site["copy"]), 1)
    services.cast_vote(site["voter"], opening_post(site["original"]), 1)
    page = f"/ideas/{site['copy'].id}/duplicate"
    client.login("member")
    assert client.get(page).status_code == 403
    assert client.submit(page, {"original": str(site["original"].id)}).status_code == 403
    client.logout()
    client.login("product")
    assert "Mark as a duplicate" in text(client.get(url(site["copy"])))
    refused = client.submit(page, {"original": "99999", "response": "Typed and kept"})
    assert refused.status_code == 400
    assert "There is no such idea." in text(refused) and "Typed and kept" in text(refused)
    refused = client.submit(page, {"original": str(site["copy"].id), "response": ""})
    assert refused.status_code == 400 and "duplicate of itself" in text(refused)
    assert db.session.scalar(select(func.count()).select_from(Duplicate)) == 0
    done = client.submit(page, {"original": f"https://example.org{url(site['original'])}"})
    assert done.status_code == 302 and done.headers["Location"].endswith(url(site["original"]))
    db.session.expire_all()
    assert (site["original"].score, site["copy"].score) == (2, 0)
    source = text(client.get(url(site["copy"])))
    assert "This idea is a duplicate of" in source and url(site["original"]) in source
    target = text(client.get(url(site["original"])))
    assert "Duplicates merged here" in target and url(site["copy"]) in target
    assert client.get(page).status_code == 200
    again = client.submit(page, {"original": str(site["original"].id)})
    assert again.status_code == 400 and "already a duplicate" in text(again)


def test_a_duplicate_of_a_secret_idea_is_refused_before_votes_move(site, create_topic, client):
    secret = create_topic(site["admin"], site["secret"], kind="idea", title="A secret project")
    services.cast_vote(site["voter"], opening_post(site["copy"]), 1)
    client.login("product")
    refused = client.submit(f"/ideas/{site['copy'].id}/duplicate", {"original": str(secret.id)})
    assert refused.status_code == 400
    assert "Secret" not in text(refused) and "secret project" not in text(refused)
    db.session.expire_all()
    assert site["copy"].score == 1 and site["copy"].status == "new"


def test_only_voters_say_how_much_an_idea_matters(site, client):
    idea = site["original"]
    client.login("voter")
    refused = client.submit(f"/ideas/{idea.id}/importance", {"level": "critical"})
    assert refused.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Importance)) == 0
    assert "Vote for the idea first" in text(client.get(url(idea)))
    services.cast_vote(site["voter"], opening_post(idea), 1)
    assert 'name="level" value="critical"' in text(client.get(url(idea)))
    assert client.submit(f"/ideas/{idea.id}/importance", {"level": "huge"}).status_code == 400
    client.submit(f"/ideas/{idea.id}/importance", {"level": "critical"})
    client.submit(f"/ideas/{idea.id}/importance", {"level": "important"})
    assert importance.counts([idea.id]) == {idea.id: {"important": 1}}
    assert "Important: 1 voter" in text(client.get(url(idea)))
    services.cast_vote(site["voter"], opening_post(idea), 1)  # taken back
    assert importance.counts([idea.id]) == {}


def test_importance_goes_with_the_votes_of_a_duplicate(site):
    copy, original = site["copy"], site["original"]
    for name in ("voter", "other_voter"):
        services.cast_vote(site[name], opening_post(copy), 1)
        importance.set_level(site[name], copy, "critical")
    services.cast_vote(site["voter"], opening_post(original), 1)
    importance.set_level(site["voter"], original, "nice")
    from community_ideation import duplicates

    duplicates.mark_duplicate(site["pm"], copy, original)
    assert importance.counts([copy.id, original.id]) == {original.id: {"critical": 1, "nice": 1}}


def test_staff_notes_are_never_shown_to_members(site, client):
    idea = site["original"]
    client.login("member")
    assert client.submit(f"/ideas/{idea.id}/notes", {"body": "Mine"}).status_code == 403
    client.logout()
    client.login("product")
    empty = client.submit(f"/ideas/{idea.id}/notes", {"body": ""})
    assert empty.status_code == 400
    client.submit(f"/ideas/{idea.id}/notes", {"body": "Costs three sprints"})
    assert "Costs three sprints" in text(client.get(url(idea)))
    client.logout()
    for who in ("member", "voter"):
        client.login(who)
        assert "Costs three sprints" not in text(client.get(url(idea)))
        client.logout()
    assert "Costs three sprints" not in text(client.get(url(idea)))
    client.login("moderator")
    assert "Costs three sprints" in text(client.get(url(idea)))


def test_the_product_team_page(site, client):
    page = "/product-team/ideas"
    assert "product" in text(client.get(page))
    assert client.get("/product-team/secret").status_code == 404
    client.login("member")
    assert client.submit(f"{page}/add", {"username": "voter"}).status_code == 403
    client.logout()
    client.login("moderator")
    refused = client.submit(f"{page}/add", {"username": "nobody-here"})
    assert refused.status_code == 400 and "nobody-here" in text(refused)
    assert client.submit(f"{page}/add", {"username": "Voter"}).status_code == 302
    assert team.team_space_ids(site["voter"]) == frozenset({site["ideas"].id})
    assert client.submit("/product-team/other/add", {"username": "voter"}).status_code == 403
    removed = client.submit(f"{page}/remove/{site['voter'].id}")
    assert removed.status_code == 302
    rows = db.session.scalars(select(ProductTeam.user_id)).all()
    assert site["voter"].id not in rows


def test_menu_roadmap_index_and_space_links(site, client, create_topic):
    changes.change_status(site["pm"], site["original"], "planned", "Soon")
    home = text(client.get("/"))
    assert 'href="/roadmap/"' in home and "/ideas/statuses.css?v=" in home
    index = text(client.get("/roadmap/"))
    assert "App ideas" in index and "Planned: 1" in index and "Secret ideas" not in index
    space = text(client.get("/s/ideas"))
    assert 'href="/roadmap/ideas"' in space and 'href="/product-team/ideas"' in space


def test_the_statuses_stylesheet_follows_the_setting(site, client):
    conf = dict(plugin_settings("ideation"))
    conf["statuses"] = conf["statuses"] + "\nwaiting | Waiting for data | #aa3300 | open"
    assert save_plugin_settings("ideation", conf) == {}
    css = client.get("/ideas/statuses.css")
    assert css.mimetype == "text/css"
    assert ".badge-status.status-waiting { background: #aa330026" in text(css)


def test_every_change_of_status_has_a_timeline_row_and_reopening_unlinks_the_release(site):
    idea = site["original"]
    services.set_idea_status(site["admin"], idea, "planned")  # not through the plugin's form
    row = db.session.scalar(select(Change).where(Change.topic_id == idea.id))
    assert (row.from_status, row.to_status, row.response_source) == ("new", "planned", "")
    release = releases.create_release(site["admin"], "Version 2", date(2026, 11, 1))
    changes.change_status(site["pm"], idea, "shipped", "Out now", release)
    assert db.session.get(ShippedIn, idea.id).release_id == release.id
    changes.change_status(site["pm"], idea, "in_progress", "We found a bug and pulled it")
    assert db.session.get(ShippedIn, idea.id) is None
    assert [t.id for t in releases.shipped_ideas(release, site["admin"])] == []


def test_the_idea_page_query_count_is_flat(site, client, create_user, count_queries):
    idea = site["original"]
    client.login("product")

    def measure():
        client.get(url(idea))  # warm caches
        with count_queries() as queries:
            assert client.get(url(idea)).status_code == 200
        return len(queries)

    def grow(n, start):
        for i in range(start, start + n):
            voter = create_user(f"fan{i}")
            services.cast_vote(voter, opening_post(idea), 1)
            importance.set_level(voter, idea, ("nice", "important", "critical")[i % 3])
            from community_ideation import notes

            notes.add_note(site["pm"], idea, f"Note {i}")

    grow(2, 0)
    changes.change_status(site["pm"], idea, "under_review", "Looking")
    few = measure()
    grow(10, 2)
    changes.change_status(site["pm"], idea, "planned", "Planned")
    changes.change_status(site["pm"], idea, "in_progress", "Building")
    assert measure() == few


def test_a_closed_idea_keeps_its_importance_and_an_original_may_be_in_a_wider_space(
    site, create_topic
):
    idea = site["original"]
    services.cast_vote(site["voter"], opening_post(idea), 1)
    importance.set_level(site["voter"], idea, "nice")
    changes.change_status(site["pm"], idea, "declined", "Not for us")
    with pytest.raises(Refused):
        importance.set_level(site["voter"], idea, "critical")
    assert importance.counts([idea.id]) == {idea.id: {"nice": 1}}
    elsewhere = create_topic(site["member"], site["other"], kind="idea", title="CSV export too")
    from community_ideation import duplicates

    team.add_member(site["admin"], site["other"], site["pm"])
    assert duplicates.mark_duplicate(site["pm"], site["copy"], elsewhere) == 0
    assert db.session.get(Duplicate, site["copy"].id).target_id == elsewhere.id


def test_the_official_response_reaches_the_voters_by_email(site, run_tasks, outbox):
    services.cast_vote(site["voter"], opening_post(site["original"]), 1)
    run_tasks()
    outbox.clear()
    changes.change_status(site["pm"], site["original"], "planned", "Coming with **4.3**.")
    run_tasks()
    [mail] = [m for m in outbox if m["To"] == site["voter"].email]
    assert "Coming with 4.3." in mail.get_body(("plain",)).get_content()
