"""Response metrics of a space: how fast its questions get answered, and by whom.

This module is the experts plugin's public API for other plugins (import it only while the
plugin is installed; ``community.plugins.is_enabled("experts")`` says whether it is on):

``space_metrics(space, days=None) -> SpaceMetrics``
    Over the questions asked in the last ``days`` days (default: the plugin's ``metrics_days``
    setting) in ``space`` **and the spaces inside it**, live ones only (not deleted, not held
    for review, not merged into another):

    - ``questions``, ``answered`` (an answer by someone other than the asker),
      ``unanswered``, ``accepted``;
    - ``median_first_answer``: the median of ``first_answer_at - created_at`` over the answered
      questions (a ``timedelta``, or ``None`` when none was answered);
    - ``median_accepted``: the median of ``accepted_at - created_at`` over the questions with an
      accepted answer (or ``None``);
    - ``share_experts``, ``share_staff``, ``share_peers``: floats from 0 to 1, the share of the
      answered questions whose **first** answer (the oldest published answer not by the asker
      that is still there) came from staff (``User.is_staff``), else from an expert (earned or
      granted, now, in the question's space or a space it is inside), else from anyone else
      (a question whose first answer was since deleted counts as a peer's). They add up to 1
      when something was answered, and are all 0 otherwise;
    - ``days``: the window used.

    Three queries.

``expert_response_times(space, user_ids, days=None) -> {user_id: ExpertStats}``
    For each member: their answers in the space and the spaces inside it, published in the
    window, to live questions not their own (``answers``); how many of those are the accepted
    answer (``accepted``); and the median time from the question to their answer
    (``median_response``, a ``timedelta`` or ``None``). Every id asked for is in the result.
    One query.

``first_answer_medians(space_ids, days=None) -> {space_id: timedelta | None}``
    The median time to first answer of many spaces at once (each with the spaces inside it),
    as on the expert directory's index. One query.

``space_metrics_json(space, days=None) -> dict``
    ``space_metrics`` as plain JSON values (durations in whole seconds), as served at
    ``/experts/s/<slug>/metrics.json``.

Every function takes ``viewer=``: the spaces inside ``space`` that count are those the viewer
may see (``None``: only spaces everyone may see), so a public space's figures never include a
private space's questions. ``space`` itself always counts: a caller that shows the numbers to
a visitor checks first that the visitor may see it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from community.accounts.models import AnonymousUser, User
from community.dbtypes import utcnow
from community.extensions import db
from community.permissions import visible_space_ids
from community.topics.models import Post, Topic
from community_experts import expertise
from community_experts.settings import settings


@dataclass(frozen=True)
class SpaceMetrics:
    questions: int
    answered: int
    unanswered: int
    median_first_answer: timedelta | None
    median_accepted: timedelta | None
    share_experts: float
    share_staff: float
    share_peers: float
    days: int
    accepted: int = 0


@dataclass(frozen=True)
class ExpertStats:
    answers: int = 0
    accepted: int = 0
    median_response: timedelta | None = None


def window_days(days: int | None = None) -> int:
    if days is None:
        days = settings()["metrics_days"]
    return max(1, int(days))


def _cutoff(days: int, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=days)


def median(values: Iterable[timedelta]) -> timedelta | None:
    """The median of durations (the mean of the middle two for an even count); negative ones
    count as zero."""
    seconds = [max(0.0, value.total_seconds()) for value in values]
    if not seconds:
        return None
    return timedelta(seconds=round(statistics.median(seconds)))


def _live_questions() -> list[Any]:
    return [
        Topic.kind == "question",
        Topic.deleted_at.is_(None),
        Topic.held_at.is_(None),
        Topic.merged_into_id.is_(None),
    ]


def covered_spaces(space_id: int, viewer: Any = None) -> set[int]:
    """The space and the spaces inside it that ``viewer`` may see (``None``: spaces everyone
    may see), so that a public space's figures never count a private space's questions."""
    visible = set(visible_space_ids(viewer if viewer is not None else AnonymousUser()))
    return {space_id} | (expertise.spaces_covered(space_id) & visible)


def space_metrics(
    space, days: int | None = None, *, now: datetime | None = None, viewer: Any = None
) -> SpaceMetrics:
    """See the module's documentation."""
    days = window_days(days)
    covered = covered_spaces(space.id, viewer)
    # The first answer of each question: the oldest published answer not by the asker.
    ranked = (
        select(
            Post.topic_id.label("topic_id"),
            Post.author_id.label("author_id"),
            User.is_staff.label("is_staff"),
            func.row_number()
            .over(partition_by=Post.topic_id, order_by=(Post.created_at, Post.id))
            .label("rank"),
        )
        .join(Topic, Topic.id == Post.topic_id)
        .join(User, User.id == Post.author_id)
        .where(
            *_live_questions(),
            Topic.space_id.in_(covered),
            Topic.created_at >= _cutoff(days, now),
            Topic.first_answer_at.is_not(None),
            Post.is_opening.is_(False),
            Post.parent_id.is_(None),
            Post.deleted_at.is_(None),
            Post.held_at.is_(None),
            Post.author_id != Topic.author_id,
        )
        .subquery()
    )
    rows = db.session.execute(
        select(
            Topic.space_id,
            Topic.created_at,
            Topic.first_answer_at,
            Topic.accepted_at,
            Topic.accepted_answer_id,
            ranked.c.author_id,
            ranked.c.is_staff,
        )
        .outerjoin(ranked, and_(ranked.c.topic_id == Topic.id, ranked.c.rank == 1))
        .where(
            *_live_questions(),
            Topic.space_id.in_(covered),
            Topic.created_at >= _cutoff(days, now),
        )
    ).all()

    chains = {sid: expertise.covering(sid) for sid in {row.space_id for row in rows}}
    experts = expertise.experts_in({sid for chain in chains.values() for sid in chain})
    first_waits: list[timedelta] = []
    accepted_waits: list[timedelta] = []
    by_staff = by_experts = by_peers = 0
    accepted = 0
    for row in rows:
        if row.first_answer_at is not None:
            first_waits.append(row.first_answer_at - row.created_at)
            if row.author_id is not None and row.is_staff:
                by_staff += 1
            elif row.author_id is not None and any(
                row.author_id in experts.get(sid, ()) for sid in chains[row.space_id]
            ):
                by_experts += 1
            else:
                by_peers += 1
        if row.accepted_answer_id is not None and row.accepted_at is not None:
            accepted += 1
            accepted_waits.append(row.accepted_at - row.created_at)
    answered = len(first_waits)

    def share(count: int) -> float:
        return count / answered if answered else 0.0

    return SpaceMetrics(
        questions=len(rows),
        answered=answered,
        unanswered=len(rows) - answered,
        median_first_answer=median(first_waits),
        median_accepted=median(accepted_waits),
        share_experts=share(by_experts),
        share_staff=share(by_staff),
        share_peers=share(by_peers),
        days=days,
        accepted=accepted,
    )


