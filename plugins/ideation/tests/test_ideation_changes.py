"""Status changes: the workflow's moves, official responses, who may change a status (staff,
the space's moderators, its product team; never members), and voting rules."""

from __future__ import annotations

import pytest
from community_ideation import changes, team
from community_ideation.models import Change
from sqlalchemy import select

from community.errors import Refused
from community.extensions import db
from community.plugins.settings import plugin_settings, save_plugin_settings
from community.topics import services
from community.topics.queries import opening_post


@pytest.fixture
def world(enable_plugin, create_user, create_space, create_topic):
    enable_plugin("ideation")
    people = {
        "admin": create_user("admin", role="admin"),
        "pm": create_user("product"),
        "member": create_user("member"),
        "voter": create_user("voter"),
        "ideas": create_space("ideas", default_kind="idea"),
        "other": create_space("other", default_kind="idea"),
    }
    team.add_member(people["admin"], people["ideas"], people["pm"])
    people["idea"] = create_topic(
        people["member"], people["ideas"], kind="idea", title="A dark mode for the app"
    )
    people["elsewhere"] = create_topic(
        people["member"], people["other"], kind="idea", title="A light mode for the app"
    )
    return people


def configure(**values):
    current = dict(plugin_settings("ideation"))
    current.update(values)
    assert save_plugin_settings("ideation", current) == {}


def test_the_product_team_moves_ideas_of_its_space_only(world):
    change = changes.change_status(world["pm"], world["idea"], "planned", "Coming in spring.")
    db.session.refresh(world["idea"])
    assert world["idea"].status == "planned"
    assert change.response_html.startswith("<p>Coming in spring.")
    with pytest.raises(Refused):
        changes.change_status(world["pm"], world["elsewhere"], "planned", "No.")
    db.session.refresh(world["elsewhere"])
    assert world["elsewhere"].status == "new"


def test_members_cannot_change_a_status(world):
    with pytest.raises(Refused):
        changes.change_status(world["member"], world["idea"], "planned", "Mine!")
    db.session.refresh(world["idea"])
    assert world["idea"].status == "new"
    assert db.session.scalar(select(Change.id)) is None


def test_moves_outside_the_workflow_are_refused(world):
    with pytest.raises(Refused) as refused:
        changes.change_status(world["pm"], world["idea"], "shipped", "Done")
    assert refused.value.field == "status"
    assert "cannot go from New to Shipped" in refused.value.message
    with pytest.raises(Refused) as refused:
        changes.change_status(world["pm"], world["idea"], "declined", "")
    assert refused.value.field == "response"
    db.session.refresh(world["idea"])
    assert world["idea"].status == "new"


def test_voting_closes_with_the_idea_and_budgets_return(world, create_topic):
    configure(vote_budget=1)
    voter, idea = world["voter"], world["idea"]
    second = create_topic(world["member"], world["ideas"], kind="idea", title="Home screen widgets")
    services.cast_vote(voter, opening_post(idea), 1)
    with pytest.raises(Refused, match="used your 1 vote"):
        services.cast_vote(voter, opening_post(second), 1)
    # The first idea is declined: voting on it closes, and the vote comes back.
    changes.change_status(world["pm"], idea, "declined", "Not for now.")
    with pytest.raises(Refused, match="closed"):
        services.cast_vote(world["admin"], opening_post(idea), 1)
    assert services.cast_vote(voter, opening_post(second), 1) == 1


def test_the_status_page_changes_it_and_keeps_what_was_typed_when_refused(world, client):
    idea = world["idea"]
    url = f"/ideas/{idea.id}/status"
    client.login("member")
    assert client.get(url).status_code == 403
    client.logout()
    client.login("product")
    page = client.get(f"/t/{idea.id}/{idea.slug}").get_data(as_text=True)
    assert url in page and "Status history" in page
    refused = client.submit(url, {"status": "declined", "response": ""})
    assert refused.status_code == 400
    assert "needs an official response" in refused.get_data(as_text=True)
    refused = client.submit(url, {"status": "shipped", "response": "Typed text kept"})
    assert refused.status_code == 400 and "Typed text kept" in refused.get_data(as_text=True)
    done = client.submit(url, {"status": "planned", "response": "We are **on it**."})
    assert done.status_code == 302
    page = client.get(f"/t/{idea.id}/{idea.slug}").get_data(as_text=True)
    assert "Official response" in page and "<strong>on it</strong>" in page
