"""The demo with the plugin: product teams, releases listing the ideas they shipped, a history
of official responses over weeks (in Italian in the Italian space), duplicates whose votes
went to the original; and running the plugin's part again adds nothing."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from community_ideation import demo, releases, team
from community_ideation.models import (
    Change,
    Duplicate,
    Importance,
    ProductTeam,
    Release,
    ShippedIn,
    StaffNote,
)
from sqlalchemy import func, select

from community.accounts.models import AnonymousUser, User
from community.dbtypes import utcnow
from community.extensions import db
from community.notifications.models import Follow
from community.spaces.models import Space
from community.topics.models import Post, Topic, Vote


def _openings(lang: str) -> tuple[str, ...]:
    """The first words of each of the demo's responses in ``lang``."""

    texts = [text for (_s, _st, la), text in demo.RESPONSES.items() if la == lang]
    texts += [t for (_st, la), group in demo.GENERIC.items() if la == lang for t in group]
    texts.append(demo.DUPLICATE_RESPONSE[lang])
    return tuple(text.split("{")[0][:20] for text in texts)


ITALIAN_OPENINGS = _openings("it")


def count_rows() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (ProductTeam, Release, Change, Duplicate, ShippedIn, StaffNote, Importance)
    }


def voters_of(topic: Topic) -> set[int]:
    return set(
        db.session.scalars(
            select(Vote.user_id)
            .join(Post, Post.id == Vote.post_id)
            .where(Post.topic_id == topic.id, Post.is_opening.is_(True), Vote.value > 0)
        )
    )


def test_the_ideation_demo_looks_like_a_live_product_community(runner, client):
    result = runner.invoke(args=["demo", "--enable-plugin", "ideation"])
    assert result.exit_code == 0, result.output
    assert "Enabled plugin ideation" in result.output
    now = utcnow()
    spaces = {s.id: s for s in db.session.scalars(select(Space))}
    ideas = list(db.session.scalars(select(Topic).where(Topic.kind == "idea")))
    users = {u.id: u for u in db.session.scalars(select(User))}

    # Each space holding ideas has a product team of employees.
    for space_id in {t.space_id for t in ideas}:
        members = team.members(spaces[space_id])
        assert members, f"no product team in {spaces[space_id].slug}"
        assert all(users[m.user_id].is_staff for m in members)
    italia = next(s for s in spaces.values() if s.slug == "italia")
    assert "marta.product" in {users[m.user_id].username for m in team.members(italia)}

    # Releases made by the administrator, each listing the ideas it shipped (on its page too).
    made = list(db.session.scalars(select(Release).order_by(Release.released_on)))
    assert 2 <= len(made) <= 3
    assert "NetHome Go 4.2" in {r.name for r in made}
    for release in made:
        assert users[release.created_by_id].is_admin
        assert release.notes_html
        shipped = releases.shipped_ideas(release, users[release.created_by_id])
        assert shipped, f"{release.name} shipped nothing"
        for idea in shipped:
            assert idea.status == "shipped"
            change = db.session.scalar(
                select(Change).where(Change.topic_id == idea.id, Change.to_status == "shipped")
            )
            assert change.release_id == release.id
            assert release.name in change.response_source
            assert change.created_at.date() == release.released_on
        public = releases.shipped_ideas(release, AnonymousUser())
        page = client.get(f"/releases/{release.slug}").get_data(as_text=True)
        assert all(escape(idea.title) in page for idea in public)

    # Timeline rows with official responses, spread over weeks, each after its idea was
    # posted, in the order the workflow allows.
    changes = list(db.session.scalars(select(Change).order_by(Change.id)))
    assert changes and all(c.response_source and c.response_html for c in changes)
    moments = [c.created_at for c in changes]
    assert max(moments) - min(moments) > timedelta(weeks=4)
    assert max(moments) <= now
    by_id = {t.id: t for t in ideas}
    history: dict[int, list[Change]] = {}
    for change in changes:
        assert change.created_at >= by_id[change.topic_id].created_at
        history.setdefault(change.topic_id, []).append(change)
    for topic_id, steps in history.items():
        assert [s.created_at for s in steps] == sorted(s.created_at for s in steps)
        assert steps[0].from_status == "new"
        assert [s.to_status for s in steps[:-1]] == [s.from_status for s in steps[1:]]
        assert by_id[topic_id].status == steps[-1].to_status
    statuses = {t.status for t in ideas}
    assert {"under_review", "planned", "in_progress", "shipped", "declined"} <= statuses
    assert "duplicate" in statuses
    # A realistic share: most ideas still wait for a decision, none moved without a history.
    assert sum(t.status == "new" for t in ideas) > len(ideas) / 2
    assert all(t.id in history for t in ideas if t.status != "new")
    # In the space's language: the Italian space gets Italian responses from Italian staff.
    italian = [c for c in changes if by_id[c.topic_id].space_id == italia.id]
    assert italian
    for change in italian:
        assert change.response_source.startswith(ITALIAN_OPENINGS), change.response_source
        assert users[change.actor_id].locale == "it"
    declined = [c for c in changes if c.to_status == "declined"]
    assert declined and all(len(c.response_source) > 200 for c in declined)  # with reasons

    # Duplicates: the copy stays readable, its votes and followers went to the original.
    duplicates = list(db.session.scalars(select(Duplicate)))
    assert 1 <= len(duplicates) <= 2
    for row in duplicates:
        source, target = by_id[row.source_id], by_id[row.target_id]
        assert source.status == "duplicate" and source.deleted_at is None
        assert source.merged_into_id is None
        assert voters_of(source) == set()
        assert source.score == 0
        target_voters = voters_of(target)
        assert target.score == len(target_voters)
        # Core's demo made voters, repliers and the author follow an idea: a follower of the
        # copy who neither wrote it nor replied to it had voted for it, and now counts for
        # the original (or had voted for it already, or wrote it).
        followers = set(
            db.session.scalars(
                select(Follow.user_id).where(
                    Follow.target_type == "topic", Follow.target_id == source.id
                )
            )
        )
        posters = set(db.session.scalars(select(Post.author_id).where(Post.topic_id == source.id)))
        former_voters = followers - posters
        assert former_voters
        assert former_voters <= target_voters | {target.author_id}
        assert followers <= set(
            db.session.scalars(
                select(Follow.user_id).where(
                    Follow.target_type == "topic", Follow.target_id == target.id
                )
            )
        )
        assert f"/t/{target.id}/" in source_response(source)

    # Staff notes on planned work; importance said by voters only.
    notes = list(db.session.scalars(select(StaffNote)))
    assert notes
    for note in notes:
        assert by_id[note.topic_id].status in ("under_review", "planned", "in_progress")
        assert users[note.author_id].is_staff
    said = list(db.session.scalars(select(Importance)))
    assert {row.level for row in said} == {"nice", "important", "critical"}
    copies = {row.source_id for row in duplicates}
    for row in said:
        if row.topic_id not in copies:
            assert row.user_id in voters_of(by_id[row.topic_id])

    # Running the plugin's part again changes nothing more.
    before = count_rows()
    assert set(demo.generate(1).values()) == {0}
    assert count_rows() == before


def source_response(topic: Topic) -> str:
    return db.session.scalar(
        select(Change.response_source).where(
            Change.topic_id == topic.id, Change.to_status == "duplicate"
        )
    )
