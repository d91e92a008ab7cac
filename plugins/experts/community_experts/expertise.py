"""Earned and granted expertise.

A member is an **expert** in a space when, over the window (``window_days``), their answers
there were accepted at least ``min_accepted`` times and their score (accepted answers times
``accepted_weight``, plus the votes on their answers, up minus down) reaches ``min_score``;
the same holds for a tag, counting answers in spaces everyone may see. An admin or a space's
moderator may also **grant** the badge in a space; a grant stays until it is revoked.

What a member earned is a function of core's data: after each event that may change it (an
answer accepted or unaccepted, a vote, a post deleted, hidden or restored, a topic moved,
merged or split) the plugin works out again the standings of the members and scopes
concerned; an hourly task does it for standings whose oldest counted item leaves the window;
``community experts rebuild`` does it for everyone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from community.accounts.models import AnonymousUser, User
from community.dbtypes import utcnow
from community.extensions import db
from community.permissions import (
    all_spaces,
    ancestor_chain,
    ancestor_ids,
    can,
    visible_space_ids,
)
from community.plugins import is_enabled
from community.tasks import enqueue, task
from community.topics.models import Post, Topic, TopicTag, Vote
from community_experts.models import SPACE, TAG, Grant, Standing
from community_experts.settings import settings

Pair = tuple[int, str, int]  # (user_id, scope, scope_id)

EARNED_KIND = "experts_earned"


# --- what counts -----------------------------------------------------------------------------


def window_start(now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=settings()["window_days"])


def public_space_ids() -> list[int]:
    """Spaces every visitor may see: only answers there count towards a tag's expertise, so
    that a tag's experts never tell of activity in a space someone may not see."""
    return visible_space_ids(AnonymousUser())


def _live_answer_conditions() -> list[Any]:
    """A question's answer that counts: published, not deleted, on a live question, not the
    asker's own."""
    return [
        Topic.kind == "question",
        Topic.deleted_at.is_(None),
        Topic.held_at.is_(None),
        Topic.merged_into_id.is_(None),
        Post.is_opening.is_(False),
        Post.parent_id.is_(None),
        Post.deleted_at.is_(None),
        Post.held_at.is_(None),
        Post.hidden_at.is_(None),
        Post.author_id != Topic.author_id,
    ]


def _scope_column(scope: str) -> Any:
    return Topic.space_id if scope == SPACE else TopicTag.tag_id


def _scoped(stmt: Any, scope: str, scope_ids: Iterable[int] | None) -> Any:
    column = _scope_column(scope)
    if scope == TAG:
        stmt = stmt.join(TopicTag, TopicTag.topic_id == Topic.id).where(
            Topic.space_id.in_(public_space_ids())
        )
    if scope_ids is not None:
        stmt = stmt.where(column.in_(list(scope_ids)))
    return stmt


