"""Asking a question, answering it, voting on answers and accepting one."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ANSWERS_REGION = re.compile(r"^\d+ answers?$")


def test_ask_a_question_and_keep_the_text_on_bad_input(page_as, seed):
    space = seed.space()
    page = page_as(seed.user("asker"))
    page.goto(f"/s/{space}")
    page.get_by_role("link", name="Ask a question").click()
    expect(page.get_by_role("radio", name=re.compile("^Question"))).to_be_checked()

    # The title comes first (similar topics are looked for), then the rest of the form.
    title = page.get_by_label("Title", exact=True)
    title.fill("Why does my router drop the connection every hour?")
    page.get_by_role("main").get_by_role("button", name="Continue").click()
    details = page.get_by_label("Details", exact=True)
    submit = page.get_by_role("main").get_by_role("button", name="Publish")
    body = "Since the update my router drops the connection **every hour**."
    title.fill("")
    details.fill(body)
    submit.click()

    expect(page.get_by_text("This field is required.")).to_be_visible()
    expect(title).to_have_attribute("aria-invalid", "true")
    # Only the field in error is announced as invalid ("false" or no attribute otherwise).
    expect(details).not_to_have_attribute("aria-invalid", re.compile(r"^(?!false$)"))
    expect(details).to_have_value(body)

    title.fill("Why does my router drop the connection every hour?")
    page.get_by_label("Tags", exact=True).fill("router wifi")
    submit.click()

    expect(page.get_by_text("Your topic is published.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Why does my router drop the connection every hour?"
    )
    opening = page.get_by_role("article").first
    expect(opening.get_by_text("every hour", exact=True)).to_have_js_property("tagName", "STRONG")
    expect(page.get_by_text("router", exact=True)).to_be_visible()
    expect(page.get_by_text("wifi", exact=True)).to_be_visible()

    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name=space).click()
    expect(
        page.get_by_role("link", name="Why does my router drop the connection every hour?")
    ).to_be_visible()


def test_answer_vote_and_accept(page_as, seed, tmp_path):
    space = seed.space()
    asker, helper, other = seed.user("asker"), seed.user("helper"), seed.user("other")
    topic = seed.topic(asker, space)
    # An earlier answer with a vote: listed before the one that will be accepted.
    seed.vote(helper, seed.answer(other, topic, "Have you tried another cable?"))

    helper_page = page_as(helper)
    helper_page.goto(topic.path)
    helper_page.get_by_role("textbox", name="Your answer").fill(
        "Update the firmware to 2.1: it fixes the drops."
    )
    helper_page.get_by_role("button", name="Post your answer").click()
    expect(helper_page.get_by_text("Your answer is published.")).to_be_visible()
    own_answer = helper_page.get_by_role("article", name=f"Post by {helper}")
    expect(own_answer).to_contain_text("Update the firmware to 2.1")
    expect(own_answer.get_by_role("button", name="Vote up")).to_be_disabled()

    page = page_as(asker)
    page.goto(topic.path)
    answers = page.get_by_role("region", name=ANSWERS_REGION).get_by_role("article")
    answer = page.get_by_role("article", name=f"Post by {helper}")
    expect(answers).to_have_count(2)
    expect(answers.first).to_have_accessible_name(f"Post by {other}")
    expect(
        page.get_by_role("article", name=f"Post by {asker}").get_by_role("button", name="Vote up")
    ).to_be_disabled()

    answer.get_by_role("button", name="Vote up").click()
    expect(answer.get_by_role("status", name="Score")).to_have_text("1")

    answer.get_by_role("button", name="Accept this answer").click()
    expect(page.get_by_text("Answer accepted.")).to_be_visible()
    expect(answers.first).to_have_accessible_name(f"Post by {helper}")
    expect(answers.first).to_contain_text("Accepted answer")
    expect(answers.nth(1)).not_to_contain_text("Accepted answer")
    expect(page.get_by_text("Solved")).to_be_visible()

    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 844})
        answers.first.scroll_into_view_if_needed()
        page.screenshot(path=tmp_path / f"topic-{width}.png", full_page=True)
        expect(answers.first).to_be_visible()
        expect(answers.first).to_be_in_viewport()
        box = answers.first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (
            f"the accepted answer does not fit a {width}px wide window: {box}"
        )


def test_a_long_topic_opens_at_its_title(page_as, seed):
    """Nothing takes the focus by itself: a reader starts at the title, not at the reply box."""
    space = seed.space()
    author, reader = seed.user("author"), seed.user("reader")
    steps = "\n\n".join(f"Step {n}: check the settings page once more." for n in range(1, 61))
    topic = seed.topic(author, space, body=steps)
    page = page_as(reader)
    page.goto(topic.path)
    expect(page.get_by_role("textbox", name="Your answer")).not_to_be_focused()
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
