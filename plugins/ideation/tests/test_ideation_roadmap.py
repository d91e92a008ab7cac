"""The public roadmap: columns by status, sorting, pagination per column, the spaces inside the
space, private spaces, staff notes (never shown to members) and the query budget."""

from __future__ import annotations

import re

import pytest
from community_ideation import roadmap
from community_ideation.models import ProductTeam, StaffNote
from sqlalchemy import update

from community.extensions import db
from community.plugins.settings import plugin_settings, save_plugin_settings
from community.topics.models import Topic
from community.topics.services import set_idea_status


@pytest.fixture
def site(enable_plugin, create_user, create_space):
    enable_plugin("ideation")
    people = {
        "staff": create_user("boss", staff=True),
        "mod": create_user("mod"),
        "pm": create_user("product"),
        "member": create_user("member"),
        "author": create_user("author"),
    }
    people["ideas"] = create_space(
        "ideas", title="Ideas", default_kind="idea", moderators=[people["mod"]]
    )
    people["sub"] = create_space("sub-ideas", title="Sub", parent=people["ideas"])
    people["hidden"] = create_space(
        "hidden-ideas", title="Hidden", parent=people["ideas"], visibility="staff"
    )
    people["secret"] = create_space("secret", title="Secret", visibility="staff")
    db.session.add(ProductTeam(space_id=people["ideas"].id, user_id=people["pm"].id))
    db.session.commit()
    return people


def idea(create_topic, site, title, status, space=None, score=0):
    author = site["staff"] if space is not None and space.visibility == "staff" else site["author"]
    topic = create_topic(author, space or site["ideas"], kind="idea", title=title)
    set_idea_status(site["staff"], topic, status)
    if score:
        db.session.execute(update(Topic).where(Topic.id == topic.id).values(score=score))
        db.session.commit()
    return topic


def text(response):
    return response.get_data(as_text=True)


def test_columns_show_planned_in_progress_shipped(client, site, create_topic):
    idea(create_topic, site, "Dark mode please", "planned", score=5)
    idea(create_topic, site, "Faster sync", "in_progress")
    idea(create_topic, site, "Export to PDF", "shipped")
    idea(create_topic, site, "Rejected thing", "declined")
    idea(create_topic, site, "Sub space idea", "planned", space=site["sub"])
    idea(create_topic, site, "Hidden room idea", "planned", space=site["hidden"])
    response = client.get("/roadmap/ideas")
    assert response.status_code == 200
    body = text(response)
    for heading in ("Planned", "In progress", "Shipped"):
        assert f"</svg> {heading}</h2>" in body
    assert "Dark mode please" in body and "Faster sync" in body and "Export to PDF" in body
    assert "Sub space idea" in body  # spaces inside it are included
    assert "Rejected thing" not in body
    assert "Hidden room idea" not in body  # a space the visitor may not see
    assert "5 votes" in body
    assert 'fill="#1d5bb8"' in body  # the status colour, without inline styles
    assert "style=" not in body.split('id="ideation-roadmap-title"')[1]
    assert "<script" not in body.split('id="ideation-roadmap-title"')[1]
    client.login("boss")
    assert "Hidden room idea" in text(client.get("/roadmap/ideas"))


def test_private_space_is_404(client, site, create_topic):
    idea(create_topic, site, "Secret plan", "planned", space=site["secret"])
    assert client.get("/roadmap/secret").status_code == 404
    assert client.get("/roadmap/nope").status_code == 404
    client.login("member")
    assert client.get("/roadmap/secret").status_code == 404
    client.logout()
    client.login("boss")
    assert "Secret plan" in text(client.get("/roadmap/secret"))


def test_sort_by_votes_or_newest(client, site, create_topic):
    idea(create_topic, site, "Older popular", "planned", score=9)
    idea(create_topic, site, "Newer quiet", "planned", score=1)
    body = text(client.get("/roadmap/ideas"))
    assert body.index("Older popular") < body.index("Newer quiet")
    body = text(client.get("/roadmap/ideas?sort=newest"))
    assert body.index("Newer quiet") < body.index("Older popular")
    assert client.get("/roadmap/ideas?sort=bogus").status_code == 400
    assert client.get("/roadmap/ideas?column=bogus").status_code == 400
    assert client.get("/roadmap/ideas?page=2").status_code == 404


