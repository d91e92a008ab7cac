"""Releases: admins only, Markdown notes sanitized, the form's bad input, ideas shipped once,
the list and a release's page with credit to the ideas' authors (private ideas never shown)."""

from __future__ import annotations

from datetime import date

import pytest
from community_ideation import releases
from community_ideation.models import Release, ShippedIn
from sqlalchemy import func, select

from community.errors import Refused
from community.extensions import db


@pytest.fixture
def site(enable_plugin, create_user, create_space):
    enable_plugin("ideation")
    return {
        "admin": create_user("admin", role="admin"),
        "staff": create_user("boss", staff=True),
        "member": create_user("member"),
        "author": create_user("author"),
        "ideas": create_space("ideas", default_kind="idea"),
        "secret": create_space("secret", visibility="staff"),
    }


def text(response):
    return response.get_data(as_text=True)


def test_only_admins_create_releases(site):
    for who in ("staff", "member"):
        with pytest.raises(Refused):
            releases.create_release(site[who], "Spring", date(2026, 3, 1), "")
    release = releases.create_release(
        site["admin"], "Spring 2026", date(2026, 3, 1), "**Big** <script>alert(1)</script>"
    )
    assert release.slug == "spring-2026"
    assert "<strong>Big</strong>" in release.notes_html
    assert "<script" not in release.notes_html
    assert release.notes_source.startswith("**Big**")
    again = releases.create_release(site["admin"], "Spring 2026", date(2026, 3, 2), "")
    assert again.slug == "spring-2026-2"
    with pytest.raises(Refused) as refused:
        releases.create_release(site["admin"], "  ", date(2026, 3, 1), "")
    assert refused.value.field == "name"
    assert releases.create_release(site["admin"], "New", date(2026, 1, 1)).slug != "new"


def test_an_idea_ships_once(site, create_topic):
    first = releases.create_release(site["admin"], "One release", date(2026, 1, 1))
    second = releases.create_release(site["admin"], "Two release", date(2026, 2, 1))
    topic = create_topic(site["author"], site["ideas"], kind="idea", title="Dark mode please")
    releases.ship_in(topic, first)
    releases.ship_in(topic, first)  # again: harmless
    with pytest.raises(Refused):
        releases.ship_in(topic, second)
    assert db.session.scalar(select(func.count()).select_from(ShippedIn)) == 1
    question = create_topic(site["author"], site["ideas"], kind="question", title="How to do it?")
    with pytest.raises(Refused):
        releases.ship_in(question, first)


def test_release_page_credits_authors_and_hides_private_ideas(client, site, create_topic):
    release = releases.create_release(
        site["admin"], "Autumn drop", date(2026, 9, 1), "Notes _here_"
    )
    public = create_topic(site["author"], site["ideas"], kind="idea", title="Public shipped idea")
    private = create_topic(site["staff"], site["secret"], kind="idea", title="Private shipped idea")
    releases.ship_in(public, release)
    releases.ship_in(private, release)
    body = text(client.get("/releases/autumn-drop"))
    assert "Public shipped idea" in body
    assert "Private shipped idea" not in body
    assert "author" in body.split("Public shipped idea")[1]
    assert "<em>here</em>" in body
    client.login("boss")
    assert "Private shipped idea" in text(client.get("/releases/autumn-drop"))
    assert client.get("/releases/nothing").status_code == 404


def test_the_list_is_paginated(client, site):
    for n in range(32):
        releases.create_release(site["admin"], f"Release {n:02d}", date(2025, 1, 1 + n % 28))
    first = text(client.get("/releases/"))
    assert first.count('href="/releases/release-') == 30
    assert "?page=2" in first
    assert text(client.get("/releases/?page=2")).count('href="/releases/release-') == 2
    assert client.get("/releases/?page=3").status_code == 404


def test_the_form_is_for_admins(client, site):
    assert client.get("/releases/new").status_code in (302, 401)
    client.login("member")
    assert client.get("/releases/new").status_code == 403
    assert (
        client.submit("/releases/new", {"name": "X", "released_on": "2026-01-01"}).status_code
        == 403
    )
    client.logout()
    client.login("boss")
    assert client.get("/releases/new").status_code == 403


def test_the_form_adds_a_release(client, site):
    client.login("admin")
    assert client.get("/releases/new").status_code == 200
    response = client.submit(
        "/releases/new", {"name": "Winter", "released_on": "2026-12-01", "notes": "# Hello"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/releases/winter")
    release = db.session.scalar(select(Release).where(Release.slug == "winter"))
    assert release.released_on == date(2026, 12, 1)
    assert "<h1>Hello</h1>" in release.notes_html


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "released_on": "2026-12-01", "notes": "kept notes"},
        {"name": "Kept name", "released_on": "not a date", "notes": "kept notes"},
        {"name": "x" * 200, "released_on": "2026-12-01", "notes": "kept notes"},
    ],
)
def test_bad_input_is_400_and_keeps_the_text(client, site, data):
    client.login("admin")
    response = client.submit("/releases/new", data)
    assert response.status_code == 400
    body = text(response)
    assert "kept notes" in body
    if data["name"] == "Kept name":
        assert 'value="Kept name"' in body
        assert 'value="not a date"' in body
    assert 'role="alert"' in body
    assert db.session.scalar(select(func.count()).select_from(Release)) == 0


def test_the_form_needs_a_csrf_token(client, site):
    client.login("admin")
    response = client.post("/releases/new", data={"name": "Sneaky", "released_on": "2026-01-01"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Release)) == 0


def test_release_page_query_count_is_flat(client, site, create_topic, create_user, count_queries):
    release = releases.create_release(site["admin"], "Flat release", date(2026, 5, 1))

    def measure():
        client.get("/releases/flat-release")
        with count_queries() as queries:
            assert client.get("/releases/flat-release").status_code == 200
        return len(queries)

    releases.ship_in(create_topic(site["author"], site["ideas"], kind="idea"), release)
    few = measure()
    for n in range(10):
        author = create_user(f"writer{n}")
        releases.ship_in(create_topic(author, site["ideas"], kind="idea"), release)
    assert measure() == few


def test_a_release_page_is_paginated(client, site, create_topic, monkeypatch):
    from community_ideation import web_releases

    monkeypatch.setattr(web_releases, "IDEAS_PER_PAGE", 2)
    release = releases.create_release(site["admin"], "Big one", date(2026, 1, 5))
    for _ in range(3):
        releases.ship_in(create_topic(site["author"], site["ideas"], kind="idea"), release)
    first = client.get(f"/releases/{release.slug}").get_data(as_text=True)
    assert first.count('class="ideation-idea"') == 2 and "page=2" in first
    second = client.get(f"/releases/{release.slug}?page=2").get_data(as_text=True)
    assert second.count('class="ideation-idea"') == 1
    assert client.get(f"/releases/{release.slug}?page=3").status_code == 404