def counts(
    scope: str,
    *,
    user_ids: Iterable[int] | None = None,
    scope_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> dict[tuple[int, int], tuple[int, int, datetime | None]]:
    """``{(user_id, scope_id): (accepted, votes, oldest)}`` over the window, from core's data:
    ``oldest`` is when the oldest acceptance or vote counted happened. Two queries."""
    cutoff = window_start(now)
    column = _scope_column(scope)
    users = list(user_ids) if user_ids is not None else None
    found: dict[tuple[int, int], list[Any]] = {}

    accepted = _scoped(
        select(Post.author_id, column, func.count(), func.min(Topic.accepted_at))
        .select_from(Topic)
        .join(Post, Post.id == Topic.accepted_answer_id)
        .where(*_live_answer_conditions(), Topic.accepted_at >= cutoff),
        scope,
        scope_ids,
    )
    if users is not None:
        accepted = accepted.where(Post.author_id.in_(users))
    for user_id, scope_id, number, oldest in db.session.execute(
        accepted.group_by(Post.author_id, column)
    ):
        found[(user_id, scope_id)] = [int(number), 0, oldest]

    votes = _scoped(
        select(Post.author_id, column, func.sum(Vote.value), func.min(Vote.created_at))
        .select_from(Vote)
        .join(Post, Post.id == Vote.post_id)
        .join(Topic, Topic.id == Post.topic_id)
        .where(*_live_answer_conditions(), Vote.created_at >= cutoff),
        scope,
        scope_ids,
    )
    if users is not None:
        votes = votes.where(Post.author_id.in_(users))
    for user_id, scope_id, total, oldest in db.session.execute(
        votes.group_by(Post.author_id, column)
    ):
        row = found.setdefault((user_id, scope_id), [0, 0, None])
        row[1] = int(total or 0)
        if oldest is not None and (row[2] is None or oldest < row[2]):
            row[2] = oldest
    return {key: (row[0], row[1], row[2]) for key, row in found.items()}


def score_of(accepted: int, votes: int, values: dict[str, Any] | None = None) -> int:
    values = values if values is not None else settings()
    return accepted * values["accepted_weight"] + votes


def qualifies(accepted: int, votes: int, values: dict[str, Any] | None = None) -> bool:
    values = values if values is not None else settings()
    return (
        accepted >= values["min_accepted"]
        and score_of(accepted, votes, values) >= values["min_score"]
    )


# --- keeping standings up to date ------------------------------------------------------------


_UPDATED = ("accepted", "votes", "score", "is_expert", "expert_since", "changes_at", "updated_at")


def _upsert(values: list[dict[str, Any]]) -> None:
    """Insert or update standings: one statement, executed for many rows at once (compiled
    once, whatever the number of rows)."""
    if not values:
        return
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(Standing)
    stmt = stmt.on_conflict_do_update(
        index_elements=["user_id", "scope", "scope_id"],
        set_={name: getattr(stmt.excluded, name) for name in _UPDATED},
    )
    db.session.execute(stmt, values)


def recompute(
    pairs: Iterable[Pair], *, now: datetime | None = None, announce: bool = True
) -> list[Pair]:
    """Work out again the standings of these (member, scope) pairs from core's data and save
    them. Members who just became experts are told (``announce``). Returns the pairs whose
    expert status changed. Does not commit."""
    now = now or utcnow()
    by_scope: dict[str, set[Pair]] = defaultdict(set)
    for pair in pairs:
        by_scope[pair[1]].add(pair)
    values = settings()
    window = timedelta(days=values["window_days"])
    changed: list[Pair] = []
    became: list[Pair] = []
    for scope, wanted in by_scope.items():
        user_ids = {user_id for user_id, _, _ in wanted}
        scope_ids = {scope_id for _, _, scope_id in wanted}
        fresh = counts(scope, user_ids=user_ids, scope_ids=scope_ids, now=now)
        existing = {
            (row.user_id, row.scope_id): row
            for row in db.session.scalars(
                select(Standing).where(
                    Standing.scope == scope,
                    Standing.user_id.in_(user_ids),
                    Standing.scope_id.in_(scope_ids),
                )
            )
        }
        rows = []
        for user_id, _, scope_id in sorted(wanted):
            accepted, votes, oldest = fresh.get((user_id, scope_id), (0, 0, None))
            old = existing.get((user_id, scope_id))
            if old is None and not accepted and not votes:
                continue
            expert = qualifies(accepted, votes, values)
            was = bool(old is not None and old.is_expert)
            since = (old.expert_since if was and old is not None else now) if expert else None
            rows.append(
                {
                    "user_id": user_id,
                    "scope": scope,
                    "scope_id": scope_id,
                    "accepted": accepted,
                    "votes": votes,
                    "score": score_of(accepted, votes, values),
                    "is_expert": expert,
                    "expert_since": since,
                    "changes_at": oldest + window if oldest is not None else None,
                    "updated_at": now,
                }
            )
            if expert != was:
                changed.append((user_id, scope, scope_id))
                if expert:
                    became.append((user_id, scope, scope_id))
        for start in range(0, len(rows), 500):
            _upsert(rows[start : start + 500])
    # The upsert went around the session: standings it holds are stale now.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Standing):
            db.session.expire(obj)
    if announce and became:
        db.session.flush()
        _announce(became)
    return changed


def _announce(became: list[Pair]) -> None:
    """Tell members they became experts (after the caller's commit: notify commits)."""
    from community.notifications.service import notify

    users = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_({user_id for user_id, _, _ in became}))
        )
    }
    for user_id, scope, scope_id in became:
        user = users.get(user_id)
        if user is None or not user.active:
            continue
        if scope == SPACE:
            space = all_spaces().get(scope_id)
            if space is None or not can("space.view", space, user=user):
                continue
        name = scope_name(scope, scope_id)
        if name is None:
            continue
        notify(
            [user],
            EARNED_KIND,
            key=f"earned:{scope}:{scope_id}",
            data={"scope": scope, "name": name},
            url=scope_url(scope, scope_id),
        )


def scope_name(scope: str, scope_id: int) -> str | None:
    if scope == SPACE:
        space = all_spaces().get(scope_id)
        return space.title if space is not None else None
    from community.topics.models import Tag

    tag = db.session.get(Tag, scope_id)
    return tag.name if tag is not None else None


def scope_url(scope: str, scope_id: int) -> str:
    """Path of the scope's expert directory (without a request: built by hand)."""
    if scope == SPACE:
        space = all_spaces().get(scope_id)
        return f"/experts/s/{space.slug}" if space is not None else "/experts/"
    name = scope_name(scope, scope_id)
    return f"/experts/tag/{name}" if name else "/experts/"