def test_each_column_has_a_more_link(client, site, create_topic):
    for n in range(roadmap.PER_COLUMN + 3):
        idea(create_topic, site, f"Planned idea {n:02d}", "planned", score=100 - n)
    idea(create_topic, site, "Shipped one", "shipped")
    body = text(client.get("/roadmap/ideas"))
    assert "Planned idea 19" in body and "Planned idea 20" not in body
    assert 'href="/roadmap/ideas?column=planned&amp;page=2"' in body
    assert "column=shipped" not in body
    page2 = client.get("/roadmap/ideas?column=planned&page=2")
    assert page2.status_code == 200
    body = text(page2)
    assert "Planned idea 20" in body and "Planned idea 22" in body
    assert "Planned idea 19" not in body
    assert "Shipped one" in body  # other columns stay on their first page
    assert client.get("/roadmap/ideas?column=planned&page=3").status_code == 404


def test_a_workflow_without_a_key_has_no_column(client, site, create_topic):
    values = dict(plugin_settings("ideation"))
    values["statuses"] = "new | New | #5b6472 | open\nplanned | Planned | #1d5bb8 | open\n"
    values["statuses"] += "done | Done | #18673a | closed"
    values["transitions"] = "new -> planned\nplanned -> done"
    values["response_required"] = "done"
    assert save_plugin_settings("ideation", values) == {}
    body = text(client.get("/roadmap/ideas"))
    assert 'id="ideation-col-planned"' in body
    assert 'id="ideation-col-in_progress"' not in body
    assert 'id="ideation-col-shipped"' not in body


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        (None, False),
        ("member", False),
        ("author", False),
        ("boss", True),
        ("mod", True),
        ("product", True),
    ],
)
def test_staff_notes_only_for_staff_moderators_and_product_team(
    client, site, create_topic, who, sees
):
    topic = idea(create_topic, site, "Noted idea", "planned")
    db.session.add(
        StaffNote(topic_id=topic.id, author_id=site["staff"].id, body="Costly: 3 sprints")
    )
    db.session.commit()
    if who:
        client.login(who)
    body = text(client.get("/roadmap/ideas"))
    assert "Noted idea" in body
    assert ("Costly: 3 sprints" in body) is sees
    assert ("Staff notes" in body) is sees


def test_member_of_another_spaces_team_sees_no_notes(client, site, create_topic, create_space):
    other = create_space("other", default_kind="idea")
    outsider = site["member"]
    db.session.add(ProductTeam(space_id=other.id, user_id=outsider.id))
    topic = idea(create_topic, site, "Noted idea", "planned")
    db.session.add(StaffNote(topic_id=topic.id, author_id=site["staff"].id, body="Secret note"))
    db.session.commit()
    client.login("member")
    assert "Secret note" not in text(client.get("/roadmap/ideas"))


def test_query_count_is_flat(client, site, create_topic, count_queries):
    client.login("boss")

    def measure():
        client.get("/roadmap/ideas")  # warm caches
        with count_queries() as queries:
            assert client.get("/roadmap/ideas").status_code == 200
        return len(queries)

    topic = idea(create_topic, site, "One planned idea", "planned")
    db.session.add(StaffNote(topic_id=topic.id, author_id=site["staff"].id, body="n"))
    db.session.commit()
    few = measure()
    for n in range(12):
        t = idea(
            create_topic, site, f"Many ideas {n}", ("planned", "in_progress", "shipped")[n % 3]
        )
        db.session.add(StaffNote(topic_id=t.id, author_id=site["author"].id, body="n"))
    db.session.commit()
    assert measure() == few


def test_links_lead_to_the_ideas(client, site, create_topic):
    topic = idea(create_topic, site, "Linked idea here", "planned")
    body = text(client.get("/roadmap/ideas"))
    assert re.search(rf'href="/t/{topic.id}/[^"]*">Linked idea here</a>', body)
