"""Insight and export: who may see them (403/404), the funnel in workflow order, the median
time from New to Shipped, the top voted open ideas, the SVG chart, CSV and JSON content with
the voters' segments, and the query budget."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from community_ideation import export, insight, roadmap
from community_ideation.models import Change, Importance, ProductTeam
from sqlalchemy import update

from community.accounts.models import User
from community.dbtypes import utcnow
from community.extensions import db
from community.topics.models import Topic
from community.topics.queries import opening_post
from community.topics.services import cast_vote, set_idea_status


@pytest.fixture
def site(enable_plugin, create_user, create_space):
    enable_plugin("ideation")
    people = {
        "admin": create_user("admin", role="admin"),
        "staff": create_user("boss", staff=True),
        "mod": create_user("mod"),
        "pm": create_user("product"),
        "member": create_user("member"),
        "author": create_user("author"),
    }
    people["ideas"] = create_space("ideas", default_kind="idea", moderators=[people["mod"]])
    people["sub"] = create_space("sub-ideas", parent=people["ideas"])
    people["secret"] = create_space("secret", visibility="staff")
    db.session.add(ProductTeam(space_id=people["ideas"].id, user_id=people["pm"].id))
    db.session.commit()
    return people


def idea(create_topic, site, title, status=None, space=None):
    topic = create_topic(site["author"], space or site["ideas"], kind="idea", title=title)
    if status:
        set_idea_status(site["staff"], topic, status)
    return topic


def text(response):
    return response.get_data(as_text=True)


URLS = (
    "/ideas/insight/ideas",
    "/ideas/insight/ideas/export.csv",
    "/ideas/insight/ideas/export.json",
)


@pytest.mark.parametrize("url", URLS)
def test_who_may_see_insight(client, site, url):
    assert client.get(url).status_code == 403  # anonymous
    client.login("member")
    assert client.get(url).status_code == 403
    client.logout()
    for who in ("boss", "admin", "mod", "product"):
        client.login(who)
        assert client.get(url).status_code == 200, who
        client.logout()


@pytest.mark.parametrize("suffix", ["", "/export.csv", "/export.json"])
def test_a_space_one_may_not_see_is_404(client, site, suffix):
    assert client.get(f"/ideas/insight/secret{suffix}").status_code == 404
    client.login("product")  # product team of another space
    assert client.get(f"/ideas/insight/secret{suffix}").status_code == 404
    assert client.get(f"/ideas/insight/nowhere{suffix}").status_code == 404
    client.logout()
    client.login("boss")
    assert client.get(f"/ideas/insight/secret{suffix}").status_code == 200


def test_product_team_of_another_space_is_refused(client, site, create_space):
    other = create_space("other", default_kind="idea")
    db.session.add(ProductTeam(space_id=other.id, user_id=site["member"].id))
    db.session.commit()
    client.login("member")
    assert client.get("/ideas/insight/ideas").status_code == 403
    assert client.get("/ideas/insight/other").status_code == 200


def test_funnel_median_and_top_ideas(client, site, create_topic):
    now = utcnow()
    idea(create_topic, site, "Fresh idea one")
    idea(create_topic, site, "Fresh idea two", space=site["sub"])
    idea(create_topic, site, "Planned idea x", "planned")
    declined = idea(create_topic, site, "Declined idea", "declined")
    shipped = []
    for days in (2, 4, 10):
        topic = idea(create_topic, site, f"Shipped after {days}", "shipped")
        db.session.execute(
            update(Topic).where(Topic.id == topic.id).values(created_at=now - timedelta(days=days))
        )
        db.session.add(
            Change(
                topic_id=topic.id,
                from_status="new",
                to_status="planned",
                created_at=now - timedelta(days=days - 1),
            )
        )
        db.session.add(
            Change(topic_id=topic.id, from_status="planned", to_status="shipped", created_at=now)
        )
        db.session.add(
            Change(
                topic_id=topic.id,
                from_status="in_progress",
                to_status="shipped",
                created_at=now + timedelta(days=30),
            )
        )  # shipped again later
        shipped.append(topic)
    db.session.execute(update(Topic).where(Topic.id == declined.id).values(score=99))
    db.session.commit()
    flow = roadmap.current_workflow()
    ids = [site["ideas"].id, site["sub"].id]
    rows = insight.funnel(ids, flow)
    assert [r.key for r in rows] == [s.key for s in flow.statuses]
    counts = {r.key: r.count for r in rows}
    assert counts == {
        "new": 2,
        "under_review": 0,
        "planned": 1,
        "in_progress": 0,
        "shipped": 3,
        "declined": 1,
        "duplicate": 0,
    }
    median = insight.median_time_to_ship(ids)
    assert abs(median - timedelta(days=4)) < timedelta(minutes=1)
    top = insight.top_open_ideas(ids, flow)
    assert declined not in top and all(t.status not in flow.closed_keys for t in top)
    assert len(top) == 3

    client.login("product")
    body = text(client.get("/ideas/insight/ideas"))
    assert "<svg" in body and 'role="img"' in body and "<table" in body
    assert '<th scope="row">Shipped</th><td>3</td>' in body
    assert body.index("Under review") < body.index("Declined")
    assert "Median: 4 days" in body
    top_part = body.split("Most voted open ideas")[1]
    assert "Planned idea x" in top_part and "Declined idea" not in top_part
    assert "style=" not in body.split('id="ideation-insight-title"')[1]


def test_top_ten_only(site, create_topic):
    for n in range(12):
        idea(create_topic, site, f"Open idea number {n}")
    flow = roadmap.current_workflow()
    assert len(insight.top_open_ideas([site["ideas"].id], flow)) == 10


def voters(site, create_user, topic):
    old = create_user("oldtimer", locale="it")
    mid = create_user("midtimer", locale="en")
    new = create_user("newcomer")
    db.session.execute(
        update(User).where(User.id == old.id).values(created_at=utcnow() - timedelta(days=800))
    )
    db.session.execute(
        update(User).where(User.id == mid.id).values(created_at=utcnow() - timedelta(days=100))
    )
    db.session.commit()
    post = opening_post(topic)
    for user in (old, mid, new, site["staff"]):
        cast_vote(db.session.get(User, user.id), post, 1)
    db.session.add_all(
        [
            Importance(user_id=old.id, topic_id=topic.id, level="critical"),
            Importance(user_id=mid.id, topic_id=topic.id, level="critical"),
            Importance(user_id=new.id, topic_id=topic.id, level="nice"),
        ]
    )
    db.session.commit()


def test_csv_export(client, site, create_topic, create_user):
    topic = idea(create_topic, site, "=Formula idea here", "planned")
    voters(site, create_user, topic)
    other = idea(create_topic, site, "Another idea here", "shipped")
    client.login("mod")
    response = client.get("/ideas/insight/ideas/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="ideas-ideas.csv"'
    rows = list(csv.DictReader(io.StringIO(text(response))))
    assert list(rows[0].keys()) == export.FIELDS
    row = next(r for r in rows if r["id"] == str(topic.id))
    assert row["title"] == "'=Formula idea here"
    assert row["status"] == "planned" and row["status_name"] == "Planned"
    assert row["votes"] == "4"
    assert row["author"] == "author"
    assert row["url"].endswith(f"/t/{topic.id}/{topic.slug}")
    assert (row["importance_nice"], row["importance_important"], row["importance_critical"]) == (
        "1",
        "0",
        "2",
    )
    assert (row["voters_staff"], row["voters_customers"]) == ("1", "3")
    assert row["voters_under_30_days"] == "2"
    assert row["voters_30_to_365_days"] == "1"
    assert row["voters_over_365_days"] == "1"
    assert row["voters_languages"] == "en:1;it:1;unknown:2"
    empty = next(r for r in rows if r["id"] == str(other.id))
    assert (empty["votes"], empty["voters_customers"], empty["voters_languages"]) == ("0", "0", "")
    assert empty["status_name"] == "Shipped"


def test_json_export_and_private_ideas(client, site, create_topic, create_user):
    topic = idea(create_topic, site, "Json idea here")
    voters(site, create_user, topic)
    hidden = create_topic(site["staff"], site["secret"], kind="idea", title="Secret idea here")
    client.login("product")
    response = client.get("/ideas/insight/ideas/export.json")
    assert response.headers["Content-Disposition"] == 'attachment; filename="ideas-ideas.json"'
    data = json.loads(text(response))
    assert data["space"] == "ideas" and data["fields"] == export.FIELDS
    assert [i["id"] for i in data["ideas"]] == [topic.id]
    item = data["ideas"][0]
    assert item["status"] == "new" and item["votes"] == 4
    assert item["voters_languages"] == {"en": 1, "it": 1, "unknown": 2}
    assert item["importance_critical"] == 2
    assert hidden.id not in [i["id"] for i in data["ideas"]]


def test_export_reads_in_batches(client, site, create_topic, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 2)
    made = [idea(create_topic, site, f"Batch idea number {n}") for n in range(5)]
    client.login("boss")
    data = json.loads(text(client.get("/ideas/insight/ideas/export.json")))
    assert [i["id"] for i in data["ideas"]] == [t.id for t in made]


@pytest.mark.parametrize("url", URLS)
def test_query_count_is_flat(client, site, create_topic, create_user, count_queries, url):
    client.login("boss")

    def measure():
        client.get(url)
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    idea(create_topic, site, "Only idea here", "planned")
    few = measure()
    for n in range(15):
        t = idea(create_topic, site, f"Another idea {n}", ("planned", "shipped", None)[n % 3])
        db.session.add(Change(topic_id=t.id, from_status="new", to_status="shipped"))
        db.session.add(Importance(user_id=site["member"].id, topic_id=t.id, level="nice"))
    db.session.commit()
    assert measure() == few
