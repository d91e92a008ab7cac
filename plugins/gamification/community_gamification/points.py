"""Points: a pure function of core's data, kept in an append-only ledger.

The points a member should have are computed from core's tables as they are now
(:func:`desired_entries`): one entry per cause (``key``) and member. The ledger is brought
towards them (:func:`reconcile`): for every difference a row is appended (a reversal is a
row with the opposite amount, same key), and the member's :class:`Total` changes by the
same amount in SQL. Every event reconciles the members and rules it could change, so the
live totals always equal a rebuild from scratch (``community gamification rebuild``), and
``community gamification check`` can prove it.

Rules (amounts come from the plugin's settings; 0 turns a rule off):

- ``vote:<vote id>:author``: a vote on a live post gives its author points (an upvote on an
  answer/reply, on a question or discussion, on an idea; a downvote on anything), and a
  downvote costs the voter ``vote:<vote id>:voter``. Votes from suspended members or from
  accounts younger than ``min_voter_age_days`` (when they voted) give nothing. What votes
  give a member in a UTC day (positive points only) stops at ``daily_vote_cap``.
- ``accept:<topic id>:answerer`` / ``accept:<topic id>:asker``: the accepted answer of a live
  question (nothing when the asker accepted their own answer).
- ``shipped:<topic id>``: a live idea whose status is ``shipped_status``.
- ``first_answer:<space id>:<user id>``: the member's earliest live reply in a space (not in
  their own topic).
- ``manual:<uuid>``: an administrator's adjustment (:func:`add_manual`); not derived from
  core's data, so reconciliation leaves these keys alone.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from community.accounts.models import User
from community.dbtypes import utcnow
from community.errors import Refused
from community.extensions import db
from community.plugins import audit
from community.topics.models import Post, Topic, Vote
from community_gamification.models import LedgerEntry, Total
from community_gamification.settings import settings

# The rules derived from core's data, by the prefix of their keys.
VOTE = "vote"
ACCEPT = "accept"
SHIPPED = "shipped"
FIRST_ANSWER = "first_answer"
RULES = (VOTE, ACCEPT, SHIPPED, FIRST_ANSWER)
MANUAL = "manual"

# How many members a rebuild or a check handles at once.
BATCH = 500
# Largest manual adjustment, either way.
MAX_MANUAL = 1_000_000

Scope = Mapping[str, Iterable[int] | None]


@dataclass(frozen=True)
class Entry:
    """What a cause should give a member."""

    amount: int
    reason: str
    object_type: str
    object_id: int | None
    space_id: int | None
    # None: no time is known (an idea's status change); the row gets the time of writing.
    occurred_at: datetime | None


# --- the public API of totals ----------------------------------------------------------------


def points_of(user_ids: Iterable[int]) -> dict[int, int]:
    """The points of each of ``user_ids`` (0 for members without any), in one query."""
    ids = {int(i) for i in user_ids if i is not None}
    result = dict.fromkeys(ids, 0)
    if ids:
        result.update(
            db.session.execute(
                select(Total.user_id, Total.points).where(Total.user_id.in_(ids))
            ).all()
        )
    return result


def add_manual(user: User, amount: int, reason_text: str, actor: User | None) -> LedgerEntry:
    """An administrator's adjustment of ``user``'s points by ``amount`` (key
    ``manual:<uuid>``, reason ``manual``), written and committed at once; announced to
    ``community_audited`` as ``gamification.points`` with ``reason_text``. Raises
    :class:`Refused` for 0 or an amount beyond ±1,000,000."""
    try:
        amount = int(amount)
    except (TypeError, ValueError):
        raise Refused(_("Enter a whole number of points."), "amount") from None
    if amount == 0:
        raise Refused(_("Enter a number of points other than 0."), "amount")
    if abs(amount) > MAX_MANUAL:
        raise Refused(_("At most 1,000,000 points at once, either way."), "amount")
    _lock([user.id])
    before = points_of([user.id])[user.id]
    now = utcnow()
    entry = LedgerEntry(
        user_id=user.id,
        amount=amount,
        reason=MANUAL,
        key=f"{MANUAL}:{uuid.uuid4().hex}",
        object_type="",
        object_id=None,
        space_id=None,
        occurred_at=now,
        created_at=now,
    )
    db.session.add(entry)
    _add_to_totals({user.id: amount}, now)
    db.session.commit()
    audit(
        actor,
        "gamification.points",
        user,
        reason=" ".join((reason_text or "").split())[:500] or None,
        before={"points": before},
        after={"points": before + amount},
    )
    return entry


# --- events ----------------------------------------------------------------------------------


def handle(event: str, **kwargs: Any) -> None:
    """Reconcile what ``event`` may have changed (called after core's commit)."""
    scope = scope_for(event, **kwargs)
    if scope:
        reconcile(scope)


def scope_for(event: str, **kw: Any) -> dict[str, set[int]]:
    """The members and rules whose points ``event`` may change."""
    if event == "vote_cast":
        return {VOTE: {kw["post"].author_id, kw["vote"].user_id}}
    if event == "vote_retracted":
        return {VOTE: {kw["post"].author_id, kw["user"].id}}
    if event in ("answer_accepted", "answer_unaccepted"):
        users = {kw["topic"].author_id}
        for name in ("answer", "previous_answer"):
            if kw.get(name) is not None:
                users.add(kw[name].author_id)
        return {ACCEPT: users}
    if event == "idea_status_changed":
        return {SHIPPED: {kw["topic"].author_id}}
    if event in ("user_suspended", "user_reinstated"):
        user_id = kw["user"].id
        authors = db.session.scalars(
            select(Post.author_id)
            .join(Vote, Vote.post_id == Post.id)
            .where(Vote.user_id == user_id)
            .distinct()
        )
        return {VOTE: {user_id, *authors}}
    if event == "post_created":
        post = kw["post"]
        if post.is_opening or post.parent_id is not None:
            return {}
        return {FIRST_ANSWER: {post.author_id}}
    if event == "topic_created":
        # A new topic gives nothing yet; one released from review may hold replies.
        topic_id = kw["topic"].id
        post_ids = list(db.session.scalars(select(Post.id).where(Post.topic_id == topic_id)))
        if len(post_ids) <= 1 and not kw["post"].upvotes and not kw["post"].downvotes:
            return {}
        return _all_rules(_users_of_posts(post_ids))
    if event in ("post_deleted", "post_restored", "post_hidden", "post_unhidden"):
        post = kw["post"]
        if post.is_opening:
            return _all_rules(_users_of_topics([post.topic_id]))
        return _all_rules(_users_of_posts([post.id]) | _ledger_users_of_topics([post.topic_id]))
    if event == "topic_moved":
        return _all_rules(_users_of_topics([kw["topic"].id]))
    if event == "topic_merged":
        return _all_rules(_users_of_topics([kw["source"].id, kw["target"].id]))
    if event == "topic_split":
        return _all_rules(_users_of_topics([kw["source"].id, kw["target"].id]))
    return {}


def _all_rules(users: set[int]) -> dict[str, set[int]]:
    return dict.fromkeys(RULES, users) if users else {}


def _users_of_posts(post_ids: Iterable[int]) -> set[int]:
    """Who may have points from these posts: their authors, the authors of their topics and
    their downvoters."""
    ids = list(set(post_ids))
    if not ids:
        return set()
    authors = select(Post.author_id).where(Post.id.in_(ids))
    askers = select(Topic.author_id).join(Post, Post.topic_id == Topic.id).where(Post.id.in_(ids))
    voters = select(Vote.user_id).where(Vote.post_id.in_(ids), Vote.value < 0)
    return set(db.session.scalars(authors.union(askers, voters)))


def _users_of_topics(topic_ids: Iterable[int]) -> set[int]:
    """Who may have points from these topics: everyone :func:`_users_of_posts` names for
    their posts, and whoever the ledger holds points of about them (votes merged away,
    acceptances of answers split off)."""
    ids = list(set(topic_ids))
    if not ids:
        return set()
    post_ids = list(db.session.scalars(select(Post.id).where(Post.topic_id.in_(ids))))
    users = _users_of_posts(post_ids) | _ledger_users_of_topics(ids)
    users.update(db.session.scalars(select(Topic.author_id).where(Topic.id.in_(ids))))
    if post_ids:
        users.update(
            db.session.scalars(
                select(LedgerEntry.user_id)
                .where(LedgerEntry.object_type == "post", LedgerEntry.object_id.in_(post_ids))
                .distinct()
            )
        )
    return users


def _ledger_users_of_topics(topic_ids: Iterable[int]) -> set[int]:
    keys = [f"{ACCEPT}:{t}:{who}" for t in topic_ids for who in ("answerer", "asker")]
    keys += [f"{SHIPPED}:{t}" for t in topic_ids]
    return set(
        db.session.scalars(select(LedgerEntry.user_id).where(LedgerEntry.key.in_(keys)).distinct())
    )


# --- what core's data says -------------------------------------------------------------------


def _ints(conf: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(conf)
    for key, value in conf.items():
        if key.startswith("points_") or key in ("daily_vote_cap", "min_voter_age_days"):
            out[key] = int(value or 0)
    return out


def _live_post():
    return and_(Post.deleted_at.is_(None), Post.held_at.is_(None))


def _live_topic():
    return and_(Topic.deleted_at.is_(None), Topic.held_at.is_(None), Topic.merged_into_id.is_(None))


def desired_entries(
    users: Iterable[int] | None = None,
    rules: Iterable[str] = RULES,
    conf: Mapping[str, Any] | None = None,
) -> dict[tuple[str, int], Entry]:
    """What every cause should give each member, from core's current data:
    ``{(key, user_id): Entry}``, amounts never 0. ``users``: only these members' entries
    (``None``: everyone's); ``rules``: only these rules."""
    conf = _ints(conf if conf is not None else settings())
    user_set = None if users is None else set(users)
    if user_set is not None and not user_set:
        return {}
    result: dict[tuple[str, int], Entry] = {}
    computers: dict[str, Callable[..., None]] = {
        VOTE: _vote_entries,
        ACCEPT: _accept_entries,
        SHIPPED: _shipped_entries,
        FIRST_ANSWER: _first_answer_entries,
    }
    for rule in rules:
        computers[rule](user_set, conf, result)
    return result


def _in(column, users: set[int] | None):
    return true() if users is None else column.in_(users)


def _vote_points(conf, value: int, is_opening: bool, parent_id, kind: str) -> tuple[int, str]:
    if value < 0:
        return conf["points_answer_downvoted"], "answer_downvoted"
    if is_opening:
        if kind == "idea":
            return conf["points_idea_voted"], "idea_voted"
        return conf["points_question_upvoted"], "question_upvoted"
    if parent_id is None:
        return conf["points_answer_upvoted"], "answer_upvoted"
    return 0, ""  # an upvote on a comment gives nothing


def _vote_entries(users: set[int] | None, conf, out: dict) -> None:
    voter = aliased(User)
    min_age = timedelta(days=conf["min_voter_age_days"])
    columns = (
        Vote.id,
        Vote.value,
        Vote.created_at,
        Vote.user_id,
        voter.active,
        voter.created_at,
        Post.id,
        Post.author_id,
        Post.is_opening,
        Post.parent_id,
        Topic.kind,
        Topic.space_id,
    )
    base = (
        select(*columns)
        .join(Post, Post.id == Vote.post_id)
        .join(Topic, Topic.id == Post.topic_id)
        .join(voter, voter.id == Vote.user_id)
        .where(_live_post(), _live_topic(), Vote.user_id != Post.author_id)
    )

    def counts(active: bool, voted_at: datetime, joined: datetime) -> bool:
        return bool(active) and (not min_age or voted_at - joined >= min_age)

    # The authors' points, in order, so that the daily cap takes the earliest votes.
    cap = conf["daily_vote_cap"]
    earned: dict[tuple[int, Any], int] = defaultdict(int)
    rows = db.session.execute(
        base.where(_in(Post.author_id, users)).order_by(Vote.created_at, Vote.id)
    )
    for vid, value, at, _vu, active, joined, pid, author, opening, parent, kind, space in rows:
        if not counts(active, at, joined):
            continue
        amount, reason = _vote_points(conf, value, opening, parent, kind)
        if amount > 0 and cap:
            day = (author, _utc_day(at))
            amount = max(0, min(amount, cap - earned[day]))
            earned[day] += amount
        if amount:
            out[(f"{VOTE}:{vid}:author", author)] = Entry(amount, reason, "post", pid, space, at)
    # The voters' cost of voting down.
    if conf["points_downvote_cast"]:
        rows = db.session.execute(base.where(Vote.value < 0, _in(Vote.user_id, users)))
        for vid, _v, at, voter_id, active, joined, pid, *_rest, space in rows:
            if counts(active, at, joined):
                out[(f"{VOTE}:{vid}:voter", voter_id)] = Entry(
                    conf["points_downvote_cast"], "downvote_cast", "post", pid, space, at
                )


def _utc_day(moment: datetime):
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def _accept_entries(users: set[int] | None, conf, out: dict) -> None:
    answer = aliased(Post)
    stmt = (
        select(
            Topic.id,
            Topic.author_id,
            Topic.space_id,
            Topic.accepted_at,
            answer.id,
            answer.author_id,
        )
        .join(answer, answer.id == Topic.accepted_answer_id)
        .where(
            _live_topic(),
            Topic.kind == "question",
            answer.topic_id == Topic.id,
            answer.deleted_at.is_(None),
            answer.held_at.is_(None),
            answer.is_opening.is_(False),
            answer.parent_id.is_(None),
            answer.author_id != Topic.author_id,
        )
    )
    if users is not None:
        stmt = stmt.where((Topic.author_id.in_(users)) | (answer.author_id.in_(users)))
    for tid, asker, space, at, aid, answerer in db.session.execute(stmt):
        if conf["points_answer_accepted"] and (users is None or answerer in users):
            out[(f"{ACCEPT}:{tid}:answerer", answerer)] = Entry(
                conf["points_answer_accepted"], "answer_accepted", "post", aid, space, at
            )
        if conf["points_asker_accepted"] and (users is None or asker in users):
            out[(f"{ACCEPT}:{tid}:asker", asker)] = Entry(
                conf["points_asker_accepted"], "asker_accepted", "topic", tid, space, at
            )


def _shipped_entries(users: set[int] | None, conf, out: dict) -> None:
    amount = conf["points_idea_shipped"]
    if not amount:
        return
    stmt = select(Topic.id, Topic.author_id, Topic.space_id).where(
        _live_topic(),
        Topic.kind == "idea",
        Topic.status == str(conf["shipped_status"]),
        _in(Topic.author_id, users),
    )
    for tid, author, space in db.session.execute(stmt):
        out[(f"{SHIPPED}:{tid}", author)] = Entry(amount, "idea_shipped", "topic", tid, space, None)


def _first_answer_entries(users: set[int] | None, conf, out: dict) -> None:
    amount = conf["points_first_answer_in_space"]
    if not amount:
        return
    rank = (
        func.row_number()
        .over(partition_by=(Post.author_id, Topic.space_id), order_by=(Post.created_at, Post.id))
        .label("rank")
    )
    ranked = (
        select(Post.id, Post.author_id, Topic.space_id, Post.created_at, rank)
        .join(Topic, Topic.id == Post.topic_id)
        .where(
            _live_post(),
            _live_topic(),
            Post.is_opening.is_(False),
            Post.parent_id.is_(None),
            Post.author_id != Topic.author_id,
            _in(Post.author_id, users),
        )
        .subquery()
    )
    stmt = select(ranked.c.id, ranked.c.author_id, ranked.c.space_id, ranked.c.created_at).where(
        ranked.c.rank == 1
    )
    for pid, author, space, at in db.session.execute(stmt):
        out[(f"{FIRST_ANSWER}:{space}:{author}", author)] = Entry(
            amount, "first_answer_in_space", "post", pid, space, at
        )


# --- the ledger ------------------------------------------------------------------------------


def _normalize(scope: Scope) -> dict[str, set[int] | None]:
    out: dict[str, set[int] | None] = {}
    for rule, users in scope.items():
        if rule not in RULES:
            raise ValueError(f"unknown rule {rule!r}")
        out[rule] = None if users is None else {int(u) for u in users if u is not None}
    return {rule: users for rule, users in out.items() if users is None or users}


Group = tuple[str, int, int | None, str, str, int | None]


def ledger_sums(scope: Scope) -> dict[Group, int]:
    """The ledger's sums per (key, user, space, reason, object type, object id) for the
    rules and members of ``scope``, leaving out those that add up to 0."""
    result: dict[Group, int] = {}
    group = (
        LedgerEntry.key,
        LedgerEntry.user_id,
        LedgerEntry.space_id,
        LedgerEntry.reason,
        LedgerEntry.object_type,
        LedgerEntry.object_id,
    )
    for rule, users in _normalize(scope).items():
        total = func.sum(LedgerEntry.amount)
        stmt = (
            select(*group, total)
            .where(LedgerEntry.key.like(f"{rule}:%"), _in(LedgerEntry.user_id, users))
            .group_by(*group)
            .having(total != 0)
        )
        for *where, amount in db.session.execute(stmt):
            result[tuple(where)] = int(amount)  # type: ignore[index]
    return result


def differences(scope: Scope, conf: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The ledger rows that would bring the ledger to what core's data says, for the rules
    and members of ``scope``: ``{rule: user ids or None for everyone}``.

    A cause's rows that no longer apply as they are (the cause is gone, or its rule, space
    or object changed: a vote changed direction, a topic moved) are reversed by rows of the
    same reason, space and object, and the cause's points are then written as they are now;
    when only the amount changed (the daily cap, a setting), the difference is written."""
    scope = _normalize(scope)
    conf = _ints(conf if conf is not None else settings())
    desired: dict[tuple[str, int], Entry] = {}
    for rule, users in scope.items():
        desired.update(desired_entries(users, [rule], conf))
    current = ledger_sums(scope)
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    for (key, user_id, space_id, reason, object_type, object_id), amount in current.items():
        entry = desired.get((key, user_id))
        if entry is not None and (
            entry.space_id,
            entry.reason,
            entry.object_type,
            entry.object_id,
        ) == (space_id, reason, object_type, object_id):
            seen.add((key, user_id))
            if amount != entry.amount:
                rows.append(_row(key, user_id, entry, entry.amount - amount))
            continue
        rows.append(
            {
                "user_id": user_id,
                "amount": -amount,
                "reason": reason,
                "key": key,
                "object_type": object_type,
                "object_id": object_id,
                "space_id": space_id,
                "occurred_at": entry.occurred_at if entry else None,
            }
        )
    for (key, user_id), entry in desired.items():
        if (key, user_id) not in seen:
            rows.append(_row(key, user_id, entry, entry.amount))
    return rows


def _row(key: str, user_id: int, entry: Entry, amount: int) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "amount": amount,
        "reason": entry.reason,
        "key": key,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "space_id": entry.space_id,
        "occurred_at": entry.occurred_at,
    }


def _lock(user_ids: Iterable[int]) -> None:
    """Take the members' totals rows (made first when missing) until the transaction ends,
    in id order so that two reconciliations cannot deadlock."""
    ids = sorted({int(u) for u in user_ids})
    if not ids:
        return
    now = utcnow()
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(Total)
        .values([{"user_id": u, "points": 0, "updated_at": now} for u in ids])
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    db.session.execute(
        select(Total.user_id)
        .where(Total.user_id.in_(ids))
        .order_by(Total.user_id)
        .with_for_update()
    )


def _add_to_totals(deltas: Mapping[int, int], now: datetime) -> None:
    params = [{"uid": u, "delta": d} for u, d in deltas.items() if d]
    if not params:
        return
    table = Total.__table__
    db.session.execute(
        update(table)
        .where(table.c.user_id == bindparam("uid"))
        .values(points=table.c.points + bindparam("delta"), updated_at=now),
        params,
    )


def _write(rows: list[dict[str, Any]], now: datetime) -> None:
    if not rows:
        return
    for row in rows:
        row["occurred_at"] = row["occurred_at"] or now
        row["created_at"] = now
    db.session.execute(LedgerEntry.__table__.insert(), rows)
    deltas: dict[int, int] = defaultdict(int)
    for row in rows:
        deltas[row["user_id"]] += row["amount"]
    _add_to_totals(deltas, now)


def _scope_users(scope: Mapping[str, set[int] | None]) -> set[int] | None:
    users: set[int] = set()
    for rule_users in scope.values():
        if rule_users is None:
            return None
        users |= rule_users
    return users


def reconcile(scope: Scope, *, commit: bool = True) -> int:
    """Bring the ledger and the totals of ``scope``'s members to what core's data says, for
    ``scope``'s rules (``{rule: user ids}``), under a lock on those members' totals; commits.
    Returns how many ledger rows were appended."""
    scope = _normalize(scope)
    if not scope:
        return 0
    users = _scope_users(scope)
    if users is None:
        users = set(db.session.scalars(select(User.id)))
    _lock(users)
    rows = differences(scope)
    _write(rows, utcnow())
    if commit:
        db.session.commit()
    return len(rows)


# --- rebuild and check -----------------------------------------------------------------------


def _user_batches(batch: int = BATCH) -> Iterable[list[int]]:
    last = 0
    while True:
        ids = list(
            db.session.scalars(select(User.id).where(User.id > last).order_by(User.id).limit(batch))
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def total_mismatches(user_ids: Iterable[int] | None = None) -> dict[int, tuple[int, int]]:
    """Members whose total is not the sum of their ledger rows: ``{user_id: (total, sum)}``
    (a missing total counts as 0)."""
    ids = None if user_ids is None else list(user_ids)
    sums = dict(
        db.session.execute(
            select(LedgerEntry.user_id, func.sum(LedgerEntry.amount))
            .where(_in(LedgerEntry.user_id, ids))
            .group_by(LedgerEntry.user_id)
        ).all()
    )
    totals = dict(
        db.session.execute(select(Total.user_id, Total.points).where(_in(Total.user_id, ids))).all()
    )
    out = {}
    for user_id in set(sums) | set(totals):
        have, should = int(totals.get(user_id, 0)), int(sums.get(user_id) or 0)
        if have != should:
            out[user_id] = (have, should)
    return out


@dataclass
class Report:
    users: int = 0
    appended: int = 0
    # {user_id: (total before, sum of the ledger)} of the totals repaired (rebuild) or wrong
    # (check).
    totals: dict[int, tuple[int, int]] | None = None

    def __post_init__(self) -> None:
        if self.totals is None:
            self.totals = {}


def rebuild(progress: Callable[[int], None] | None = None, batch: int = BATCH) -> Report:
    """Recompute every member's points from core's data, batch by batch, append the ledger
    rows that differ and set every total to its ledger's sum. After live play it appends
    nothing. ``progress(n)`` is called with the number of members of each batch done."""
    report = Report()
    conf = settings()
    for ids in _user_batches(batch):
        _lock(ids)
        rows = differences(dict.fromkeys(RULES, ids), conf)
        _write(rows, utcnow())
        wrong = total_mismatches(ids)
        if wrong:
            table = Total.__table__
            db.session.execute(
                update(table)
                .where(table.c.user_id == bindparam("uid"))
                .values(points=bindparam("should"), updated_at=utcnow()),
                [{"uid": u, "should": should} for u, (_have, should) in wrong.items()],
            )
            report.totals.update(wrong)
        db.session.commit()
        report.users += len(ids)
        report.appended += len(rows)
        if progress is not None:
            progress(len(ids))
    return report


def check(
    progress: Callable[[int], None] | None = None, batch: int = BATCH
) -> tuple[Report, list[dict[str, Any]]]:
    """Compare, without writing: every total with its ledger's sum, and the ledger with what
    core's data says. Returns the report (``totals``: the wrong ones) and the ledger rows a
    rebuild would append (at most 100 of them are kept; ``report.appended`` counts all)."""
    report = Report()
    missing: list[dict[str, Any]] = []
    conf = settings()
    for ids in _user_batches(batch):
        rows = differences(dict.fromkeys(RULES, ids), conf)
        report.appended += len(rows)
        missing.extend(rows[: max(0, 100 - len(missing))])
        report.totals.update(total_mismatches(ids))
        report.users += len(ids)
        db.session.rollback()  # end the read transaction of this batch
        if progress is not None:
            progress(len(ids))
    return report, missing
