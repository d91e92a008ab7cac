"""The issue's "done when": a moderator handles a spam wave in their space from the browser —
crisis mode on, every flagged post hidden at once, the spammers suspended, crisis mode off —
and finds every step in the audit log. Nobody touches the database."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def moderation(server):
    server.cli("plugins", "enable", "moderation")
    yield
    server.cli("plugins", "disable", "moderation")


def make_moderator(seed, username: str, slug: str) -> None:
    from community.accounts.services import find_user_by_username
    from community.spaces.services import add_moderator, space_by_slug

    with seed.app.app_context():
        add_moderator(space_by_slug(slug), find_user_by_username(username))


def flag(seed, flagger: str, post_id: int) -> None:
    """A member's flag, as the flag form stores it (the flag form has its own browser test)."""
    from community_moderation.flags import add_flag

    from community.accounts.services import find_user_by_username
    from community.extensions import db
    from community.topics.models import Post

    with seed.app.app_context():
        add_flag(find_user_by_username(flagger), db.session.get(Post, post_id), "spam")


def test_a_moderator_handles_a_spam_wave(moderation, page_as, new_page, seed, server):
    slug = seed.space(title="Routers")
    moderator, asker, flagger = seed.user("mod"), seed.user("asker"), seed.user("flagger")
    spammers = [seed.user("spammer"), seed.user("spammer")]
    make_moderator(seed, moderator, slug)
    topic = seed.topic(asker, slug, title=f"My router drops wifi {seed.unique('')}")
    good = seed.answer(asker, topic, "Update the firmware to 2.1, it fixed it for me.")
    spam = [
        seed.answer(name, topic, f"Cheap watches at spam{n}.example, visit now {name}!")
        for n, name in enumerate(spammers)
    ]
    for post_id in spam:
        flag(seed, flagger, post_id)

    mod = page_as(moderator)

    # 1. Crisis mode for the space, in one click, with a message for the banner.
    mod.goto("/moderation/crisis")
    scope = mod.locator("form", has=mod.get_by_role("heading", name="Routers"))
    scope.get_by_label("Message for the banner (optional)").fill("We are cleaning up spam.")
    scope.get_by_role("button", name="Pre-moderate everything").click()
    expect(scope.get_by_role("button", name="End crisis mode")).to_be_visible()
    visitor = new_page()
    visitor.goto(f"/s/{slug}")
    expect(visitor.get_by_role("status")).to_contain_text("We are cleaning up spam.")

    # New spam now waits for review instead of appearing.
    spammer = page_as(spammers[0])
    spammer.goto(topic.path)
    spammer.get_by_label("Your answer").fill("More cheap watches at spam9.example, hurry!")
    spammer.get_by_role("button", name="Post your answer").click()
    expect(spammer.get_by_text("waits for a moderator's review")).to_be_visible()
    visitor.goto(topic.path)
    expect(visitor.get_by_role("main")).not_to_contain_text("spam9.example")

    # 2. The queue: select every flagged post, suspend their authors, then hide them all.
    mod.goto("/moderation/")
    for post_id in spam:
        expect(mod.locator(f"#queue-item-{post_id}")).to_contain_text("Spam: 1")
    expect(mod.locator(f"#queue-item-{good}")).to_have_count(0)
    bulk = mod.locator("#queue-bulk")
    mod.get_by_label("Select all on this page").check()
    bulk.get_by_label("Reason").fill("Spam wave")
    bulk.get_by_label("Suspension").select_option("7d")
    bulk.get_by_role("button", name="Suspend their authors").click()
    expect(mod.get_by_text(re.compile(r"2 members suspended|2 authors suspended"))).to_be_visible()

    mod.get_by_label("Select all on this page").check()
    mod.locator("#queue-bulk").get_by_label("Reason").fill("Spam wave")
    mod.locator("#queue-bulk").get_by_role("button", name="Hide selected").click()
    expect(mod.get_by_text("2 posts hidden.")).to_be_visible()
    visitor.goto(topic.path)
    expect(visitor.get_by_role("main")).to_contain_text("Update the firmware")
    expect(visitor.get_by_role("main")).not_to_contain_text("Cheap watches")

    # The suspended spammer's session is over, and signing in says why and until when.
    spammer.goto("/settings")
    expect(spammer).to_have_url(re.compile(r"/login"))
    spammer.get_by_label("Username or email").fill(spammers[0])
    spammer.get_by_label("Password", exact=True).fill(seed.password)
    spammer.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(spammer.get_by_role("main")).to_contain_text("Spam wave")

    # 3. The wave is over: crisis mode off, the banner gone.
    mod.goto("/moderation/crisis")
    scope = mod.locator("form", has=mod.get_by_role("heading", name="Routers"))
    scope.get_by_role("button", name="End crisis mode").click()
    expect(scope.get_by_role("button", name="End crisis mode")).to_have_count(0)
    visitor.goto(f"/s/{slug}")
    expect(visitor.locator(".mod-banner-crisis")).to_have_count(0)

    # 4. Every step is in the audit log, with before and after.
    mod.goto("/moderation/log")
    log = mod.locator(".mod-log")
    for action in ("crisis.start", "user.suspend", "post.hide", "crisis.end"):
        expect(log.locator(".mod-log-action", has_text=action).first).to_be_visible()
    expect(log.locator(".mod-log-action", has_text="post.hide")).to_have_count(2)
    expect(log.locator(".mod-log-action", has_text="user.suspend")).to_have_count(2)
    hide = log.locator(".mod-log-entry", has=mod.locator(".mod-log-action", has_text="post.hide"))
    expect(hide.first).to_contain_text("Spam wave")
    expect(hide.first.locator(".mod-log-diff")).to_contain_text("visible")
    start = log.locator(
        ".mod-log-entry", has=mod.locator(".mod-log-action", has_text="crisis.start")
    )
    expect(start.locator(".mod-log-diff")).to_contain_text("premoderate")
    filters = mod.get_by_role("search", name="Audit log")
    filters.get_by_label("Search").fill(spammers[1])
    filters.get_by_role("button", name="Filter").click()
    expect(log.locator(".mod-log-action", has_text="user.suspend")).to_have_count(1)
