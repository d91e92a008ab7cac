"""Administration and visibility: creating spaces, locking topics, members-only spaces."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ADMIN = "admin"  # created by the server fixture with `community users create --admin`


def test_admin_creates_a_space(page_as, seed):
    slug = seed.unique("routers-")
    title = f"Routers {slug[-6:]}"
    page = page_as(ADMIN)
    page.goto("/admin/spaces/new")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Address", exact=True).fill(slug)
    page.get_by_label("Who can see it").select_option("public")
    page.get_by_role("main").get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"The space “{title}” is saved.")).to_be_visible()

    page.goto("/")
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page).to_have_url(f"/s/{slug}")


def test_a_locked_topic_takes_no_answers(page_as, seed):
    space = seed.space()
    member = seed.user()
    topic = seed.topic(member, space)

    admin_page = page_as(ADMIN)
    admin_page.goto(topic.path)
    admin_page.get_by_role("button", name="Lock").click()
    expect(admin_page.get_by_text("The topic is locked.")).to_be_visible()

    page = page_as(member)
    page.goto(topic.path)
    expect(page.get_by_text("Locked", exact=True).first).to_be_visible()
    expect(page.get_by_text("This topic is locked: no new replies.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Your answer")).to_have_count(0)
    expect(page.get_by_role("button", name="Post your answer")).to_have_count(0)


def test_a_visitor_cannot_see_a_members_only_space(new_page, page_as, seed):
    member = seed.user()
    space_title = f"Insiders {seed.unique('')}"
    space = seed.space(visibility="members", title=space_title)
    topic = seed.topic(member, space, title=f"Our secret roadmap {seed.unique('')}")

    member_page = page_as(member)
    member_page.goto("/")
    expect(member_page.get_by_role("link", name=topic.title)).to_be_visible()
    expect(member_page.get_by_role("link", name=space_title).first).to_be_visible()

    visitor = new_page()
    for path in (f"/s/{space}", topic.path):
        response = visitor.goto(path)
        assert response is not None and response.status == 404, path
        expect(visitor.get_by_role("heading", level=1)).to_have_text(
            "This page does not exist, or you may not see it."
        )
    visitor.goto("/")
    expect(visitor.get_by_role("heading", level=1)).to_be_visible()
    expect(visitor.get_by_text(topic.title)).to_have_count(0)
    expect(visitor.get_by_text(space_title)).to_have_count(0)
