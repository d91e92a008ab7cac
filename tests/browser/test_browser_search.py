"""Search: the similar topics of the ask form (with and without JavaScript) and the search page.

The tests do not wait for the worker beside the server to update the search index: they write
it themselves in the ``seed`` app, which shares the server's database and instance folder
(where the index lives), every queued topic before the browser looks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

ADMIN = "admin"  # created by the server fixture with `community users create --admin`

TITLE = "How to reset the admin password of my router"
ANSWER = "Hold the reset button for ten seconds: the password is then the one on the label."
TYPED = "how do I reset my router password"
STAFF_TITLE = "Router password rotation for the support team"


@dataclass(frozen=True)
class Solved:
    space: str
    topic: Any  # conftest's TopicRef


def index_now(seed) -> None:
    from community.search.indexing import index_lock, process_queue, queue_waiting

    with seed.app.app_context():
        # When the worker is writing too, wait for its turn to end, then write what is left.
        with index_lock(wait=True):
            process_queue()
        assert not queue_waiting(), "the search queue was not emptied"


@pytest.fixture(scope="module")
def solved(seed) -> Solved:
    """A solved question with an accepted answer in a public space, in the index."""
    from community.accounts.services import find_user_by_username
    from community.extensions import db
    from community.topics.models import Post
    from community.topics.services import accept_answer

    space = seed.space()
    asker, helper = seed.user("asker"), seed.user("helper")
    topic = seed.topic(asker, space, title=TITLE, body="I forgot it and the settings are locked.")
    answer_id = seed.answer(helper, topic, ANSWER)
    with seed.app.app_context():
        accept_answer(find_user_by_username(asker), db.session.get(Post, answer_id))
    index_now(seed)
    return Solved(space, topic)


def deflections_of(seed, username: str) -> list[tuple[int, int | None, str]]:
    from sqlalchemy import select

    from community.accounts.services import find_user_by_username
    from community.extensions import db
    from community.search.models import SearchDeflection

    with seed.app.app_context():
        user = find_user_by_username(username)
        rows = db.session.execute(
            select(
                SearchDeflection.topic_id, SearchDeflection.space_id, SearchDeflection.query
            ).where(SearchDeflection.user_id == user.id)
        )
        return [tuple(row) for row in rows]


def space_id(seed, slug: str) -> int:
    from community.spaces.services import space_by_slug

    with seed.app.app_context():
        return space_by_slug(slug).id


def suggestion(page: Page) -> Locator:
    """The suggestion of the solved question in the panel under the title."""
    return (
        page.locator("#similar-topics")
        .get_by_role("listitem")
        .filter(has=page.get_by_role("link", name=TITLE, exact=True))
    )


def fits(locator: Locator, width: int) -> None:
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (
        f"{locator} does not fit a {width}px wide window: {box}"
    )


def test_the_ask_form_suggests_a_solved_question_as_one_types(page_as, seed, solved, tmp_path):
    member = seed.user("member")
    page = page_as(member)
    page.goto(f"/s/{solved.space}")
    page.get_by_role("link", name="Ask a question").click()
    panel = page.locator("#similar-topics")
    expect(panel).to_have_attribute("aria-live", "polite")
    expect(panel).to_be_empty()

    page.get_by_label("Title", exact=True).press_sequentially(TYPED)

    found = suggestion(page)
    expect(found).to_contain_text("Solved")
    expect(found).to_contain_text(f"Accepted answer: {ANSWER}")
    expect(found.get_by_role("link", name=TITLE, exact=True).locator("mark").first).to_be_visible()
    expect(panel.get_by_role("heading", level=2)).to_contain_text("Similar topics")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 844})
        page.screenshot(path=tmp_path / f"ask-{width}.png", full_page=True)
        fits(found, width)

    found.get_by_role("link", name=TITLE, exact=True).click()
    expect(page).to_have_url(re.compile(rf"{re.escape(solved.topic.path)}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert deflections_of(seed, member) == [(solved.topic.id, space_id(seed, solved.space), TYPED)]


def test_without_javascript_the_title_comes_first_then_the_suggestions(page_as, seed, solved):
    page = page_as(seed.user("member"), java_script_enabled=False)
    page.goto(f"/s/{solved.space}")
    page.get_by_role("link", name="Ask a question").click()
    expect(page.get_by_label("Details", exact=True)).to_have_count(0)
    page.get_by_label("Title", exact=True).fill(TYPED)
    page.get_by_role("main").get_by_role("button", name="Continue").click()

    found = suggestion(page)
    expect(found).to_contain_text(f"Accepted answer: {ANSWER}")
    expect(page.get_by_role("radio", name=re.compile("^Question"))).to_be_checked()
    expect(page.get_by_label("Title", exact=True)).to_have_value(TYPED)

    # Nothing there answers it: the rest of the form is below the suggestions.
    page.get_by_label("Details", exact=True).fill("The reset button does nothing on mine.")
    page.get_by_role("main").get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Your topic is published.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(TYPED)


def search_from_the_header(page: Page, words: str) -> None:
    box = page.get_by_role("search", name="Site").get_by_role("searchbox", name="Search")
    box.fill(words)
    box.press("Enter")
    expect(page).to_have_title(re.compile(rf"^Search: {re.escape(words)}\b"))


def test_the_search_page_marks_the_words_and_keeps_staff_topics_private(
    page_as, seed, solved, tmp_path
):
    staff_space = seed.space(visibility="staff")
    seed.topic(ADMIN, staff_space, title=STAFF_TITLE, body="Change the router password monthly.")
    index_now(seed)

    page = page_as(seed.user("member"))
    page.goto("/")
    search_from_the_header(page, "router password")
    results = page.get_by_role("region", name=re.compile(r"^\d+ results?$"))
    hit = results.get_by_role("listitem").filter(
        has=page.get_by_role("link", name=TITLE, exact=True)
    )
    title_link = hit.get_by_role("link", name=TITLE, exact=True)
    expect(title_link.locator("mark")).to_have_text(["password", "router"])
    expect(hit).to_contain_text(f"Accepted answer: {ANSWER}")
    expect(hit.get_by_role("link", name=re.compile(r"^Space "))).to_have_attribute(
        "href", f"/s/{solved.space}"
    )
    expect(page.get_by_role("link", name=STAFF_TITLE)).to_have_count(0)
    # The header box says what was searched; the form of the page too.
    expect(page.get_by_role("search", name="Site").get_by_role("searchbox")).to_have_value(
        "router password"
    )
    expect(page.get_by_label("Search for")).to_have_value("router password")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 844})
        page.screenshot(path=tmp_path / f"search-{width}.png", full_page=True)
        fits(hit, width)

    # The staff see it: the member's results above left it out, it was not missing.
    staff = page_as(ADMIN)
    staff.goto("/")
    search_from_the_header(staff, "router password")
    expect(staff.get_by_role("link", name=STAFF_TITLE)).to_be_visible()
