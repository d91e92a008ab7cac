"""The points engine: each rule, its reversal, and the ledger kept equal to a rebuild."""

from __future__ import annotations

from datetime import timedelta

import pytest
from community_gamification import points
from community_gamification.models import LedgerEntry
from sqlalchemy import func, select, update

from community.accounts.services import reinstate_user, suspend_user
from community.errors import Refused
from community.extensions import db
from community.plugins.settings import save_plugin_settings
from community.topics import services as topics
from community.topics.models import Post, Vote

# Small, distinct amounts: a total tells which rules counted.
RULES = {
    "points_answer_accepted": 15,
    "points_asker_accepted": 2,
    "points_answer_upvoted": 10,
    "points_answer_downvoted": -2,
    "points_downvote_cast": -1,
    "points_question_upvoted": 5,
    "points_idea_voted": 3,
    "points_idea_shipped": 50,
    "points_first_answer_in_space": 7,
    "daily_vote_cap": 0,
    "min_voter_age_days": 0,
    "downvote_level": 1,
}


@pytest.fixture
def configure(enable_plugin):
    enable_plugin("gamification")

    def apply(**changes):
        values = {**RULES, **changes}
        assert save_plugin_settings("gamification", values) == {}

    apply()
    return apply


@pytest.fixture
def world(configure, create_user, create_space, create_topic, create_post):
    """asker's question in "help", an answer by helper; voters v1..v3."""

    class World:
        pass

    w = World()
    w.space = create_space("help")
    w.asker, w.helper, w.mod = create_user("asker"), create_user("helper"), create_user("mod")
    w.admin = create_user("root", role="admin")
    w.voters = [create_user(f"voter{n}") for n in range(1, 4)]
    w.topic = create_topic(w.asker, w.space, title="How do I reset my router?")
    w.question = db.session.scalars(
        select(Post).where(Post.topic_id == w.topic.id, Post.is_opening.is_(True))
    ).one()
    w.answer = create_post(w.helper, w.topic, "Hold the reset button for ten seconds.")
    return w


def total(user) -> int:
    return points.points_of([user.id])[user.id]


def rows(user, key_prefix: str = "") -> list[tuple[str, str, int]]:
    return [
        (r.key, r.reason, r.amount)
        for r in db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.user_id == user.id, LedgerEntry.key.like(f"{key_prefix}%"))
            .order_by(LedgerEntry.id)
        )
    ]


def consistent() -> None:
    """Live totals equal their ledgers and the ledger equals a rebuild's."""
    report, missing = points.check()
    assert missing == []
    assert report.totals == {}
    assert points.rebuild().appended == 0


# --- API ---------------------------------------------------------------------------------------


def test_points_of_missing_members_have_0(world, count_queries):
    with count_queries() as queries:
        assert points.points_of([world.helper.id, 999_999]) == {world.helper.id: 7, 999_999: 0}
    assert len(queries) == 1
    assert points.points_of([]) == {}


def test_add_manual(world):
    entry = points.add_manual(world.helper, 30, "Great workshop", world.admin)
    assert entry.key.startswith("manual:") and entry.reason == "manual"
    assert total(world.helper) == 7 + 30
    points.add_manual(world.helper, -5, "", world.admin)
    assert total(world.helper) == 32
    consistent()  # reconciliation leaves manual keys alone
    with pytest.raises(Refused):
        points.add_manual(world.helper, 0, "nothing", world.admin)
    with pytest.raises(Refused):
        points.add_manual(world.helper, 2_000_000, "too much", world.admin)


# --- votes -------------------------------------------------------------------------------------


