"""The experts plugin in a browser: a space moderator makes a product engineer an expert of
the space; a question nobody answers is offered to the engineer, who finds it in the menu and
on "Unanswered in your spaces", answers it, and is not asked any more; visitors see the
"Expert · <space>" badge on the answer; the directory shows the response times."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def experts(server):
    server.cli("plugins", "enable", "experts")
    yield
    server.cli("plugins", "disable", "experts")


def make_moderator(seed, username: str, slug: str) -> None:
    from community.accounts.services import find_user_by_username
    from community.spaces.services import add_moderator, space_by_slug

    with seed.app.app_context():
        add_moderator(space_by_slug(slug), find_user_by_username(username))


def asked_minutes_ago(seed, topic_id: int, minutes: int) -> None:
    """Time passes: the question was asked ``minutes`` ago."""
    from sqlalchemy import update

    from community.dbtypes import utcnow
    from community.extensions import db
    from community.topics.models import Topic

    with seed.app.app_context():
        db.session.execute(
            update(Topic)
            .where(Topic.id == topic_id)
            .values(created_at=utcnow() - timedelta(minutes=minutes))
        )
        db.session.commit()


def test_a_waiting_question_reaches_the_spaces_expert(experts, page_as, new_page, seed, server):
    title = f"Routers {seed.unique('')}"
    slug = seed.space(title=title)
    moderator, engineer, asker = seed.user("mod"), seed.user("engineer"), seed.user("asker")
    make_moderator(seed, moderator, slug)

    # 1. The space's moderator makes the engineer an expert, with a reason.
    mod = page_as(moderator)
    mod.goto(f"/experts/s/{slug}")
    mod.get_by_label("Username").fill(engineer)
    mod.get_by_label("Reason").first.fill("Firmware engineer of the router team")
    mod.get_by_role("button", name="Grant the expert badge").click()
    expect(mod.get_by_role("main")).to_contain_text(engineer)
    # 2. The space offers questions after 10 minutes.
    minutes = "Minutes without an answer before a question is offered"
    mod.get_by_label(minutes).fill("10")
    mod.get_by_role("button", name="Save").click()
    expect(mod.get_by_label(minutes)).to_have_value("10")

    # 3. A question waits 11 minutes; the worker's routing run offers it to the engineer.
    topic = seed.topic(asker, slug, title=f"Guest network kills the 5 GHz band {seed.unique('')}")
    asked_minutes_ago(seed, topic.id, 11)
    assert re.search(r"\b1 offers made", server.cli("experts", "route"))

    expert = page_as(engineer)
    expert.goto("/")
    expect(expert.get_by_role("link", name="Waiting for you (1)")).to_be_visible()
    expert.get_by_role("link", name="Waiting for you (1)").click()
    offered = expert.locator(".experts-offers")
    expect(offered).to_contain_text(topic.title)
    offered.get_by_role("link", name="Answer").click()
    expert.get_by_label("Your answer").fill("Turn off band steering, then restart the guest wifi.")
    expert.get_by_role("button", name="Post your answer").click()
    expect(expert.get_by_role("main")).to_contain_text("Turn off band steering")

    # 4. Answered: the engineer is not asked any more, and no one else will be.
    expert.goto("/experts/unanswered")
    expect(expert.locator(".experts-offers")).to_have_count(0)
    expect(expert.get_by_role("link", name=re.compile(r"Waiting for you \("))).to_have_count(0)
    assert re.search(r"\b0 offers made", server.cli("experts", "route"))

    # 5. A visitor sees the badge on the answer, and the directory's response times.
    visitor = new_page()
    visitor.goto(topic.path)
    expect(visitor.locator(".badge-expert").first).to_have_text(f"Expert · {title}")
    visitor.goto(f"/experts/s/{slug}")
    main = visitor.get_by_role("main")
    expect(main).to_contain_text("Median time to first answer")
    expect(main).to_contain_text(engineer)
    expect(main).to_contain_text("Granted")
