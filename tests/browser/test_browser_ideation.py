"""The ideation plugin in a browser, closing the loop with voters: a member suggests an idea
through the site's new-topic form in an idea space; another member votes for it (and so
follows it); a member of the space's product team moves it to Planned with an official
response from the idea's sidebar; the voter is told (the worker mails them, the bell counts it,
the inbox says the idea is now Planned), opens the idea and reads the official response under
its title; the space's roadmap lists the idea under Planned. The idea page and the roadmap fit
a phone's width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def ideation(server):
    server.cli("plugins", "enable", "ideation")
    yield
    server.cli("plugins", "disable", "ideation")


def idea_space(seed, title: str) -> str:
    """A public space whose topics are ideas."""
    from community.spaces.models import Space
    from community.spaces.services import save_space

    slug = seed.unique("ideas-")
    with seed.app.app_context():
        save_space(
            Space(),
            slug=slug,
            title=title,
            description="Ideas for the router app",
            visibility="public",
            parent_id=None,
            default_kind="idea",
        )
    return slug


def join_product_team(seed, username: str, slug: str) -> None:
    from community_ideation import team

    from community.accounts.services import find_user_by_username
    from community.spaces.services import space_by_slug

    with seed.app.app_context():
        admin = find_user_by_username("admin")
        team.add_member(admin, space_by_slug(slug), find_user_by_username(username))


def assert_no_horizontal_scroll(page: Page, what: str) -> None:
    """The document is no wider than the window: nothing scrolls sideways."""
    widths = page.evaluate(
        "() => ({doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,"
        " window: window.innerWidth})"
    )
    assert max(widths["doc"], widths["body"]) <= widths["window"], (
        f"{what} scrolls sideways at {widths['window']}px: {widths}"
    )


def test_a_voter_hears_that_the_idea_is_planned_and_reads_the_response(
    ideation, page_as, seed, server
):
    space_title = f"Router app {seed.unique('')}"
    slug = idea_space(seed, space_title)
    author, voter, product = seed.user("author"), seed.user("voter"), seed.user("product")
    join_product_team(seed, product, slug)
    title = f"Schedule the nightly firmware update {seed.unique('')}"
    response = "We will ship an hour picker in the spring release."

    # 1. The author suggests the idea with core's new-topic form, in the idea space.
    page = page_as(author)
    page.goto(f"/s/{slug}")
    page.get_by_role("link", name="Suggest an idea").click()
    expect(page.get_by_role("radio", name=re.compile("^Idea"))).to_be_checked()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_role("main").get_by_role("button", name="Continue").click()
    page.get_by_label("Details", exact=True).fill("An option to pick the hour would help.")
    page.get_by_role("main").get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Your topic is published.")).to_be_visible()
    idea_url = page.url
    idea_path = re.sub(r"^https?://[^/]+", "", idea_url)
    # A new idea: no official response yet, and members see no status form.
    expect(page.locator(".ideation-response")).to_have_count(0)
    expect(page.get_by_role("combobox", name="New status")).to_have_count(0)

    # 2. Another member votes for it, and so follows it.
    voting = page_as(voter)
    voting.goto(idea_url)
    opening = voting.get_by_role("article", name=f"Post by {author}")
    opening.get_by_role("button", name="Vote up").click()
    expect(opening.get_by_role("status", name="Score")).to_have_text("1")
    bell = voting.get_by_role("link", name=re.compile(r"^Notifications"))
    expect(bell).to_have_accessible_name("Notifications")

    # 3. The product team moves it to Planned with an official response, from the sidebar.
    team = page_as(product)
    team.goto(idea_url)
    form = team.locator("form.ideation-status-form")
    form.get_by_label("New status").select_option(label="Planned")
    form.get_by_label("Official response").fill(response)
    form.get_by_role("button", name="Change the status").click()
    expect(team.get_by_text("The status of the idea was changed.")).to_be_visible()
    expect(team).to_have_url(idea_url)
    expect(team.locator(".ideation-response")).to_contain_text(response)

    # 4. The worker tells the voter: by mail at once (the kind's default), and in the inbox.
    mail = server.last_mail_to(f"{voter}@example.com")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert f"The idea “{title}” is now: Planned" in f"{mail['Subject']}\n{text}", (
        f"{mail['Subject']}\n{text}"
    )
    voting.goto("/")
    expect(bell).to_have_accessible_name("Notifications, 1 unread")
    bell.click()
    expect(voting).to_have_url(re.compile(r"/notifications$"))
    told = voting.get_by_role("link", name=f"The idea “{title}” is now: Planned")
    expect(told).to_be_visible()
    told.click()

    # 5. The idea shows the official response prominently, under its title.
    expect(voting).to_have_url(re.compile(re.escape(idea_path)))
    official = voting.get_by_role("region", name=re.compile(r"^Official response"))
    expect(official).to_be_visible()
    expect(official).to_contain_text("Planned")
    expect(official).to_contain_text(response)
    expect(official).to_be_in_viewport()
    heading = voting.get_by_role("heading", level=1)
    expect(heading).to_contain_text(title)
    heading_box, official_box = heading.bounding_box(), official.bounding_box()
    assert heading_box is not None and official_box is not None
    assert official_box["y"] >= heading_box["y"], "the official response is above the title"
    main_box = voting.get_by_role("article", name=f"Post by {author}").bounding_box()
    assert main_box is not None and official_box["y"] < main_box["y"], (
        "the official response comes after the idea's text, not under its title"
    )
    expect(bell).to_have_accessible_name("Notifications")  # read now
    sidebar = voting.get_by_role("region", name="Status history", exact=True)
    expect(sidebar).to_contain_text("Planned")

    # 6. The space's roadmap lists it under Planned, not in the other columns.
    voting.get_by_role("link", name="See the roadmap").click()
    expect(voting).to_have_url(re.compile(rf"/roadmap/{re.escape(slug)}$"))
    expect(voting.get_by_role("heading", level=1)).to_have_text(f"Roadmap of {space_title}")
    planned = voting.get_by_role("region", name="Planned", exact=True)
    expect(planned.get_by_role("link", name=title)).to_be_visible()
    expect(planned.locator(".ideation-idea").filter(has_text=title)).to_contain_text("1 vote")
    for other in ("In progress", "Shipped"):
        column = voting.get_by_role("region", name=other, exact=True)
        expect(column).to_be_visible()
        expect(column.get_by_role("link", name=title)).to_have_count(0)

    # 7. At a phone's width nothing scrolls sideways, and what matters stays in the window.
    voting.set_viewport_size(PHONE)
    voting.goto(f"/roadmap/{slug}")
    expect(planned.get_by_role("link", name=title)).to_be_visible()
    assert_no_horizontal_scroll(voting, "the roadmap")
    box = planned.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    voting.goto(idea_url)
    expect(official).to_be_visible()
    assert_no_horizontal_scroll(voting, "the idea page")
    box = official.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    # The product team's page with the sidebar form, too.
    team.set_viewport_size(PHONE)
    team.goto(idea_url)
    expect(team.get_by_label("New status")).to_be_attached()
    assert_no_horizontal_scroll(team, "the idea page with the status form")
    team.set_viewport_size(DESKTOP)