def pairs_for_posts(posts: Iterable[Post]) -> set[Pair]:
    """The (author, space) and (author, tag) pairs answers may count in."""
    pairs: set[Pair] = set()
    topics: dict[int, list[int]] = defaultdict(list)
    for post in posts:
        if post is None or post.is_opening or post.parent_id is not None:
            continue
        topics[post.topic_id].append(post.author_id)
    if not topics:
        return pairs
    rows = db.session.execute(select(Topic.id, Topic.space_id).where(Topic.id.in_(topics)))
    space_of = dict(rows.all())
    tags: dict[int, list[int]] = defaultdict(list)
    for topic_id, tag_id in db.session.execute(
        select(TopicTag.topic_id, TopicTag.tag_id).where(TopicTag.topic_id.in_(topics))
    ):
        tags[topic_id].append(tag_id)
    for topic_id, authors in topics.items():
        for author in authors:
            if topic_id in space_of:
                pairs.add((author, SPACE, space_of[topic_id]))
            pairs.update((author, TAG, tag_id) for tag_id in tags[topic_id])
    return pairs


def pairs_for_topics(topic_ids: Iterable[int]) -> set[Pair]:
    """Every pair that the authors of these topics' posts have or may now have: what a
    topic-wide change (a move, merge, split, or a change of tags) may have changed. Working
    out all of those authors' standings again, not only those of the topics' present space
    and tags, also reaches the space and tags the posts were counted in before."""
    ids = [i for i in topic_ids if i is not None]
    if not ids:
        return set()
    authors = set(
        db.session.scalars(
            select(Post.author_id).where(Post.topic_id.in_(ids), Post.parent_id.is_(None))
        )
    )
    return pairs_for_authors(authors)


def pairs_for_authors(author_ids: Iterable[int]) -> set[Pair]:
    """The pairs these members have a standing in, and those their answers count in now."""
    ids = list(set(author_ids))
    pairs: set[Pair] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        pairs.update(
            (row[0], row[1], row[2])
            for row in db.session.execute(
                select(Standing.user_id, Standing.scope, Standing.scope_id).where(
                    Standing.user_id.in_(chunk)
                )
            )
        )
        for scope in (SPACE, TAG):
            pairs.update(
                (user_id, scope, scope_id) for user_id, scope_id in counts(scope, user_ids=chunk)
            )
    return pairs


def handle(event: str, **kw: Any) -> None:
    """Work out again what an event may have changed, and commit."""
    pairs: set[Pair] = set()
    if event in ("answer_accepted", "answer_unaccepted"):
        pairs = pairs_for_posts([kw["answer"], kw.get("previous_answer")])
    elif event in ("vote_cast", "vote_retracted"):
        pairs = pairs_for_posts([kw["post"]])
    elif event in ("post_deleted", "post_restored", "post_hidden", "post_unhidden"):
        post = kw["post"]
        pairs = pairs_for_topics([post.topic_id]) if post.is_opening else pairs_for_posts([post])
    elif event in ("topic_moved", "topic_retagged"):
        pairs = pairs_for_topics([kw["topic"].id])
    elif event in ("topic_merged", "topic_split"):
        pairs = pairs_for_topics([kw["source"].id, kw["target"].id])
    if pairs:
        recompute(pairs)
        db.session.commit()


def refresh_due(now: datetime | None = None, batch: int = 500) -> int:
    """Work out again the standings whose oldest counted item has left the window (hourly).
    Returns how many were looked at."""
    now = now or utcnow()
    done = 0
    while True:
        rows = db.session.execute(
            select(Standing.user_id, Standing.scope, Standing.scope_id)
            .where(Standing.changes_at.is_not(None), Standing.changes_at <= now)
            .order_by(Standing.id)
            .limit(batch)
        ).all()
        if not rows:
            return done
        recompute([tuple(row) for row in rows], now=now)
        db.session.commit()
        done += len(rows)
        if len(rows) < batch:
            return done


def rebuild(
    progress: Callable[[int], Any] | None = None, batch: int = 200, announce: bool = False
) -> dict[str, int]:
    """Work out every standing again from core's data (``community experts rebuild``).
    ``progress(n)`` is called with the number of members done after each batch. Returns
    ``{"members": …, "experts": …, "changed": …}``."""
    user_ids = list(db.session.scalars(select(User.id).order_by(User.id)))
    changed = 0
    for start in range(0, len(user_ids), batch):
        chunk = user_ids[start : start + batch]
        pairs: set[Pair] = set()
        for scope in (SPACE, TAG):
            pairs.update((u, scope, s) for (u, s) in counts(scope, user_ids=chunk))
        pairs.update(
            (row[0], row[1], row[2])
            for row in db.session.execute(
                select(Standing.user_id, Standing.scope, Standing.scope_id).where(
                    Standing.user_id.in_(chunk)
                )
            )
        )
        changed += len(recompute(pairs, announce=announce))
        db.session.commit()
        if progress is not None:
            progress(len(chunk))
    experts = db.session.scalar(
        select(func.count()).select_from(Standing).where(Standing.is_expert.is_(True))
    )
    return {"members": len(user_ids), "experts": int(experts or 0), "changed": changed}


