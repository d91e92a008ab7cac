"""The bell: an answer to my question shows as a count in the header, and opening the
notification leads to the answer."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

# The worker beside the server turns the answer into a notification well within this.
WORKER_DEADLINE = 20.0


def wait_for_bell(page: Page, count: str) -> None:
    """Reload until the bell shows ``count``: the notification is written by the worker, a
    moment after the answer."""
    deadline = time.monotonic() + WORKER_DEADLINE
    bell = page.get_by_role("link", name=re.compile(r"^Notifications"))
    while True:
        page.reload()
        if bell.locator(".bell-count").count():
            break
        assert time.monotonic() < deadline, "no notification arrived"
        page.wait_for_timeout(200)  # between reloads only; the outcome is what is awaited
    expect(bell).to_have_accessible_name(f"Notifications, {count} unread")


def test_the_bell_counts_an_answer_and_leads_to_it(page_as, seed):
    space = seed.space()
    asker, helper = seed.user("asker"), seed.user("helper")
    topic = seed.topic(asker, space, title="Why is my printer offline every morning?")
    page = page_as(asker)
    page.goto("/")
    bell = page.get_by_role("link", name=re.compile(r"^Notifications"))
    expect(bell).to_have_accessible_name("Notifications")

    answer_id = seed.answer(helper, topic, body="Turn off the printer's deep sleep mode.")
    wait_for_bell(page, "1")

    bell.click()
    expect(page).to_have_url(re.compile(r"/notifications$"))
    item = page.get_by_role("listitem").filter(has_text="Unread:")
    item.get_by_role("link", name=f"{helper} answered “{topic.title}”").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(topic.path)}#post-{answer_id}$"))
    answer = page.locator(f"#post-{answer_id}")
    expect(answer).to_contain_text("Turn off the printer's deep sleep mode.")
    expect(answer).to_be_in_viewport()
    # Read now: the count is gone, and the inbox shows it as read.
    expect(
        page.get_by_role("link", name=re.compile(r"^Notifications")).locator(".bell-count")
    ).to_have_count(0)
    page.goto("/notifications")
    expect(page.get_by_role("link", name=f"{helper} answered “{topic.title}”")).to_be_visible()


def test_follow_a_space_without_javascript(page_as, seed):
    space = seed.space()
    page = page_as(seed.user("fan"), java_script_enabled=False)
    page.goto(f"/s/{space}")
    page.get_by_role("button", name=f"Follow Space {space}").click()
    following = page.get_by_role("button", name=f"Unfollow Space {space}")
    expect(following).to_have_attribute("aria-pressed", "true")
    expect(following).to_have_text("Following")
    page.goto("/settings/notifications")
    expect(page.get_by_role("link", name=f"Space {space}")).to_be_visible()
    page.get_by_role("button", name=f"Unfollow Space {space}").click()
    expect(page.get_by_text("You follow nothing yet.")).to_be_visible()
