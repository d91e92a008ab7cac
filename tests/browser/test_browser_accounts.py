"""Registration with email confirmation, signing out and in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CONFIRM_NOTICE = "Please confirm your email address"


def test_register_and_confirm_email(page, server, seed):
    username = seed.unique("newbie")
    address = f"{username}@example.com"
    page.goto("/")
    page.get_by_role("link", name="Join").click()
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Email", exact=True).fill(address)
    page.get_by_label("Password", exact=True).fill(seed.password)
    page.get_by_label("Repeat password", exact=True).fill(seed.password)
    page.get_by_role("main").get_by_role("button", name="Create my account").click()

    expect(page.get_by_text(f"We sent a confirmation link to {address}")).to_be_visible()
    expect(page.get_by_text(CONFIRM_NOTICE)).to_be_visible()

    mail = server.last_mail_to(address)
    assert mail["Subject"] == "Confirm your email address"
    page.goto(server.link_in_last_mail_to(address))

    expect(page.get_by_text("Thank you, your email address is confirmed.")).to_be_visible()
    expect(page.get_by_text(CONFIRM_NOTICE)).to_have_count(0)
    expect(page.get_by_role("link", name=username)).to_be_visible()


def test_sign_out_and_in_again(page_as, seed):
    username = seed.user()
    page = page_as(username)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    page.get_by_role("link", name="Sign in").click()
    login = page.get_by_label("Username or email")
    password = page.get_by_label("Password", exact=True)
    submit = page.get_by_role("main").get_by_role("button", name="Sign in")
    login.fill(username)
    password.fill("not my password")
    submit.click()

    expect(page.get_by_text("Wrong username/email or password.")).to_be_visible()
    expect(login).to_have_value(username)
    expect(password).to_have_value("")

    password.fill(seed.password)
    submit.click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("link", name=username)).to_be_visible()
