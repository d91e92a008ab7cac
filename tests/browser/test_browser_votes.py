"""Voting works in place with JavaScript and as a plain form without it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def is_vote_request(response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/vote")


def test_vote_with_javascript_updates_the_score_in_place(page_as, seed):
    space = seed.space()
    author, voter = seed.user("author"), seed.user("voter")
    topic = seed.topic(author, space, kind="idea", title="Export my settings as a file")
    page = page_as(voter)
    page.goto(topic.path)
    url = page.url
    # A reload or a navigation would start a new document without this mark.
    page.evaluate("window.stillTheSameDocument = true")
    idea = page.get_by_role("article", name=f"Post by {author}")
    vote_up = idea.get_by_role("button", name="Vote up")

    with page.expect_response(is_vote_request) as vote:
        vote_up.click()
    answer = vote.value
    assert answer.status == 200 and answer.headers["content-type"].startswith("application/json"), (
        f"the theme's script did not send the vote asking for JSON: {answer.status} "
        f"{answer.headers.get('content-type')}"
    )
    expect(idea.get_by_role("status", name="Score")).to_have_text("1")
    expect(vote_up).to_have_attribute("aria-pressed", "true")
    assert page.url == url
    assert page.evaluate("window.stillTheSameDocument === true")

    page.reload()
    expect(idea.get_by_role("status", name="Score")).to_have_text("1")


def test_vote_without_javascript_submits_the_form(page_as, seed):
    space = seed.space()
    author, voter = seed.user("author"), seed.user("voter")
    topic = seed.topic(author, space, kind="idea", title="Remember the last used network")
    page = page_as(voter, java_script_enabled=False)
    page.goto(topic.path)
    idea = page.get_by_role("article", name=f"Post by {author}")
    vote_up = idea.get_by_role("button", name="Vote up")

    with page.expect_response(is_vote_request) as vote:
        vote_up.click()
    assert vote.value.status == 302
    expect(idea.get_by_role("status", name="Score")).to_have_text("1")
    expect(vote_up).to_have_attribute("aria-pressed", "true")