def expert_response_times(
    space,
    user_ids: Iterable[int],
    days: int | None = None,
    *,
    now: datetime | None = None,
    viewer: Any = None,
) -> dict[int, ExpertStats]:
    """See the module's documentation."""
    ids = list(dict.fromkeys(u for u in user_ids if u))
    if not ids:
        return {}
    days = window_days(days)
    covered = covered_spaces(space.id, viewer)
    waits: dict[int, list[timedelta]] = defaultdict(list)
    accepted: dict[int, int] = defaultdict(int)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = db.session.execute(
            select(
                Post.author_id,
                Post.id,
                Post.created_at,
                Topic.created_at,
                Topic.accepted_answer_id,
            )
            .select_from(Post)
            .join(Topic, Topic.id == Post.topic_id)
            .where(
                *expertise._live_answer_conditions(),
                Topic.space_id.in_(covered),
                Post.author_id.in_(chunk),
                Post.created_at >= _cutoff(days, now),
            )
        )
        for author_id, post_id, answered_at, asked_at, accepted_id in rows:
            waits[author_id].append(answered_at - asked_at)
            if accepted_id == post_id:
                accepted[author_id] += 1
    return {
        user_id: ExpertStats(
            answers=len(waits.get(user_id, ())),
            accepted=accepted.get(user_id, 0),
            median_response=median(waits.get(user_id, ())),
        )
        for user_id in ids
    }


def first_answer_medians(
    space_ids: Iterable[int],
    days: int | None = None,
    *,
    now: datetime | None = None,
    viewer: Any = None,
) -> dict[int, timedelta | None]:
    """See the module's documentation."""
    wanted = list(dict.fromkeys(space_ids))
    if not wanted:
        return {}
    covered = {sid: covered_spaces(sid, viewer) for sid in wanted}
    every = set().union(*covered.values())
    waits: dict[int, list[timedelta]] = defaultdict(list)
    for space_id, asked_at, first_at in db.session.execute(
        select(Topic.space_id, Topic.created_at, Topic.first_answer_at).where(
            *_live_questions(),
            Topic.space_id.in_(every),
            Topic.created_at >= _cutoff(window_days(days), now),
            Topic.first_answer_at.is_not(None),
        )
    ):
        waits[space_id].append(first_at - asked_at)
    return {
        sid: median(wait for inner in covered[sid] for wait in waits.get(inner, ()))
        for sid in wanted
    }


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def space_metrics_json(space, days: int | None = None, viewer: Any = None) -> dict[str, Any]:
    """See the module's documentation."""
    found = space_metrics(space, days, viewer=viewer)
    values = asdict(found)
    return {
        "space": {"id": space.id, "slug": space.slug, "title": space.title},
        "days": found.days,
        "questions": found.questions,
        "answered": found.answered,
        "unanswered": found.unanswered,
        "accepted": found.accepted,
        "median_first_answer_seconds": _seconds(found.median_first_answer),
        "median_accepted_seconds": _seconds(found.median_accepted),
        "share": {
            "experts": round(values["share_experts"], 4),
            "staff": round(values["share_staff"], 4),
            "peers": round(values["share_peers"], 4),
        },
    }