def test_upvote_change_direction_and_retract(world):
    v1 = world.voters[0]
    topics.cast_vote(v1, world.answer, 1)
    vote_id = db.session.scalar(select(Vote.id))
    assert rows(world.helper, "vote:") == [(f"vote:{vote_id}:author", "answer_upvoted", 10)]
    assert total(world.helper) == 7 + 10
    assert total(v1) == 0

    topics.cast_vote(v1, world.answer, -1)  # changes direction
    assert rows(world.helper, "vote:") == [
        (f"vote:{vote_id}:author", "answer_upvoted", 10),
        (f"vote:{vote_id}:author", "answer_upvoted", -10),
        (f"vote:{vote_id}:author", "answer_downvoted", -2),
    ]
    assert rows(v1) == [(f"vote:{vote_id}:voter", "downvote_cast", -1)]
    assert (total(world.helper), total(v1)) == (7 - 2, -1)
    consistent()

    topics.cast_vote(v1, world.answer, -1)  # the same again takes it back
    assert (total(world.helper), total(v1)) == (7, 0)
    assert rows(v1) == [
        (f"vote:{vote_id}:voter", "downvote_cast", -1),
        (f"vote:{vote_id}:voter", "downvote_cast", 1),
    ]
    consistent()


def test_votes_on_questions_and_ideas(world, create_topic, create_space):
    topics.cast_vote(world.voters[0], world.question, 1)
    assert total(world.asker) == 5
    ideas = create_space("ideas", default_kind="idea")
    idea = create_topic(world.helper, ideas, kind="idea", title="Dark mode for everything")
    opening = db.session.scalars(
        select(Post).where(Post.topic_id == idea.id, Post.is_opening.is_(True))
    ).one()
    topics.cast_vote(world.voters[0], opening, 1)
    assert total(world.helper) == 7 + 3
    topics.cast_vote(world.voters[1], world.question, -1)
    assert (total(world.asker), total(world.voters[1])) == (5 - 2, -1)
    consistent()


def test_rule_set_to_0_gives_nothing(world, configure):
    configure(points_answer_upvoted=0)
    topics.cast_vote(world.voters[0], world.answer, 1)
    assert rows(world.helper, "vote:") == []
    configure(points_answer_upvoted=4)
    assert points.rebuild().appended == 1  # a changed rule is applied by a rebuild
    assert total(world.helper) == 7 + 4
    consistent()


def test_suspended_voter_and_reinstatement(world):
    v1, v2 = world.voters[:2]
    topics.cast_vote(v1, world.answer, 1)
    topics.cast_vote(v2, world.question, -1)
    assert (total(world.helper), total(world.asker), total(v2)) == (17, -2, -1)

    suspend_user(v1, world.admin, "spam")
    suspend_user(v2, world.admin, "spam")
    assert (total(world.helper), total(world.asker), total(v2)) == (7, 0, 0)
    assert rows(world.helper, "vote:")[-1][2] == -10
    consistent()

    reinstate_user(v1, world.admin)
    reinstate_user(v2, world.admin)
    assert (total(world.helper), total(world.asker), total(v2)) == (17, -2, -1)
    consistent()


def test_young_voters_give_nothing(world, configure):
    configure(min_voter_age_days=3)
    v1, v2 = world.voters[:2]
    old = v2.created_at - timedelta(days=10)
    db.session.execute(update(type(v2)).where(type(v2).id == v2.id).values(created_at=old))
    db.session.commit()
    topics.cast_vote(v1, world.answer, 1)  # account made just now
    topics.cast_vote(v2, world.answer, 1)
    assert total(world.helper) == 7 + 10
    assert len(rows(world.helper, "vote:")) == 1
    consistent()


def test_daily_cap(world, configure, create_user, create_post):
    configure(daily_vote_cap=25)
    second = create_post(world.helper, world.topic, "Or unplug it for a minute.")
    voters = world.voters + [create_user("voter4")]
    for voter in voters[:3]:
        topics.cast_vote(voter, world.answer, 1)
    # 10 + 10 + 5 (the cap's remainder)
    assert [r[2] for r in rows(world.helper, "vote:")] == [10, 10, 5]
    topics.cast_vote(voters[3], second, 1)  # over the cap: nothing
    assert total(world.helper) == 7 + 25
    topics.cast_vote(voters[0], world.answer, -1)  # an upvote becomes a downvote
    # The first upvote's 10 goes; the later votes fill the cap again; the downvote costs 2.
    assert total(world.helper) == 7 + 10 + 10 + 5 - 2
    consistent()

    # The next UTC day starts again.
    vote = db.session.scalars(select(Vote).where(Vote.post_id == second.id)).one()
    vote.created_at += timedelta(days=1)
    db.session.commit()
    assert points.rebuild().appended == 1  # the vote on `second` now counts in full
    assert total(world.helper) == 7 + 10 + 10 - 2 + 10
    consistent()


