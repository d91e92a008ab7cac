"""Routing unanswered questions to experts.

A question (not deleted, held or merged, with no answer and no accepted answer) that is still
unanswered ``after_minutes`` after it was asked is **offered** to experts of its space (and of
the spaces it is inside) and of its tags: each expert gets a notification and finds it first on
their "Unanswered in your spaces" page. Each time the same number of minutes passes again
(up to ``max_rounds``) ``per_round`` more experts are asked. Experts are chosen so that nobody
is flooded: round-robin (the expert asked longest ago first) or by availability (fewest open
offers first), never more than ``max_open_offers`` open at once, never an expert who is away,
who may not see the question or may not answer it, nor the asker.

When someone answers, every open offer of the question closes (ANSWERED); an expert who says
"I can't help" passes (PASSED) and the next run asks someone else; offers of experts who went
away, were suspended or lost sight of the question, and of questions that were deleted or
merged, are WITHDRAWN (and someone else may be asked in their place). Only OPEN offers change
state.

A space's moderators set the space's routing (:func:`save_space_routing`); the plugin's
settings are the defaults of spaces that have none. A periodic task runs :func:`route` every
minute while the plugin is enabled.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import g
from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from community.accounts.models import User
from community.dbtypes import utcnow
from community.errors import Refused
from community.extensions import db
from community.permissions import all_spaces, can, prefetch_moderated_spaces, visible_space_ids
from community.plugins import audit, is_enabled
from community.tasks import crontab, periodic_task
from community.topics.models import Topic
from community_experts import expertise
from community_experts.models import (
    ANSWERED,
    OPEN,
    PASSED,
    WITHDRAWN,
    Availability,
    Offer,
    SpaceRouting,
)
from community_experts.notifications import OFFERED
from community_experts.settings import ROUTING_MODES, settings

NAME = "experts"
MODES = tuple(key for key, _label in ROUTING_MODES)
AFTER_MINUTES_RANGE = (1, 10080)
PER_ROUND_RANGE = (1, 20)
NOTE_MAX = 200
# Offers that someone else replaces: the expert said they can't help, or they went away, were
# suspended or lost sight of the question.
REPLACED = (PASSED, WITHDRAWN)


# --- a space's routing -----------------------------------------------------------------------


@dataclass(frozen=True)
class Routing:
    """A space's routing: its own settings, or the plugin's defaults (``custom`` False)."""

    space_id: int
    enabled: bool
    after_minutes: int
    mode: str
    per_round: int
    custom: bool = False

    def values(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "after_minutes": self.after_minutes,
            "mode": self.mode,
            "per_round": self.per_round,
        }


def _space_id(space: Any) -> int:
    return space if isinstance(space, int) else space.id


def _defaults(space_id: int) -> Routing:
    values = settings()
    mode = values["routing_mode"] if values["routing_mode"] in MODES else MODES[0]
    return Routing(
        space_id=space_id,
        enabled=True,
        after_minutes=int(values["route_after_minutes"]),
        mode=mode,
        per_round=int(values["per_round"]),
    )


def _from_row(row: SpaceRouting) -> Routing:
    return Routing(
        space_id=row.space_id,
        enabled=bool(row.enabled),
        after_minutes=max(1, int(row.after_minutes)),
        mode=row.mode if row.mode in MODES else MODES[0],
        per_round=max(1, int(row.per_round)),
        custom=True,
    )


def space_routings(space_ids: Iterable[int]) -> dict[int, Routing]:
    """``{space_id: Routing}`` for these spaces, with one query."""
    ids = list(dict.fromkeys(space_ids))
    result = {sid: _defaults(sid) for sid in ids}
    if ids:
        for row in db.session.scalars(select(SpaceRouting).where(SpaceRouting.space_id.in_(ids))):
            result[row.space_id] = _from_row(row)
    return result


def space_routing(space: Any) -> Routing:
    """The routing of a space (a ``Space`` or its id): ``enabled``, ``after_minutes``,
    ``mode``, ``per_round``; the plugin's settings when its moderators set none."""
    space_id = _space_id(space)
    return space_routings([space_id])[space_id]


