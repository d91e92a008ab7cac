"""Pages past the first find their rows by id first (web.helpers.paginate); they must list
exactly what a plain LIMIT/OFFSET lists, in the same order, with the same filters."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from community.dbtypes import utcnow
from community.extensions import db
from community.maintenance import analyze_database, refresh_statistics
from community.tasks import _TASKS, task_queue
from community.topics import queries, services
from community.topics.models import Topic

TITLE_RE = re.compile(r"Topic number (\d+) here")


@pytest.fixture
def app_config():
    return {"TOPICS_PER_PAGE": 3}


def titles(client, url: str) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200, url
    return [int(n) for n in TITLE_RE.findall(response.get_data(as_text=True))]


def every_page(client, url: str) -> list[int]:
    seen: list[int] = []
    number = 1
    while True:
        sep = "&" if "?" in url else "?"
        response = client.get(f"{url}{sep}page={number}" if number > 1 else url)
        if response.status_code == 404:
            return seen
        page = [int(n) for n in TITLE_RE.findall(response.get_data(as_text=True))]
        assert page, f"{url} page {number} is empty"
        seen += page
        number += 1


@pytest.fixture
def listed(create_user, create_space, create_topic):
    """Ten topics in a space with a known activity order, a pinned one, a deleted one, a
    held one (waiting for a moderator), and others in a private space."""
    author = create_user("author")
    admin = create_user("admin", role="admin", staff=True)
    space = create_space("routers")
    private = create_space("secret", visibility="staff")
    topics = [
        create_topic(author, space, title=f"Topic number {n} here", tags="wifi") for n in range(10)
    ]
    hidden = create_topic(admin, private, title="Topic number 99 here", tags="wifi")
    now = utcnow()
    # Activity: topic n was active n hours ago; two share a timestamp (the id decides).
    for n, topic in enumerate(topics):
        at = now - timedelta(hours=n if n != 5 else 4)
        db.session.execute(update(Topic).where(Topic.id == topic.id).values(last_activity_at=at))
    db.session.execute(update(Topic).where(Topic.id == topics[7].id).values(is_pinned=True))
    db.session.execute(update(Topic).where(Topic.id == topics[3].id).values(held_at=now))
    db.session.commit()
    services.delete_post(admin, queries.opening_post(db.session.get(Topic, topics[8].id)))
    return topics, hidden


def test_deep_pages_list_what_offsets_list(client, listed):
    # Pinned first, then by activity, newest first; equal times: the larger id first.
    expected = [7, 0, 1, 2, 5, 4, 6, 9]
    assert every_page(client, "/s/routers") == expected
    # The home page and a tag's page: by activity, no pinning; nothing private.
    assert every_page(client, "/") == [0, 1, 2, 5, 4, 6, 7, 9]
    assert every_page(client, "/tags/wifi") == [0, 1, 2, 5, 4, 6, 7, 9]
    assert titles(client, "/s/routers?page=2") == [2, 5, 4]
    assert client.get("/s/routers?page=4").status_code == 404


def test_deep_pages_by_votes_and_newest(client, listed, create_user, create_space, create_topic):
    assert every_page(client, "/s/routers?sort=newest") == [9, 7, 6, 5, 4, 2, 1, 0]
    author, voters = create_user("ideator"), [create_user(f"voter{n}") for n in range(3)]
    space = create_space("ideas", default_kind="idea")
    ideas = [
        create_topic(author, space, kind="idea", title=f"Topic number {n} here") for n in range(5)
    ]
    for n, votes in ((1, 3), (3, 1), (4, 2), (0, 1)):
        for voter in voters[:votes]:
            services.cast_vote(voter, queries.opening_post(ideas[n]), 1)
    # Most votes first; equal votes: the newer idea first.
    assert every_page(client, "/s/ideas?filter=ideas&sort=votes") == [1, 4, 3, 0, 2]


def test_analyze_gives_the_planner_statistics(app, listed, runner):
    analyze_database()
    if db.engine.dialect.name == "sqlite":
        rows = db.session.execute(
            db.text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'topics'")
        ).scalars()
        assert "ix_topics_activity" in set(rows)
    else:
        columns = db.session.execute(
            db.text("SELECT attname FROM pg_stats WHERE tablename = 'topics'")
        ).scalars()
        assert "last_activity_at" in set(columns)
    result = runner.invoke(args=["db", "analyze"])
    assert result.exit_code == 0 and "Statistics refreshed" in result.output
    # The worker runs it every night.
    spec = _TASKS["community.maintenance.refresh_statistics"]
    assert spec.schedule is not None
    assert "community.maintenance.refresh_statistics" in task_queue(app)._wrappers
    refresh_statistics()