# --- accepted answers --------------------------------------------------------------------------


def test_accept_change_and_unaccept(world, create_post):
    topics.accept_answer(world.asker, world.answer)
    assert rows(world.helper, "accept:") == [
        (f"accept:{world.topic.id}:answerer", "answer_accepted", 15)
    ]
    assert rows(world.asker, "accept:") == [(f"accept:{world.topic.id}:asker", "asker_accepted", 2)]
    assert (total(world.helper), total(world.asker)) == (7 + 15, 2)

    other = create_post(world.voters[0], world.topic, "Call your provider.")
    topics.accept_answer(world.asker, other)
    assert (total(world.helper), total(world.voters[0]), total(world.asker)) == (7, 7 + 15, 2)
    consistent()

    topics.unaccept_answer(world.asker, world.topic)
    assert (total(world.voters[0]), total(world.asker)) == (7, 0)
    consistent()


def test_accepting_ones_own_answer_gives_nothing(world, create_post):
    own = create_post(world.asker, world.topic, "Found it myself: the button at the back.")
    topics.accept_answer(world.asker, own)
    assert rows(world.asker, "accept:") == []
    assert total(world.asker) == 0  # and no first answer in one's own topic
    consistent()


def test_delete_and_restore_answer(world):
    topics.cast_vote(world.voters[0], world.answer, 1)
    topics.accept_answer(world.asker, world.answer)
    assert (total(world.helper), total(world.asker)) == (7 + 10 + 15, 2)
    topics.delete_post(world.helper, world.answer)
    assert (total(world.helper), total(world.asker)) == (0, 0)
    consistent()
    topics.restore_post(world.admin, world.answer)
    # Core does not accept the answer again; the votes and the first answer come back.
    assert (total(world.helper), total(world.asker)) == (7 + 10, 0)
    consistent()


def test_delete_and_restore_question(world):
    topics.cast_vote(world.voters[0], world.answer, 1)
    topics.cast_vote(world.voters[1], world.question, 1)
    topics.accept_answer(world.asker, world.answer)
    before = (total(world.helper), total(world.asker))
    assert before == (7 + 10 + 15, 5 + 2)
    topics.delete_post(world.asker, world.question)
    assert (total(world.helper), total(world.asker)) == (0, 0)
    consistent()
    topics.restore_post(world.admin, world.question)
    assert (total(world.helper), total(world.asker)) == before
    consistent()


def test_hide_and_unhide(world):
    topics.cast_vote(world.voters[0], world.answer, 1)
    topics.hide_post(world.admin, world.answer, "Off topic")
    assert total(world.helper) == 0
    consistent()
    topics.release_post(world.admin, world.answer)
    assert total(world.helper) == 17
    topics.hide_post(world.admin, world.question, "Spam")  # hides the topic
    assert total(world.helper) == 0
    topics.release_post(world.admin, world.question)
    assert total(world.helper) == 17
    consistent()


# --- ideas -------------------------------------------------------------------------------------


def test_idea_shipped_and_unshipped(world, configure, create_space, create_topic):
    ideas = create_space("ideas", default_kind="idea")
    idea = create_topic(world.helper, ideas, kind="idea", title="Export to CSV")
    topics.set_idea_status(world.admin, idea, "planned")
    assert total(world.helper) == 7
    topics.set_idea_status(world.admin, idea, "shipped")
    assert rows(world.helper, "shipped:") == [(f"shipped:{idea.id}", "idea_shipped", 50)]
    assert total(world.helper) == 57
    topics.set_idea_status(world.admin, idea, "planned")
    assert total(world.helper) == 7
    configure(shipped_status="done")
    topics.set_idea_status(world.admin, idea, "done")
    assert total(world.helper) == 57
    consistent()