def _whole(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, float) and value != number or not low <= number <= high:
        raise Refused(_("Enter a whole number from %(low)d to %(high)d.", low=low, high=high), name)
    return number


def save_space_routing(actor: Any, space: Any, **values: Any) -> Routing:
    """Change a space's routing (``enabled``, ``after_minutes``, ``mode``, ``per_round``; the
    others stay). The caller checked ``can("space.moderate", space)``. Raises ``Refused``
    (with the field) for a value out of range; commits and audits ``experts.routing``."""
    unknown = set(values) - {"enabled", "after_minutes", "mode", "per_round"}
    if unknown:
        raise TypeError(f"unknown routing settings: {sorted(unknown)}")
    current = space_routing(space)
    new = current.values()
    if "enabled" in values:
        new["enabled"] = bool(values["enabled"])
    if "after_minutes" in values:
        new["after_minutes"] = _whole(
            values["after_minutes"], "after_minutes", *AFTER_MINUTES_RANGE
        )
    if "per_round" in values:
        new["per_round"] = _whole(values["per_round"], "per_round", *PER_ROUND_RANGE)
    if "mode" in values:
        if values["mode"] not in MODES:
            raise Refused(_("Choose round-robin or by availability."), "mode")
        new["mode"] = values["mode"]
    old = current.values()
    space_id = _space_id(space)
    now = utcnow()
    row = db.session.get(SpaceRouting, space_id)
    if row is None:
        try:
            with db.session.begin_nested():
                row = SpaceRouting(space_id=space_id, updated_at=now, **new)
                db.session.add(row)
        except IntegrityError:  # another moderator saved first: change their row
            row = db.session.get(SpaceRouting, space_id)
    if row is not None:
        for name, value in new.items():
            setattr(row, name, value)
        row.updated_at = now
    db.session.commit()
    before = {k: v for k, v in old.items() if v != new[k] or not current.custom}
    after = {k: new[k] for k in before}
    if before:
        target = space if not isinstance(space, int) else all_spaces().get(space_id)
        audit(actor, "experts.routing", target, before=before, after=after)
    return space_routing(space_id)


# --- availability ----------------------------------------------------------------------------


def _live_away(now: datetime) -> Any:
    return or_(Availability.until.is_(None), Availability.until > now)


def away_status(user_id: int, now: datetime | None = None) -> Availability | None:
    """The member's Availability row while they are away, else None."""
    now = now or utcnow()
    return db.session.scalar(
        select(Availability).where(Availability.user_id == user_id, _live_away(now))
    )


def is_away(user_id: int) -> bool:
    return away_status(user_id) is not None


def away_user_ids(user_ids: Iterable[int], now: datetime | None = None) -> set[int]:
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return set()
    now = now or utcnow()
    return set(
        db.session.scalars(
            select(Availability.user_id).where(Availability.user_id.in_(ids), _live_away(now))
        )
    )


