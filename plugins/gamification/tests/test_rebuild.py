"""``community gamification rebuild`` and ``check``."""

from __future__ import annotations

import pytest
from community_gamification import points
from community_gamification.models import LedgerEntry, Total
from sqlalchemy import func, select, update

from community.accounts.services import suspend_user
from community.extensions import db
from community.plugins.settings import save_plugin_settings
from community.topics import services as topics
from community.topics.models import Post


def ledger_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


@pytest.fixture
def played(enable_plugin, create_user, create_space, create_topic, create_post):
    """A few members after some play: votes, an acceptance, a deletion, a suspension."""
    enable_plugin("gamification")
    assert save_plugin_settings("gamification", {"downvote_level": 1, "daily_vote_cap": 25}) == {}
    admin = create_user("root", role="admin")
    asker, helper, other = create_user("asker"), create_user("helper"), create_user("other")
    voters = [create_user(f"voter{n}") for n in range(4)]
    space = create_space("help")
    topic = create_topic(asker, space, title="How do I reset my router?")
    answer = create_post(helper, topic, "Hold the reset button.")
    second = create_post(other, topic, "Unplug it for a minute.")
    opening = db.session.scalars(
        select(Post).where(Post.topic_id == topic.id, Post.is_opening.is_(True))
    ).one()
    for voter in voters:
        topics.cast_vote(voter, answer, 1)
    topics.cast_vote(voters[0], second, -1)
    topics.cast_vote(voters[1], opening, 1)
    topics.accept_answer(asker, answer)
    topics.delete_post(admin, second)
    suspend_user(voters[2], admin, "spam")
    return {"helper": helper, "admin": admin}


def test_rebuild_after_play_appends_nothing(runner, played):
    assert points.points_of([played["helper"].id])[played["helper"].id] == 5 + 25 + 15
    before = ledger_rows()
    result = runner.invoke(args=["gamification", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "0 ledger rows appended" in result.output
    assert "totals match" in result.output
    assert ledger_rows() == before
    result = runner.invoke(args=["gamification", "check"])
    assert result.exit_code == 0, result.output
    assert "totals match" in result.output


def test_check_finds_and_rebuild_repairs_a_wrong_total(runner, played):
    helper = played["helper"]
    db.session.execute(update(Total).where(Total.user_id == helper.id).values(points=999))
    db.session.commit()
    result = runner.invoke(args=["gamification", "check"])
    assert result.exit_code == 1
    assert f"user {helper.id}: total 999, ledger 45" in result.output

    result = runner.invoke(args=["gamification", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "1 totals differed" in result.output
    assert points.points_of([helper.id])[helper.id] == 45
    assert runner.invoke(args=["gamification", "check"]).exit_code == 0


def test_check_finds_and_rebuild_repairs_a_missing_ledger_row(runner, played):
    helper = played["helper"]
    entry = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.key.like("accept:%:answerer"))
    ).one()
    db.session.delete(entry)
    db.session.execute(
        update(Total).where(Total.user_id == helper.id).values(points=Total.points - 15)
    )
    db.session.commit()
    result = runner.invoke(args=["gamification", "check"])
    assert result.exit_code == 1
    assert "1 ledger rows are missing" in result.output
    assert "answer_accepted +15" in result.output

    result = runner.invoke(args=["gamification", "rebuild"])
    assert "1 ledger rows appended" in result.output
    assert points.points_of([helper.id])[helper.id] == 45
    assert runner.invoke(args=["gamification", "check"]).exit_code == 0


def test_rebuild_in_small_batches(runner, played):
    result = runner.invoke(args=["gamification", "rebuild", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "0 ledger rows appended for 8 members" in result.output


def test_rebuild_from_an_empty_ledger(runner, played):
    totals = dict(db.session.execute(select(Total.user_id, Total.points)).all())
    db.session.execute(LedgerEntry.__table__.delete())
    db.session.execute(Total.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["gamification", "rebuild"])
    assert result.exit_code == 0, result.output
    after = dict(db.session.execute(select(Total.user_id, Total.points)).all())
    assert {u: p for u, p in after.items() if p} == {u: p for u, p in totals.items() if p}


def test_help(runner):
    result = runner.invoke(args=["gamification", "rebuild", "--help"])
    assert result.exit_code == 0
    assert "Recompute every member's points" in result.output
    assert runner.invoke(args=["gamification", "check", "--help"]).exit_code == 0
