"""Moderation: a member flags a post, a moderator of the space hides it from the review
queue, and the author sees it hidden, with the reason."""

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


def test_flag_hide_and_the_author_sees_why(moderation, page_as, seed):
    author, flagger, moderator = seed.user("author"), seed.user("flagger"), seed.user("mod")
    slug = seed.space()
    make_moderator(seed, moderator, slug)
    topic = seed.topic(author, slug, title=f"Which router {seed.unique('')}?")
    post_id = seed.answer(author, topic, "Buy cheap watches at my shop today!")

    # A member flags the answer.
    member = page_as(flagger)
    member.goto(topic.path)
    member.locator(f"#post-{post_id}").get_by_role(
        "link", name=f"Flag this post by {author} for moderators"
    ).click()
    expect(member.get_by_role("heading", level=1)).to_have_text("Flag a post")
    member.get_by_label("Spam").check()
    member.get_by_label("Details for the moderators").fill("Advertising a shop")
    member.get_by_role("button", name="Send the flag").click()
    expect(member.get_by_text("Thank you. A moderator will look at this post")).to_be_visible()
    expect(member.locator(f"#post-{post_id}")).to_contain_text("You flagged this post")

    # The space's moderator finds it in the queue, from the menu.
    mod = page_as(moderator)
    mod.goto("/")
    mod.get_by_role("link", name=re.compile(r"^Moderation")).click()
    item = mod.locator(f"#queue-item-{post_id}")
    expect(item).to_contain_text("Buy cheap watches")
    expect(item).to_contain_text("Spam: 1")
    expect(item).to_contain_text("Advertising a shop")
    expect(item).not_to_contain_text(flagger)

    # Keyboard: j goes to the first post, x ticks it.
    expect(mod.locator("#queue-shortcuts")).to_be_visible()
    mod.locator("body").press("j")
    checkbox = mod.get_by_label(f"Select post by {author}")
    mod.keyboard.press("x")
    expect(checkbox).to_be_checked()

    item.get_by_label("Reason").fill("Advertising is not allowed here")
    item.get_by_role("button", name=f"Hide post by {author}").click()
    expect(mod.get_by_text("1 post hidden.")).to_be_visible()
    expect(mod.locator(f"#queue-item-{post_id}")).to_have_count(0)

    # The author sees it hidden, with the reason; the flagger is not named.
    own = page_as(author)
    own.goto(topic.path)
    post = own.locator(f"#post-{post_id}")
    expect(post).to_contain_text("Hidden")
    expect(post).to_contain_text("Advertising is not allowed here")
    expect(post).not_to_contain_text(flagger)
    own.goto("/moderation/mine")
    expect(own.get_by_label("Your text")).to_have_value("Buy cheap watches at my shop today!")
    expect(own.get_by_role("main")).not_to_contain_text(flagger)