# --- first answer in a space -------------------------------------------------------------------


def test_first_answer_in_space(world, create_space, create_topic, create_post):
    key = f"first_answer:{world.space.id}:{world.helper.id}"
    assert rows(world.helper) == [(key, "first_answer_in_space", 7)]
    second = create_topic(world.voters[0], world.space, title="Why is my wifi slow?")
    later = create_post(world.helper, second, "Change the channel.")
    assert total(world.helper) == 7  # once per space
    other_space = create_space("other")
    elsewhere = create_topic(world.voters[0], other_space, title="Which cable do I need?")
    create_post(world.helper, elsewhere, "A cat 6 one.")
    assert total(world.helper) == 14

    topics.delete_post(world.helper, world.answer)  # the later answer becomes the first
    assert total(world.helper) == 14
    assert (
        db.session.scalar(
            select(LedgerEntry.object_id)
            .where(LedgerEntry.key == key)
            .order_by(LedgerEntry.id.desc())
        )
        == later.id
    )
    topics.delete_post(world.helper, later)
    assert total(world.helper) == 7
    consistent()


def test_moving_a_topic_moves_its_points(world, create_space):
    topics.cast_vote(world.voters[0], world.answer, 1)
    target = create_space("elsewhere")
    topics.move_topic(world.admin, world.topic, target)
    by_space = dict(
        db.session.execute(
            select(LedgerEntry.space_id, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.user_id == world.helper.id)
            .group_by(LedgerEntry.space_id)
        ).all()
    )
    assert by_space == {world.space.id: 0, target.id: 17}
    assert total(world.helper) == 17
    consistent()


def test_merge_and_split(world, create_topic, create_post):
    dup = create_topic(world.voters[0], world.space, title="Router reset, how?")
    dup_opening = db.session.scalars(
        select(Post).where(Post.topic_id == dup.id, Post.is_opening.is_(True))
    ).one()
    topics.cast_vote(world.voters[1], dup_opening, 1)
    reply = create_post(world.voters[2], dup, "Use a paperclip.")
    assert total(world.voters[0]) == 5
    topics.merge_topic(world.admin, dup, world.topic)
    # The votes on the duplicate's question now count for the target's; its opening post
    # is a reply now, its author's first in the space.
    assert (total(world.voters[0]), total(world.asker)) == (7, 5)
    consistent()
    new = topics.split_topic(world.admin, world.topic, [reply.id], "Paperclip method")
    assert new.author_id == world.voters[2].id
    assert total(world.voters[2]) == 0  # its reply opens a topic now
    consistent()


def test_events_do_not_touch_others(world, count_queries):
    """A vote reconciles two members with a handful of queries."""
    with count_queries() as queries:
        points.handle("vote_retracted", user=world.voters[0], post=world.answer, value=1)
    assert len(queries) <= 8
    assert points.reconcile({}) == 0


def test_moving_a_duplicate_ideas_votes_moves_their_points(
    enable_plugin, create_user, create_space, create_topic
):
    from community.topics import services
    from community.topics.queries import opening_post

    enable_plugin("gamification")
    staff = create_user("boss", staff=True)
    ann, bob = create_user("ann"), create_user("bob")
    voters = [create_user(f"voter{n}") for n in range(3)]
    space = create_space("ideas")
    original = create_topic(ann, space, kind="idea", title="Export my data as CSV")
    duplicate = create_topic(bob, space, kind="idea", title="A CSV export of my data")
    for voter in voters:
        services.cast_vote(voter, opening_post(duplicate), 1)
    services.cast_vote(voters[0], opening_post(original), 1)
    before = points.points_of([ann.id, bob.id])
    services.transfer_idea_votes(staff, duplicate, original)
    after = points.points_of([ann.id, bob.id])
    # Two of the three votes moved (voter0 had voted both): +2 each to ann, -2 each from bob.
    assert after[ann.id] - before.get(ann.id, 0) == 2 * 2
    assert after.get(bob.id, 0) == 0
    report, missing = points.check()
    assert not report.totals and not missing
