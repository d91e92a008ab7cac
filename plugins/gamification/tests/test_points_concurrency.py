"""Votes arriving at the same moment: the per-member lock keeps the ledger exact.

PostgreSQL only (``COMMUNITY_TEST_DATABASE_URL=postgresql+psycopg://...``): SQLite runs one
writer at a time, so there is no race to test.
"""

from __future__ import annotations

import os
import threading

import pytest
from community_gamification import points
from community_gamification.models import LedgerEntry
from community_gamification.settings import settings
from sqlalchemy import func, select

from community.accounts.models import User
from community.extensions import db
from community.topics import services as topics
from community.topics.models import Post

pytestmark = pytest.mark.skipif(
    not os.environ.get("COMMUNITY_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL (COMMUNITY_TEST_DATABASE_URL)",
)

N = 20


def test_simultaneous_upvotes(app, enable_plugin, create_user, create_space, create_topic):
    enable_plugin("gamification")
    from community.plugins.settings import save_plugin_settings

    assert save_plugin_settings("gamification", {"daily_vote_cap": 0}) == {}
    per_vote = int(settings()["points_answer_upvoted"])
    asker, helper = create_user("asker"), create_user("helper")
    voter_ids = [create_user(f"voter{n}").id for n in range(N)]
    topic = create_topic(asker, create_space("help"), title="How do I reset my router?")
    answer = topics.create_post(helper, topic, "Hold the reset button.")
    answer_id, helper_id = answer.id, helper.id
    first_answer = points.points_of([helper_id])[helper_id]
    db.session.remove()

    barrier = threading.Barrier(N)
    errors: list[BaseException] = []

    def vote(voter_id: int) -> None:
        try:
            with app.app_context():
                voter = db.session.get(User, voter_id)
                post = db.session.get(Post, answer_id)
                db.session.rollback()  # start the race without a transaction open
                barrier.wait(timeout=30)
                topics.cast_vote(voter, post, 1)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=(v,)) for v in voter_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []

    assert points.points_of([helper_id])[helper_id] == first_answer + N * per_vote
    positive_per_key = db.session.execute(
        select(LedgerEntry.key, func.count())
        .where(LedgerEntry.user_id == helper_id, LedgerEntry.amount > 0)
        .group_by(LedgerEntry.key)
    ).all()
    assert len(positive_per_key) == N + 1  # the votes and the first answer
    assert all(count == 1 for _key, count in positive_per_key)
    assert (
        db.session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.amount < 0)
        )
        == 0
    )
    report, missing = points.check()
    assert (report.totals, missing) == ({}, [])
