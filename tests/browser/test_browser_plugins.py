"""The admin enables a plugin and configures it in the browser; the site changes at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ADMIN = "admin"


def test_admin_enables_and_configures_a_plugin(page_as, new_page, seed):
    seed.space()
    visitor = new_page()
    visitor.goto("/")
    expect(visitor.locator(".hello-banner")).to_have_count(0)

    page = page_as(ADMIN)
    page.goto("/admin/")
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Plugins"
    ).click()
    row = page.locator("#plugin-hello")
    expect(row).to_contain_text("Welcomes newcomers")
    expect(row).to_contain_text("Disabled")
    row.get_by_role("button", name="Enable hello").click()
    expect(page.get_by_text("hello is enabled.")).to_be_visible()
    expect(page.locator("#plugin-hello")).to_contain_text("Enabled")

    visitor.goto("/")
    expect(visitor.locator(".hello-banner")).to_contain_text("Ask your first question")

    page.get_by_role("link", name="hello", exact=True).click()
    page.get_by_label("Banner message").fill("")
    page.get_by_role("main").get_by_role("button", name="Save").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    page.get_by_label("Banner message").fill("Welcome to the router owners' club!")
    page.get_by_role("main").get_by_role("button", name="Save").click()
    expect(page.get_by_text("The settings of hello are saved.")).to_be_visible()

    visitor.goto("/")
    expect(visitor.locator(".hello-banner")).to_contain_text("router owners' club")
    visitor.get_by_role("link", name="Meet the newest members").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Newest members")

    page.goto("/admin/plugins/")
    page.locator("#plugin-hello").get_by_role("button", name="Disable hello").click()
    visitor.goto("/")
    expect(visitor.locator(".hello-banner")).to_have_count(0)
    response = visitor.goto("/hello/newcomers")
    assert response is not None and response.status == 404