# The settings that decide who is an expert: changing one works every standing out again.
DECIDING_SETTINGS = frozenset({"window_days", "min_accepted", "accepted_weight", "min_score"})


@task()
def rebuild_in_background() -> None:
    """The worker's rebuild, after the plugin was enabled (events were missed while it was
    off) or the settings that decide who is an expert changed."""
    if is_enabled("experts"):
        rebuild()


def on_audited(action: str, target: Any, after: dict[str, Any] | None) -> None:
    if target != "experts":
        return
    if action == "plugin.enable" or (
        action == "plugin.settings" and DECIDING_SETTINGS & set(after or {})
    ):
        enqueue(rebuild_in_background)


# --- reading expertise -----------------------------------------------------------------------


@dataclass(frozen=True)
class Expertise:
    """One member's expertise in one space or tag."""

    user_id: int
    scope: str
    scope_id: int
    earned: bool
    granted: bool
    accepted: int = 0
    score: int = 0
    reason: str = ""  # the grant's reason


def expertise_of(user_ids: Iterable[int]) -> dict[int, list[Expertise]]:
    """Every space and tag each of these members is an expert in (earned or granted),
    whoever may see it; callers filter by what the viewer may see. Two queries."""
    ids = list(dict.fromkeys(u for u in user_ids if u))
    found: dict[tuple[int, str, int], dict[str, Any]] = {}
    if not ids:
        return {}
    for row in db.session.scalars(
        select(Standing).where(Standing.user_id.in_(ids), Standing.is_expert.is_(True))
    ):
        found[(row.user_id, row.scope, row.scope_id)] = {
            "earned": True,
            "granted": False,
            "accepted": row.accepted,
            "score": row.score,
            "reason": "",
        }
    for grant in db.session.scalars(select(Grant).where(Grant.user_id.in_(ids))):
        entry = found.setdefault(
            (grant.user_id, SPACE, grant.space_id),
            {"earned": False, "accepted": 0, "score": 0},
        )
        entry["granted"] = True
        entry["reason"] = grant.reason
    result: dict[int, list[Expertise]] = defaultdict(list)
    for (user_id, scope, scope_id), entry in sorted(found.items()):
        result[user_id].append(Expertise(user_id, scope, scope_id, **entry))
    return dict(result)


def experts_in(space_ids: Iterable[int]) -> dict[int, set[int]]:
    """``{space_id: {user_id, …}}``: the experts (earned or granted) of each space, active
    accounts only."""
    ids = list(space_ids)
    result: dict[int, set[int]] = {sid: set() for sid in ids}
    if not ids:
        return result
    earned = (
        select(Standing.scope_id, Standing.user_id)
        .join(User, User.id == Standing.user_id)
        .where(
            Standing.scope == SPACE,
            Standing.scope_id.in_(ids),
            Standing.is_expert.is_(True),
            User.active.is_(True),
        )
    )
    granted = (
        select(Grant.space_id, Grant.user_id)
        .join(User, User.id == Grant.user_id)
        .where(Grant.space_id.in_(ids), User.active.is_(True))
    )
    for space_id, user_id in db.session.execute(earned.union(granted)):
        result[space_id].add(user_id)
    return result


def tag_experts(tag_ids: Iterable[int]) -> dict[int, set[int]]:
    """``{tag_id: {user_id, …}}``: each tag's earned experts (active accounts)."""
    ids = list(tag_ids)
    result: dict[int, set[int]] = {tid: set() for tid in ids}
    if not ids:
        return result
    for tag_id, user_id in db.session.execute(
        select(Standing.scope_id, Standing.user_id)
        .join(User, User.id == Standing.user_id)
        .where(
            Standing.scope == TAG,
            Standing.scope_id.in_(ids),
            Standing.is_expert.is_(True),
            User.active.is_(True),
        )
    ):
        result[tag_id].add(user_id)
    return result


def is_expert(user_id: int, space_id: int) -> bool:
    """Whether the member is an expert (earned or granted) in the space itself."""
    return user_id in experts_in([space_id])[space_id]


def covering(space_id: int) -> list[int]:
    """The space and the spaces it is inside, nearest first: an expert of Routers is an
    expert of Mesh Wi-Fi inside it too."""
    return ancestor_chain(space_id, all_spaces())


def spaces_covered(space_id: int) -> set[int]:
    """The space and every space inside it."""
    spaces = all_spaces()
    return {sid for sid in spaces if space_id in ancestor_ids(sid, spaces)}