def _withdraw(*conditions: Any, now: datetime | None = None) -> int:
    result = db.session.execute(
        update(Offer)
        .where(Offer.state == OPEN, *conditions)
        .values(state=WITHDRAWN, closed_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def set_away(user: Any, until: datetime | None = None, note: str = "") -> Availability:
    """Mark the member away (until ``until``, or until they come back): no question is
    offered to them meanwhile, and their open offers are withdrawn (someone else is asked).
    Raises ``Refused`` for a note too long or an ``until`` in the past. Commits."""
    now = utcnow()
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise Refused(_("The note can be at most %(n)d characters long.", n=NOTE_MAX), "note")
    if until is not None and until <= now:
        raise Refused(_("Choose a date in the future, or none."), "until")
    row = db.session.get(Availability, user.id)
    if row is None:
        try:
            with db.session.begin_nested():
                row = Availability(user_id=user.id, away_since=now, until=until, note=note)
                db.session.add(row)
        except IntegrityError:
            row = db.session.get(Availability, user.id)
    if row is not None:
        if row.until is not None and row.until <= now:
            row.away_since = now  # an old absence that ran out: this is a new one
        row.until = until
        row.note = note
    _withdraw(Offer.user_id == user.id, now=now)
    db.session.commit()
    _forget_counts()
    return row  # type: ignore[return-value]


def come_back(user: Any) -> bool:
    """The member is available again. False when they were not away. Commits."""
    removed = db.session.execute(
        delete(Availability)
        .where(Availability.user_id == user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(removed)


# --- offers ----------------------------------------------------------------------------------


def _forget_counts() -> None:
    g.pop("experts_open_offers", None)


def open_offer_counts(user_ids: Iterable[int]) -> dict[int, int]:
    """``{user_id: number of OPEN offers}`` (0 for those with none), one query."""
    ids = list(dict.fromkeys(user_ids))
    counts = dict.fromkeys(ids, 0)
    if ids:
        for user_id, number in db.session.execute(
            select(Offer.user_id, func.count())
            .where(Offer.user_id.in_(ids), Offer.state == OPEN)
            .group_by(Offer.user_id)
        ):
            counts[user_id] = int(number)
    return counts


def open_offer_count(user: Any) -> int:
    """The member's OPEN offers of questions they may see now (for the menu), one query per
    request."""
    user_id = user.id
    cache = g.setdefault("experts_open_offers", {})
    if user_id not in cache:
        cache[user_id] = int(
            db.session.scalar(
                select(func.count())
                .select_from(Offer)
                .join(Topic, Topic.id == Offer.topic_id)
                .where(
                    Offer.user_id == user_id,
                    Offer.state == OPEN,
                    Topic.space_id.in_(visible_space_ids(user)),
                    Topic.deleted_at.is_(None),
                    Topic.held_at.is_(None),
                )
            )
            or 0
        )
    return cache[user_id]


def pass_offer(user: Any, topic: Any) -> bool:
    """ "I can't help": the member's OPEN offer of this question is PASSED, and the next run
    asks someone else. False when there was no open offer. Commits."""
    passed = db.session.execute(
        update(Offer)
        .where(Offer.topic_id == topic.id, Offer.user_id == user.id, Offer.state == OPEN)
        .values(state=PASSED, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    _forget_counts()
    return bool(passed)


def offer_of(user_id: int, topic_id: int) -> Offer | None:
    return db.session.scalar(
        select(Offer).where(Offer.user_id == user_id, Offer.topic_id == topic_id)
    )


# --- routing ---------------------------------------------------------------------------------


def _routable(now: datetime, oldest: datetime) -> list[Any]:
    return [
        Topic.kind == "question",
        Topic.deleted_at.is_(None),
        Topic.held_at.is_(None),
        Topic.merged_into_id.is_(None),
        Topic.accepted_answer_id.is_(None),
        Topic.first_answer_at.is_(None),
        Topic.created_at >= oldest,
        Topic.created_at <= now,
    ]


def _sweep(now: datetime, oldest: datetime) -> int:
    """Withdraw the OPEN offers of questions that closed without the plugin hearing of it
    (deleted, held, merged, answered or accepted, too old), and of suspended experts."""
    # Correlated: looked up by primary key for each OPEN offer only.
    closed = (
        select(Topic.id)
        .where(
            Topic.id == Offer.topic_id,
            or_(
                Topic.deleted_at.is_not(None),
                Topic.held_at.is_not(None),
                Topic.merged_into_id.is_not(None),
                Topic.accepted_answer_id.is_not(None),
                Topic.first_answer_at.is_not(None),
                Topic.created_at < oldest,
            ),
        )
        .exists()
    )
    suspended = select(User.id).where(User.id == Offer.user_id, User.active.is_(False)).exists()
    done = _withdraw(or_(closed, suspended), now=now)
    done += _withdraw_out_of_sight(now)
    # Absences that ran out are over.
    db.session.execute(
        delete(Availability)
        .where(Availability.until.is_not(None), Availability.until <= now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return done


def _withdraw_out_of_sight(now: datetime) -> int:
    """Withdraw the OPEN offers whose expert may no longer see or answer the question (its
    space became private, the topic was locked, the expert lost a role), whatever event the
    plugin did not hear of. OPEN offers are few: at most ``max_open_offers`` per expert."""
    offers = list(db.session.scalars(select(Offer).where(Offer.state == OPEN)))
    if not offers:
        return 0
    topics = {
        t.id: t
        for t in db.session.scalars(select(Topic).where(Topic.id.in_({o.topic_id for o in offers})))
    }
    users = {
        u.id: u
        for u in db.session.scalars(select(User).where(User.id.in_({o.user_id for o in offers})))
    }
    prefetch_moderated_spaces(list(users))
    lost = [
        o.id
        for o in offers
        if o.topic_id not in topics
        or o.user_id not in users
        or not (
            can("topic.view", topics[o.topic_id], user=users[o.user_id])
            and can("topic.reply", topics[o.topic_id], user=users[o.user_id])
        )
    ]
    return _withdraw(Offer.id.in_(lost), now=now) if lost else 0


def _order_key(
    mode: str, user_id: int, last: dict[int, tuple[datetime, int]], open_counts: dict[int, int]
) -> tuple:
    """Round-robin: never asked first, then the one whose latest offer is oldest (offers
    made at the same moment: the one made first), then by id. By availability: fewest open
    offers first, then the same."""
    latest = last.get(user_id)
    robin = (
        (0, 0.0, 0, user_id) if latest is None else (1, latest[0].timestamp(), latest[1], user_id)
    )
    if mode == "availability":
        return (open_counts.get(user_id, 0), *robin)
    return robin


def route(now: datetime | None = None) -> int:
    """Offer the questions that waited long enough to more experts; returns the number of
    offers made. Idempotent: a second run at the same moment makes none. Safe against a
    concurrent run: the database refuses a second offer of a question to the same expert."""
    now = now or utcnow()
    values = settings()
    max_rounds = int(values["max_rounds"])
    max_open = int(values["max_open_offers"])
    oldest = now - timedelta(hours=int(values["max_question_age_hours"]))
    _sweep(now, oldest)

    topics = list(
        db.session.scalars(
            select(Topic)
            .where(*_routable(now, oldest))
            .options(selectinload(Topic.tags))
            .order_by(Topic.created_at, Topic.id)
        )
    )
    if not topics:
        return 0
    routings = space_routings({t.space_id for t in topics})
    due: list[tuple[Topic, Routing, int]] = []
    for topic in topics:
        routing = routings[topic.space_id]
        if not routing.enabled:
            continue
        age_minutes = int((now - topic.created_at).total_seconds() // 60)
        rounds = min(max_rounds, age_minutes // routing.after_minutes)
        if rounds >= 1:
            due.append((topic, routing, rounds))
    if not due:
        return 0

    offered: dict[int, set[int]] = defaultdict(set)
    replaced: dict[int, int] = defaultdict(int)
    for topic_id, user_id, state in db.session.execute(
        select(Offer.topic_id, Offer.user_id, Offer.state).where(
            Offer.topic_id.in_([t.id for t, _r, _n in due])
        )
    ):
        offered[topic_id].add(user_id)
        if state in REPLACED:
            replaced[topic_id] += 1
    wanted: list[tuple[Topic, Routing, int, int]] = []
    for topic, routing, rounds in due:
        needed = rounds * routing.per_round + replaced[topic.id] - len(offered[topic.id])
        if needed > 0:
            wanted.append((topic, routing, rounds, needed))
    if not wanted:
        return 0

    covering = {t.space_id: expertise.covering(t.space_id) for t, _r, _n, _w in wanted}
    by_space = expertise.experts_in({sid for chain in covering.values() for sid in chain})
    by_tag = expertise.tag_experts({tag.id for t, _r, _n, _w in wanted for tag in t.tags})
    candidates: dict[int, set[int]] = {}
    for topic, _r, _n, _w in wanted:
        found: set[int] = set()
        for sid in covering[topic.space_id]:
            found |= by_space.get(sid, set())
        for tag in topic.tags:
            found |= by_tag.get(tag.id, set())
        candidates[topic.id] = found - {topic.author_id}
    everyone = {uid for found in candidates.values() for uid in found}
    if not everyone:
        return 0
    users = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_(everyone), User.active.is_(True))
        )
    }
    away = away_user_ids(users, now)
    open_counts = open_offer_counts(users)
    last: dict[int, tuple[datetime, int]] = {
        user_id: (moment, int(offer_id))
        for user_id, moment, offer_id in db.session.execute(
            select(Offer.user_id, func.max(Offer.offered_at), func.max(Offer.id))
            .where(Offer.user_id.in_(list(users)))
            .group_by(Offer.user_id)
        )
    }
    prefetch_moderated_spaces(list(users))

    made = 0
    notices: list[tuple[Topic, list[User]]] = []
    for topic, routing, rounds, needed in wanted:
        told: list[User] = []
        pool = [
            uid
            for uid in candidates[topic.id]
            if uid in users
            and uid not in away
            and uid not in offered[topic.id]
            and open_counts.get(uid, 0) < max_open
        ]
        pool.sort(key=lambda uid: _order_key(routing.mode, uid, last, open_counts))
        for uid in pool:
            if needed <= 0:
                break
            expert = users[uid]
            if not (
                can("topic.view", topic, user=expert) and can("topic.reply", topic, user=expert)
            ):
                continue
            offer_id = _make_offer(topic, expert, rounds, now)
            offered[topic.id].add(uid)
            if offer_id is None:
                needed -= 1  # a concurrent run made this very offer: it counts
                continue
            open_counts[uid] = open_counts.get(uid, 0) + 1
            last[uid] = (now, offer_id)
            needed -= 1
            made += 1
            told.append(expert)
        if told:
            notices.append((topic, told))
    # One commit for every offer, then one notification per question. Nothing read above
    # changes in between: not expiring it on each commit spares reloading every question,
    # tag and expert (a burst of 500 questions went from 36 s to well under a second).
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        db.session.commit()
        for topic, told in notices:
            _notify(told, topic)
    finally:
        session.expire_on_commit = expire
    _forget_counts()
    return made


def _make_offer(topic: Topic, expert: User, rounds: int, now: datetime) -> int | None:
    """Record the offer; its id, or None when it exists already (a concurrent run)."""
    offer = Offer(
        topic_id=topic.id,
        user_id=expert.id,
        space_id=topic.space_id,
        offered_at=now,
        round=rounds,
        state=OPEN,
    )
    try:
        with db.session.begin_nested():
            db.session.add(offer)
    except IntegrityError:  # a concurrent run offered it to them first
        return None
    return offer.id


def _notify(experts: list[User], topic: Topic) -> None:
    from community.notifications.service import notify

    notify(experts, OFFERED, topic=topic, key=f"offered:{topic.id}")


# --- stop asking -----------------------------------------------------------------------------


def _answered(post: Any) -> None:
    if post.is_opening or post.parent_id is not None:
        return
    if post.deleted_at is not None or post.held_at is not None:
        return
    topic = post.topic
    if topic is None or post.author_id == topic.author_id:
        return
    now = utcnow()
    open_ids = list(
        db.session.scalars(select(Offer.id).where(Offer.topic_id == topic.id, Offer.state == OPEN))
    )
    if not open_ids:
        return
    db.session.execute(
        update(Offer)
        .where(
            Offer.topic_id == topic.id,
            Offer.user_id == post.author_id,
            Offer.answered_by_them.is_(False),
            Offer.state.in_((OPEN, PASSED)),
        )
        .values(answered_by_them=True)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Offer)
        .where(Offer.id.in_(open_ids), Offer.state == OPEN)
        .values(state=ANSWERED, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _moved(topic: Any) -> None:
    offers = list(
        db.session.scalars(select(Offer).where(Offer.topic_id == topic.id, Offer.state == OPEN))
    )
    if not offers:
        return
    users = {
        u.id: u
        for u in db.session.scalars(select(User).where(User.id.in_([o.user_id for o in offers])))
    }
    prefetch_moderated_spaces(list(users))
    lost = [
        o.id
        for o in offers
        if o.user_id not in users
        or not (
            can("topic.view", topic, user=users[o.user_id])
            and can("topic.reply", topic, user=users[o.user_id])
        )
    ]
    if lost:
        _withdraw(Offer.id.in_(lost))
    db.session.commit()


def handle(event: str, **kw: Any) -> None:
    """React to core's events: stop asking when a question is answered or closes."""
    if event == "post_published":
        _answered(kw["post"])
    elif event == "post_deleted":
        post = kw["post"]
        if post.is_opening:
            _withdraw(Offer.topic_id == post.topic_id)
            db.session.commit()
    elif event == "topic_merged":
        _withdraw(Offer.topic_id == kw["source"].id)
        db.session.commit()
    elif event == "topic_moved":
        _moved(kw["topic"])
    elif event == "user_suspended":
        _withdraw(Offer.user_id == kw["user"].id)
        db.session.commit()
    else:
        return
    _forget_counts()


# --- the "Unanswered in your spaces" page ----------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Where a member is an expert, as far as they may see: spaces (with the spaces inside
    them) and tags."""

    space_ids: frozenset[int]
    tag_ids: frozenset[int]

    @property
    def empty(self) -> bool:
        return not self.space_ids and not self.tag_ids


def expert_scope(user: Any, visible: Iterable[int]) -> Scope:
    shown = set(visible)
    spaces: set[int] = set()
    tags: set[int] = set()
    for item in expertise.expertise_of([user.id]).get(user.id, []):
        if item.scope == "space":
            spaces |= expertise.spaces_covered(item.scope_id)
        else:
            tags.add(item.scope_id)
    return Scope(frozenset(spaces & shown), frozenset(tags))


def _listed(visible: list[int]) -> list[Any]:
    return [
        Topic.kind == "question",
        Topic.space_id.in_(visible),
        Topic.deleted_at.is_(None),
        Topic.held_at.is_(None),
        Topic.merged_into_id.is_(None),
        Topic.accepted_answer_id.is_(None),
        Topic.first_answer_at.is_(None),
    ]


def offered_to(user: Any, visible: list[int]) -> list[tuple[Offer, Topic]]:
    """The member's OPEN offers of questions they may see, newest offer first (one query and
    one for the tags)."""
    rows = db.session.execute(
        select(Offer, Topic)
        .join(Topic, Topic.id == Offer.topic_id)
        .where(Offer.user_id == user.id, Offer.state == OPEN, *_listed(visible))
        .options(selectinload(Topic.tags))
        .order_by(Offer.offered_at.desc(), Offer.id.desc())
    ).all()
    return [(offer, topic) for offer, topic in rows]


def unanswered_statement(user: Any, scope: Scope, visible: list[int], exclude: Iterable[int]):
    """The other unanswered questions in the member's expertise, newest first."""
    from community.topics.models import Tag

    where: list[Any] = []
    if scope.space_ids:
        where.append(Topic.space_id.in_(scope.space_ids))
    if scope.tag_ids:
        where.append(Topic.tags.any(Tag.id.in_(scope.tag_ids)))
    stmt = (
        select(Topic)
        .where(*_listed(visible), or_(*where), Topic.author_id != user.id)
        .options(selectinload(Topic.tags))
        .order_by(Topic.created_at.desc(), Topic.id.desc())
    )
    skip = list(exclude)
    if skip:
        stmt = stmt.where(and_(Topic.id.not_in(skip)))
    return stmt


# --- periodic tasks --------------------------------------------------------------------------


@periodic_task(crontab(minute="*"))
def route_unanswered_questions() -> None:
    """Every minute: offer the questions that waited long enough (while enabled)."""
    if is_enabled(NAME):
        route()


@periodic_task(crontab(minute="17"))
def refresh_expertise() -> None:
    """Every hour: work out again the standings whose oldest counted item left the window."""
    if is_enabled(NAME):
        expertise.refresh_due()
