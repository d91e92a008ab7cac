"""The issue's "Done when", through HTTP as the members and employees would go: several ideas
with different vote counts from five voters; an employee (a staff member, or a member of the
space's product team who is not staff) finds the most voted idea on the space's insight page
and takes it New → Under review → Planned → In progress → Shipped with official responses,
attaching the release an administrator made when it ships. After every step every voter and the
author are told of that step (a notification, its email, the inbox), each in their own language
(one voter reads Italian), and nobody else is; a voter who may no longer see the space hears
nothing. At the end the release lists the idea with credit to its author, the roadmap shows it
under Shipped, and voting on it is closed."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from community_ideation import team
from community_ideation.models import Change, Release
from sqlalchemy import select

from community.extensions import db
from community.notifications.models import Notification
from community.spaces.services import add_moderator, remove_moderator
from community.topics.models import Topic
from community.topics.queries import opening_post

# What the idea_status notification says, by language: core's sentence with the status name.
SENTENCE = {
    "en": "The idea “{title}” is now: {status}",
    "it": "L’idea “{title}” ora è: {status}",
}
NAMES = {
    "under_review": {"en": "Under review", "it": "In valutazione"},
    "planned": {"en": "Planned", "it": "Pianificata"},
    "in_progress": {"en": "In progress", "it": "In corso"},
    "shipped": {"en": "Shipped", "it": "Rilasciata"},
}
# (status, the official response in Markdown, how the idea shows it)
STEPS = [
    ("under_review", "The product team is looking into it.", "The product team is looking"),
    (
        "planned",
        "It is on the plan for the **spring** release.",
        "It is on the plan for the <strong>spring</strong> release.",
    ),
    ("in_progress", "We started on it this week.", "We started on it this week."),
    ("shipped", "It shipped: update the app to try it.", "It shipped: update the app"),
]
COLUMNS = ("planned", "in_progress", "shipped")
TOP = "Schedule the nightly firmware update"
SECOND = "A dark theme for the router app"
THIRD = "Show the guest network password as a QR code"


def told(recipient_locale: str, title: str, status: str) -> str:
    return SENTENCE[recipient_locale].format(title=title, status=NAMES[status][recipient_locale])


@pytest.fixture
def world(enable_plugin, create_user, create_space, create_topic, client):
    """An idea space with three ideas: 4, 3 and 1 votes, cast through the site by five
    voters (carla reads Italian; eve did not vote for the most voted idea)."""
    enable_plugin("ideation")
    people = {
        "admin": create_user("admin", role="admin"),
        "author": create_user("author"),
        "ann": create_user("ann"),
        "bob": create_user("bob"),
        "carla": create_user("carla", locale="it"),
        "dave": create_user("dave"),
        "eve": create_user("eve"),
        "space": create_space("ideas", title="Router app ideas", default_kind="idea"),
    }
    space, author = people["space"], people["author"]
    # Created oldest first: the most voted idea is neither the newest nor the oldest.
    third = create_topic(author, space, kind="idea", title=THIRD)
    top = create_topic(author, space, kind="idea", title=TOP)
    second = create_topic(author, space, kind="idea", title=SECOND)
    ballots = {
        "ann": [top, second],
        "bob": [top, second],
        "carla": [top],
        "dave": [top],
        "eve": [second, third],
    }
    for name, ideas in ballots.items():
        client.login(name)
        for idea in ideas:
            voted = client.submit(f"/p/{opening_post(idea).id}/vote", {"value": "up"})
            assert voted.status_code == 302, voted.get_data(as_text=True)[:500]
        client.logout()
    for idea, score in ((top, 4), (second, 3), (third, 1)):
        db.session.refresh(idea)
        assert idea.score == score
    people["top"] = top
    people["voters"] = ["ann", "bob", "carla", "dave"]
    return people


@pytest.fixture(params=["staff", "product team"])
def employee(request, world, create_user):
    """Who takes the idea through the workflow: a staff member, or a member of the space's
    product team who is not staff (nor a moderator)."""
    if request.param == "staff":
        return create_user("staffer", staff=True)
    member = create_user("product")
    team.add_member(world["admin"], world["space"], member)
    assert not member.is_staff and not member.is_admin
    return member


def most_voted_idea(client, slug: str) -> int:
    """The first of the insight page's "Most voted open ideas"; the space's idea list sorted
    by votes agrees."""
    page = client.get(f"/ideas/insight/{slug}")
    assert page.status_code == 200, page.status_code
    text = page.get_data(as_text=True)
    top_section = text.split('id="ideation-top-title"', 1)[1]
    found = re.search(r'<li class="ideation-idea"><a href="/t/(\d+)/', top_section)
    assert found, top_section[:2000]
    listing = client.get(f"/s/{slug}?filter=ideas&sort=votes").get_data(as_text=True)
    first = re.search(r'href="/t/(\d+)/', listing.split("<main", 1)[1])
    assert first and first.group(1) == found.group(1), "the idea list sorts another idea first"
    return int(found.group(1))


def status_recipients(topic: Topic, status: str) -> dict[int, Notification]:
    rows = db.session.scalars(
        select(Notification).where(
            Notification.kind == "idea_status",
            Notification.topic_id == topic.id,
        )
    )
    return {n.user_id: n for n in rows if n.data.get("status") == status}


def inbox_of(client, username: str) -> str:
    client.logout()
    client.login(username)
    page = client.get("/notifications")
    assert page.status_code == 200
    client.logout()
    return html.unescape(page.get_data(as_text=True))


def create_release(client, name: str) -> Release:
    client.login("admin")
    made = client.submit(
        "/releases/new",
        {"name": name, "released_on": date.today().isoformat(), "notes": "Scheduling."},
    )
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    client.logout()
    release = db.session.scalar(select(Release).where(Release.name == name))
    assert release is not None
    return release


def column(page: str, key: str) -> str:
    """The HTML of one roadmap column."""
    start = page.index(f"ideation-column-{key}")
    return page[start : page.index("</section>", start)]


def test_the_most_voted_idea_goes_from_new_to_shipped_and_every_voter_hears_of_each_step(
    world, employee, client, run_tasks, outbox
):
    space, author = world["space"], world["author"]
    recipients = {world[name].id: world[name] for name in [*world["voters"], "author"]}
    run_tasks()  # the ideas' own events (new topics in the space): nothing about a status
    outbox.clear()

    client.login(employee.username)
    idea_id = most_voted_idea(client, space.slug)
    assert idea_id == world["top"].id
    idea = db.session.get(Topic, idea_id)
    assert idea.status == "new"
    idea_url = f"/t/{idea.id}/{idea.slug}"
    client.logout()

    for status, response, shown in STEPS:
        release = None
        if status == "shipped":
            release = create_release(client, "Router app 4.2")
        client.login(employee.username)
        page = client.get(idea_url).get_data(as_text=True)
        assert f'action="/ideas/{idea.id}/status"' in page, "no status form in the sidebar"
        assert f'value="{status}"' in page, f"{status} is not offered"
        changed = client.submit(
            f"/ideas/{idea.id}/status",
            {"status": status, "response": response, "release": release.id if release else ""},
        )
        assert changed.status_code == 302, changed.get_data(as_text=True)[:3000]
        client.logout()
        db.session.expire_all()
        assert db.session.get(Topic, idea.id).status == status
        run_tasks()

        # Every voter of the idea and its author, and nobody else (not eve, who voted for
        # other ideas; not the employee who made the change).
        notified = status_recipients(idea, status)
        names = sorted(u.username for u in recipients.values())
        assert set(notified) == set(recipients), (
            f"{status}: told {sorted(notified)}, expected the ids of {names}"
        )
        for user in recipients.values():
            locale = user.locale or "en"
            expected = told(locale, TOP, status)
            # The email, in the recipient's language.
            mails = [m for m in outbox if m["To"] == user.email]
            assert mails, f"{status}: no email to {user.username}"
            assert mails[-1]["Subject"] == expected, (user.username, mails[-1]["Subject"])
            # The inbox, in the recipient's language.
            inbox = inbox_of(client, user.username)
            assert expected in inbox, f"{status}: {user.username}'s inbox lacks {expected!r}"
            if locale == "it":
                assert told("en", TOP, status) not in inbox
        for name in ("eve", "admin"):
            assert TOP not in inbox_of(client, name)
        assert not [m for m in outbox if m["To"] in {"eve@example.com", employee.email}]

        # The idea shows this step's official response, prominently: in its header, under
        # the title, before the idea's own text.
        page = client.get(idea_url).get_data(as_text=True)
        header = page.split('class="topic-header"', 1)[1].split("</header>", 1)[0]
        official = re.search(r'<section class="ideation-response".*?</section>', header, re.S)
        assert official, f"{status}: no official response under the title"
        assert "Official response" in official.group(0)
        assert NAMES[status]["en"] in official.group(0) and shown in official.group(0)

        # The roadmap has it in the column of its status (none while under review).
        roadmap = html.unescape(client.get(f"/roadmap/{space.slug}").get_data(as_text=True))
        assert [key for key in COLUMNS if TOP in column(roadmap, key)] == (
            [status] if status in COLUMNS else []
        ), status

    # The timeline has every step, each with the employee's response.
    changes = list(
        db.session.scalars(select(Change).where(Change.topic_id == idea.id).order_by(Change.id))
    )
    assert [(c.from_status, c.to_status) for c in changes] == [
        ("new", "under_review"),
        ("under_review", "planned"),
        ("planned", "in_progress"),
        ("in_progress", "shipped"),
    ]
    assert {c.actor_id for c in changes} == {employee.id}

    # The release lists the idea, credited to its author.
    release = db.session.scalar(select(Release).where(Release.name == "Router app 4.2"))
    shown = client.get(f"/releases/{release.slug}")
    assert shown.status_code == 200
    text = html.unescape(shown.get_data(as_text=True))
    assert "Ideas shipped in this release" in text
    item = re.search(r'<li class="ideation-idea">(.*?)</li>', text, re.S)
    assert item, "the release lists no idea"
    assert TOP in item.group(1) and f"/t/{idea.id}/" in item.group(1)
    assert "Suggested by" in item.group(1) and f"/u/{author.username}" in item.group(1)
    assert f"<span>{author.username}</span>" in item.group(1)

    # The roadmap shows it under Shipped, and only there.
    roadmap = html.unescape(client.get(f"/roadmap/{space.slug}").get_data(as_text=True))
    assert TOP in column(roadmap, "shipped")
    assert TOP not in column(roadmap, "planned") and TOP not in column(roadmap, "in_progress")

    # Voting on it is closed: eve may not add her vote now.
    client.login("eve")
    refused = client.submit(
        f"/p/{opening_post(idea).id}/vote",
        {"value": "up"},
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 403
    assert "Voting on this idea is closed" in refused.get_json()["error"]
    db.session.expire_all()
    assert db.session.get(Topic, idea.id).score == 4


def test_a_voter_who_may_no_longer_see_the_space_hears_nothing(
    enable_plugin, create_user, create_space, create_topic, client, run_tasks, outbox
):
    """A staff-only space of ideas: a voter who saw it as its moderator, and no longer is one,
    is told nothing more (no notification, no email, nothing in the inbox); a staff voter
    still is."""
    enable_plugin("ideation")
    insider = create_user("insider", staff=True)
    former = create_user("former")
    space = create_space("beta", title="Beta ideas", visibility="staff", default_kind="idea")
    add_moderator(space, former)
    idea = create_topic(insider, space, kind="idea", title="Export the logs as a zip file")
    staff_voter = create_user("stafvoter", staff=True)
    for name in ("former", "stafvoter"):
        client.login(name)
        voted = client.submit(f"/p/{opening_post(idea).id}/vote", {"value": "up"})
        assert voted.status_code == 302
        client.logout()
    employee = create_user("employee", staff=True)

    def move(status: str, response: str) -> None:
        client.login(employee.username)
        changed = client.submit(
            f"/ideas/{idea.id}/status", {"status": status, "response": response, "release": ""}
        )
        assert changed.status_code == 302, changed.get_data(as_text=True)[:2000]
        client.logout()
        run_tasks()

    # While she moderates the space, she hears of it like any voter.
    move("under_review", "Looking into it.")
    assert set(status_recipients(idea, "under_review")) == {insider.id, former.id, staff_voter.id}

    # She moderates it no more: it is a staff-only space, she may no longer see it.
    remove_moderator(space, former.id)
    outbox.clear()
    move("planned", "Planned for the next beta.")
    assert set(status_recipients(idea, "planned")) == {insider.id, staff_voter.id}
    assert not [m for m in outbox if m["To"] == former.email]
    assert [m["Subject"] for m in outbox if m["To"] == staff_voter.email] == [
        told("en", "Export the logs as a zip file", "planned")
    ]
    inbox = inbox_of(client, "former")
    assert "Export the logs as a zip file" not in inbox


def test_the_italian_voter_reads_the_statuses_in_italian_on_the_ideas_pages(world, client):
    """Carla's notification says "Pianificata"; the idea she opens from it and the roadmap
    must name the status the same way, not in English."""
    idea = world["top"]
    staff = world["admin"]
    client.login(staff.username)
    changed = client.submit(
        f"/ideas/{idea.id}/status",
        {"status": "planned", "response": "It is on the plan.", "release": ""},
    )
    assert changed.status_code == 302
    client.logout()

    client.login("carla")
    page = html.unescape(client.get(f"/t/{idea.id}/{idea.slug}").get_data(as_text=True))
    official = re.search(r'<section class="ideation-response".*?</section>', page, re.S)
    assert official and "Risposta ufficiale" in official.group(0)
    assert "Pianificata" in official.group(0), official.group(0)
    timeline = page.split('id="ideation-timeline-title"', 1)[1].split("</section>", 1)[0]
    assert "Pianificata" in timeline, timeline
    roadmap = html.unescape(client.get(f"/roadmap/{world['space'].slug}").get_data(as_text=True))
    assert "Pianificata" in column(roadmap, "planned"), column(roadmap, "planned")
    assert "Planned" not in roadmap
