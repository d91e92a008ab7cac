"""@mentions: the autocomplete of the reply box, and the link in the published post."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN

pytestmark = pytest.mark.browser


def test_autocomplete_inserts_the_name_and_the_post_links_it(page_as, seed):
    space = seed.space()
    author, member = seed.user("author"), seed.user("member")
    topic = seed.topic(author, space, title="Which firmware fixes the reboots?")
    page = page_as(member)
    page.goto(topic.path)
    box = page.get_by_role("textbox", name="Your answer")
    listbox = page.get_by_role("listbox", name="People to mention")

    box.press_sequentially("Ask @ad")
    expect(listbox).to_be_visible()
    admin = listbox.get_by_role("option", name=ADMIN, exact=True)
    expect(admin).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")

    box.press("ArrowDown")
    expect(admin).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", admin.get_attribute("id") or "")
    box.press("Enter")
    expect(box).to_have_value(f"Ask @{ADMIN} ")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")

    # Escape closes the list; typing goes on as usual.
    box.press_sequentially("or @ad")
    expect(admin).to_be_visible()
    box.press("Escape")
    expect(listbox).to_be_hidden()
    box.press_sequentially("m")
    expect(box).to_have_value(f"Ask @{ADMIN} or @adm")
    # A click picks a name too.
    box.press_sequentially(" or @a")
    admin.click()
    expect(box).to_have_value(f"Ask @{ADMIN} or @adm or @{ADMIN} ")

    box.press_sequentially("about it.")
    page.get_by_role("button", name="Post your answer").click()
    answer = page.get_by_role("article", name=f"Post by {member}")
    link = answer.get_by_role("link", name=f"@{ADMIN}").first
    expect(link).to_have_attribute("href", f"/u/{ADMIN}")
    expect(link).to_have_class("mention")


def test_without_javascript_the_name_is_typed_and_still_linked(page_as, seed):
    space = seed.space()
    author, member = seed.user("author"), seed.user("member")
    topic = seed.topic(author, space, title="Does the mesh need a reboot after updates?")
    page = page_as(member, java_script_enabled=False)
    page.goto(topic.path)
    box = page.get_by_role("textbox", name="Your answer")
    box.fill(f"Thanks @{author}, and @{ADMIN}.")
    expect(page.get_by_role("listbox")).to_have_count(0)
    page.get_by_role("button", name="Post your answer").click()
    answer = page.get_by_role("article", name=f"Post by {member}")
    expect(answer.locator("a.mention")).to_have_count(2)
    expect(answer.get_by_role("link", name=f"@{author}")).to_have_attribute("href", f"/u/{author}")
