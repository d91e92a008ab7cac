"""Ideas: suggesting one, voting on it, the idea list sorted by votes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_suggest_an_idea_and_vote_it(page_as, seed):
    space = seed.space()
    author, voter = seed.user("author"), seed.user("voter")
    title = "Let us schedule the nightly firmware update"

    page = page_as(author)
    page.goto(f"/s/{space}")
    page.get_by_role("link", name="Suggest an idea").click()
    expect(page.get_by_role("radio", name=re.compile("^Idea"))).to_be_checked()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_role("main").get_by_role("button", name="Continue").click()
    expect(page.get_by_role("radio", name=re.compile("^Idea"))).to_be_checked()
    page.get_by_label("Details", exact=True).fill("An option to pick the hour would help.")
    page.get_by_role("main").get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Your topic is published.")).to_be_visible()
    idea_url = page.url

    voter_page = page_as(voter)
    voter_page.goto(idea_url)
    idea = voter_page.get_by_role("article", name=f"Post by {author}")
    expect(idea.get_by_role("button", name="Vote down")).to_have_count(0)
    idea.get_by_role("button", name="Vote up").click()
    expect(idea.get_by_role("status", name="Score")).to_have_text("1")

    # A newer idea without votes: "most voted" must still list the voted one first.
    newer = seed.topic(author, space, kind="idea", title="A dark theme for the router app")
    voter_page.goto(f"/s/{space}?filter=ideas")
    expect(voter_page.get_by_role("link", name="Most voted")).to_have_attribute(
        "aria-current", "true"
    )
    titles = voter_page.get_by_role("main").get_by_role("heading", level=3)
    expect(titles).to_contain_text([title, newer.title])
    row = voter_page.get_by_role("listitem").filter(has_text=title)
    expect(row).to_contain_text(re.compile(r"\b1\s+votes?\b"))
