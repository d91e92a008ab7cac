"""Badges: built-in ones earned by rules, and manual ones an administrator grants.

A built-in badge is a :class:`Rule`: given some user ids, its ``qualify`` function answers, with
set-based SQL over core's tables, which of them have earned it (and the post or topic that
earned it). After the events that may earn a badge, :func:`handle` evaluates the rules that
event concerns, for the users it concerns, and awards what is new; :func:`evaluate_all` does it
for everyone (the ``community gamification badges`` command and the demo).

Awards are rows of :class:`~community_gamification.models.Award`, once per member and badge
(the database's unique constraint decides). A badge earned is kept: nothing takes it back, except
an administrator revoking a manual grant.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from flask import g, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from community.accounts.models import User
from community.extensions import db
from community.notifications import NotificationKind, notify
from community.topics.models import Post, Topic
from community_gamification.models import Award, BadgeDefinition

TIERS = ("bronze", "silver", "gold")
# The tier shown for badges an administrator made.
MANUAL_TIER = "special"
MANUAL_PREFIX = "manual:"
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$")
# Request caches on flask.g, named after the plugin.
AWARDS_CACHE = "gamification_awards"

# --- notification ----------------------------------------------------------------------------

BADGE_AWARDED = "gamification_badge_awarded"


def _describe_award(notification: Any, count: int) -> str:
    data = notification.data or {}
    rule = RULES.get(data.get("badge", ""))
    name = str(rule.name) if rule is not None else data.get("name", "")
    return _("You earned the badge “%(name)s”", name=name)


NOTIFICATION_KINDS = [
    NotificationKind(
        BADGE_AWARDED,
        _l("Badges I earned"),
        _describe_award,
        default="app",
        description=_l("When you earn a badge, or an administrator grants you one."),
    )
]


# --- the rules -------------------------------------------------------------------------------

Qualifier = Callable[[Collection[int] | None], dict[int, int | None]]


@dataclass(frozen=True)
class Rule:
    """A built-in badge. ``qualify(user_ids)`` returns ``{user_id: object_id}`` for those of
    the users (everyone when ``None``) who qualify now, ``object_id`` being what earned it
    (a post or topic id) or ``None``."""

    slug: str
    name: Any
    description: Any
    tier: str
    qualify: Qualifier


@dataclass(frozen=True)
class BadgeInfo:
    """A badge of the catalogue: built-in or manual."""

    slug: str
    name: str
    description: str
    tier: str
    manual: bool = False

    @property
    def key(self) -> str:
        """What :attr:`Award.badge` holds for it."""
        return badge_key(self.slug, self.manual)


@dataclass(frozen=True)
class AwardInfo:
    """A badge a member holds, for the profile and other displays."""

    slug: str
    name: str
    tier: str
    awarded_at: datetime
    description: str = ""
    manual: bool = False


def badge_key(slug: str, manual: bool) -> str:
    return f"{MANUAL_PREFIX}{slug}" if manual else slug


def _live(post: Any, topic: Any) -> list[Any]:
    """Published and not deleted: the post and its topic."""
    return [
        post.deleted_at.is_(None),
        post.held_at.is_(None),
        topic.deleted_at.is_(None),
        topic.held_at.is_(None),
    ]


def _only(column: Any, user_ids: Collection[int] | None) -> list[Any]:
    return [] if user_ids is None else [column.in_(list(user_ids))]


def _answers(post: Any = Post, topic: Any = Topic) -> list[Any]:
    """Answers and replies (not opening posts, not comments), published."""
    return [post.is_opening.is_(False), post.parent_id.is_(None), *_live(post, topic)]


def _rows(stmt: Any) -> dict[int, int | None]:
    return {int(row[0]): row[1] for row in db.session.execute(stmt)}


def _first_answer(user_ids: Collection[int] | None) -> dict[int, int | None]:
    return _rows(
        select(Post.author_id, func.min(Post.id))
        .join(Topic, Topic.id == Post.topic_id)
        .where(*_answers(), *_only(Post.author_id, user_ids))
        .group_by(Post.author_id)
    )


def _accepted(minimum: int) -> Qualifier:
    def qualify(user_ids: Collection[int] | None) -> dict[int, int | None]:
        # Accepted answers to others' questions: accepting one's own answer earns nothing.
        pick = func.min(Post.id) if minimum == 1 else func.max(Post.id)
        return _rows(
            select(Post.author_id, pick)
            .join(Topic, Topic.accepted_answer_id == Post.id)
            .where(
                *_answers(),
                Topic.author_id != Post.author_id,
                *_only(Post.author_id, user_ids),
            )
            .group_by(Post.author_id)
            .having(func.count(Post.id) >= minimum)
        )

    return qualify


def _idea_shipped(user_ids: Collection[int] | None) -> dict[int, int | None]:
    from community_gamification.settings import settings

    status = settings()["shipped_status"]
    return _rows(
        select(Topic.author_id, func.min(Topic.id))
        .where(
            Topic.kind == "idea",
            Topic.status == status,
            Topic.deleted_at.is_(None),
            Topic.held_at.is_(None),
            *_only(Topic.author_id, user_ids),
        )
        .group_by(Topic.author_id)
    )


def _upvotes(minimum: int) -> Qualifier:
    def qualify(user_ids: Collection[int] | None) -> dict[int, int | None]:
        return _rows(
            select(Post.author_id, func.min(Post.id))
            .join(Topic, Topic.id == Post.topic_id)
            .where(*_answers(), Post.upvotes >= minimum, *_only(Post.author_id, user_ids))
            .group_by(Post.author_id)
        )

    return qualify


def _utc_day(column: Any) -> Any:
    """The UTC calendar day of a timestamp column, in SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite keeps UTC times without a zone


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def longest_streak(days: Iterable[date]) -> int:
    """The longest run of consecutive days."""
    best = run = 0
    previous: date | None = None
    for day in sorted(set(days)):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    return best


def _streak(length: int) -> Qualifier:
    def qualify(user_ids: Collection[int] | None) -> dict[int, int | None]:
        day = _utc_day(Post.created_at).label("day")
        published = [*_live(Post, Topic), *_only(Post.author_id, user_ids)]
        # Only members with enough distinct days can have a streak that long.
        days = (
            select(Post.author_id.label("author_id"), day)
            .join(Topic, Topic.id == Post.topic_id)
            .where(*published)
            .distinct()
            .subquery()
        )
        candidates = (
            select(days.c.author_id)
            .group_by(days.c.author_id)
            .having(func.count() >= length)
            .scalar_subquery()
        )
        by_user: dict[int, list[date]] = defaultdict(list)
        for author_id, value in db.session.execute(
            select(days.c.author_id, days.c.day).where(days.c.author_id.in_(candidates))
        ):
            by_user[author_id].append(_as_date(value))
        return {uid: None for uid, found in by_user.items() if longest_streak(found) >= length}

    return qualify


def _welcomer(user_ids: Collection[int] | None) -> dict[int, int | None]:
    """The first answer, by someone else, to a question whose asker had published no
    question or answer before it."""
    answer, question = aliased(Post), aliased(Topic)
    earlier, other = aliased(Post), aliased(Post)
    asker_was_new = ~exists().where(
        earlier.author_id == question.author_id,
        earlier.topic_id != question.id,
        earlier.parent_id.is_(None),
        earlier.held_at.is_(None),
        earlier.created_at < question.created_at,
    )
    answered_before = exists().where(
        other.topic_id == question.id,
        other.is_opening.is_(False),
        other.parent_id.is_(None),
        other.deleted_at.is_(None),
        other.held_at.is_(None),
        other.author_id != question.author_id,
        or_(
            other.created_at < answer.created_at,
            and_(other.created_at == answer.created_at, other.id < answer.id),
        ),
    )
    return _rows(
        select(answer.author_id, func.min(answer.id))
        .join(question, question.id == answer.topic_id)
        .where(
            question.kind == "question",
            *_answers(answer, question),
            answer.author_id != question.author_id,
            *_only(answer.author_id, user_ids),
            asker_was_new,
            ~answered_before,
        )
        .group_by(answer.author_id)
    )


BUILT_IN: list[Rule] = [
    Rule(
        "first_answer",
        _l("First answer"),
        _l("Published a first answer or reply."),
        "bronze",
        _first_answer,
    ),
    Rule(
        "first_accepted",
        _l("Accepted"),
        _l("Wrote a first answer that the asker accepted."),
        "bronze",
        _accepted(1),
    ),
    Rule(
        "welcomer",
        _l("Welcomer"),
        _l("Was the first to answer a newcomer's first question."),
        "bronze",
        _welcomer,
    ),
    Rule(
        "accepted_10",
        _l("Helper"),
        _l("Ten answers accepted by the people who asked."),
        "silver",
        _accepted(10),
    ),
    Rule(
        "idea_shipped",
        _l("Idea shipped"),
        _l("Suggested an idea that shipped."),
        "silver",
        _idea_shipped,
    ),
    Rule(
        "streak_30",
        _l("Thirty days in a row"),
        _l("Posted on thirty consecutive days (UTC)."),
        "silver",
        _streak(30),
    ),
    Rule(
        "accepted_50",
        _l("Expert"),
        _l("Fifty answers accepted by the people who asked."),
        "gold",
        _accepted(50),
    ),
    Rule(
        "accepted_100",
        _l("Guru"),
        _l("A hundred answers accepted by the people who asked."),
        "gold",
        _accepted(100),
    ),
    Rule(
        "upvotes_100",
        _l("Great answer"),
        _l("Wrote an answer voted up a hundred times."),
        "gold",
        _upvotes(100),
    ),
]
RULES: dict[str, Rule] = {rule.slug: rule for rule in BUILT_IN}

_ACCEPTED = ("first_accepted", "accepted_10", "accepted_50", "accepted_100")
# The rules worth evaluating again when the author's published posts change.
_ALL = tuple(RULES)


# --- the catalogue ---------------------------------------------------------------------------


def _definitions() -> list[BadgeDefinition]:
    return list(db.session.scalars(select(BadgeDefinition).order_by(BadgeDefinition.name)))


def badge_catalog() -> list[BadgeInfo]:
    """Every badge: the built-in ones (bronze, silver, gold) then the manual ones by name,
    with names and descriptions in the current language."""
    built_in = [
        BadgeInfo(rule.slug, str(rule.name), str(rule.description), rule.tier) for rule in BUILT_IN
    ]
    manual = [
        BadgeInfo(d.slug, d.name, d.description, MANUAL_TIER, manual=True) for d in _definitions()
    ]
    return built_in + manual


def find_badge(slug: str) -> BadgeInfo | None:
    """The badge with this slug (built-in first), or ``None``."""
    rule = RULES.get(slug)
    if rule is not None:
        return BadgeInfo(rule.slug, str(rule.name), str(rule.description), rule.tier)
    if not SLUG_PATTERN.match(slug or ""):
        return None
    definition = db.session.scalar(select(BadgeDefinition).where(BadgeDefinition.slug == slug))
    if definition is None:
        return None
    return BadgeInfo(
        definition.slug, definition.name, definition.description, MANUAL_TIER, manual=True
    )


def badge_url(slug: str) -> str:
    """The path of a badge's page."""
    if has_request_context():
        return url_for("gamification_badges.badge", slug=slug)
    return f"/badges/{quote(slug)}"


def awards_of(user_ids: Iterable[int]) -> dict[int, list[AwardInfo]]:
    """The badges each of these users holds, newest first, with one query (kept for the
    request). Users without badges map to an empty list."""
    ids = [uid for uid in dict.fromkeys(user_ids) if uid is not None]
    cache: dict[int, list[AwardInfo]] = g.setdefault(AWARDS_CACHE, {})
    todo = [uid for uid in ids if uid not in cache]
    for start in range(0, len(todo), 500):
        chunk = todo[start : start + 500]
        for uid in chunk:
            cache[uid] = []
        rows = db.session.execute(
            select(
                Award.user_id,
                Award.badge,
                Award.awarded_at,
                BadgeDefinition.slug,
                BadgeDefinition.name,
                BadgeDefinition.description,
            )
            .outerjoin(BadgeDefinition, Award.badge == MANUAL_PREFIX + BadgeDefinition.slug)
            .where(Award.user_id.in_(chunk))
            .order_by(Award.awarded_at.desc(), Award.id.desc())
        )
        for user_id, badge, awarded_at, slug, name, description in rows:
            rule = RULES.get(badge)
            if rule is not None:
                info = AwardInfo(
                    rule.slug, str(rule.name), rule.tier, awarded_at, str(rule.description)
                )
            elif slug is not None:
                info = AwardInfo(slug, name, MANUAL_TIER, awarded_at, description, manual=True)
            else:
                continue  # a rule that no longer exists
            cache[user_id].append(info)
    return {uid: cache[uid] for uid in ids}


def holder_counts(include_inactive: bool = False) -> dict[str, int]:
    """How many members hold each badge, by :attr:`Award.badge`; suspended accounts are
    counted only when ``include_inactive``."""
    stmt = select(Award.badge, func.count()).group_by(Award.badge)
    if not include_inactive:
        stmt = stmt.join(User, User.id == Award.user_id).where(User.active.is_(True))
    return dict(db.session.execute(stmt).all())


def clear_cache() -> None:
    g.pop(AWARDS_CACHE, None)


# --- awarding --------------------------------------------------------------------------------


def _award(user_id: int, badge: str, object_id: int | None, **extra: Any) -> Award | None:
    """Insert one award; ``None`` when the member already held it (the unique constraint
    decides, in a savepoint, so the session stays usable)."""
    award = Award(user_id=user_id, badge=badge, object_id=object_id, **extra)
    try:
        with db.session.begin_nested():
            db.session.add(award)
    except IntegrityError:
        return None
    return award


def _notify(awards: list[Award]) -> None:
    """Tell each member about their new badge (after the awards were committed)."""
    if not awards:
        return
    users = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_({award.user_id for award in awards}))
        )
    }
    for award in awards:
        user = users.get(award.user_id)
        if user is None:
            continue
        manual = award.badge.startswith(MANUAL_PREFIX)
        slug = award.badge.removeprefix(MANUAL_PREFIX)
        data: dict[str, Any] = {"badge": award.badge, "slug": slug}
        if manual:
            definition = db.session.scalar(
                select(BadgeDefinition).where(BadgeDefinition.slug == slug)
            )
            data["name"] = definition.name if definition is not None else slug
        else:
            data["name"] = str(RULES[award.badge].name)
        notify([user], BADGE_AWARDED, key=f"badge:{award.id}", data=data, url=badge_url(slug))


def evaluate(user_ids: Iterable[int], slugs: Iterable[str] = _ALL) -> list[Award]:
    """Award the built-in badges among ``slugs`` that these users have newly earned, and
    notify them. Returns the new awards."""
    ids = {uid for uid in user_ids if uid is not None}
    rules = [RULES[slug] for slug in dict.fromkeys(slugs) if slug in RULES]
    if not ids or not rules:
        return []
    held: dict[str, set[int]] = defaultdict(set)
    for user_id, badge in db.session.execute(
        select(Award.user_id, Award.badge).where(
            Award.user_id.in_(ids), Award.badge.in_([rule.slug for rule in rules])
        )
    ):
        held[badge].add(user_id)
    new: list[Award] = []
    for rule in rules:
        todo = ids - held[rule.slug]
        if not todo:
            continue
        for user_id, object_id in rule.qualify(todo).items():
            if user_id in todo:
                award = _award(user_id, rule.slug, object_id)
                if award is not None:
                    new.append(award)
    if new:
        db.session.commit()
        clear_cache()
        _notify(new)
    return new


def _targets(event: str, kw: dict[str, Any]) -> tuple[set[int], tuple[str, ...]]:
    """Which users and which rules an event concerns."""
    if event == "post_created":
        post = kw["post"]
        if post.parent_id is not None:  # a comment: only the streak
            return {post.author_id}, ("streak_30",)
        return {post.author_id}, ("first_answer", "welcomer", "streak_30")
    if event == "topic_created":
        return {kw["topic"].author_id}, ("streak_30",)
    if event == "answer_accepted":
        return {kw["answer"].author_id}, _ACCEPTED
    if event == "idea_status_changed":
        return {kw["topic"].author_id}, ("idea_shipped",)
    if event == "vote_cast":
        if kw["vote"].value > 0:
            return {kw["post"].author_id}, ("upvotes_100",)
        return set(), ()
    if event in ("post_restored", "post_unhidden"):
        return {kw["post"].author_id}, _ALL
    return set(), ()


def handle(event: str, **kw: Any) -> None:
    """React to a core event (called by the plugin's hooks after the points engine)."""
    user_ids, slugs = _targets(event, kw)
    if user_ids and slugs:
        evaluate(user_ids, slugs)


def evaluate_all(
    progress: Callable[[str], Any] | None = None, *, notify_members: bool = True
) -> dict[str, int]:
    """Award every built-in badge to every member who has earned it and does not hold it
    yet (after installing the plugin, changing a rule's setting, or generating demo data).
    ``progress`` is called with a line of text per badge. Returns the new awards per badge."""
    counts: dict[str, int] = {}
    for rule in BUILT_IN:
        holders = set(db.session.scalars(select(Award.user_id).where(Award.badge == rule.slug)))
        new: list[Award] = []
        qualified = rule.qualify(None)
        for user_id, object_id in qualified.items():
            if user_id in holders:
                continue
            award = _award(user_id, rule.slug, object_id)
            if award is not None:
                new.append(award)
        db.session.commit()
        counts[rule.slug] = len(new)
        if notify_members:
            _notify(new)
        if progress is not None:
            progress(f"{rule.slug}: {len(new)} new, {len(holders) + len(new)} in all")
    clear_cache()
    return counts


# --- manual badges ---------------------------------------------------------------------------


def slug_problem(slug: str, *, current: BadgeDefinition | None = None) -> str | None:
    """Why ``slug`` cannot name a new manual badge, or ``None``."""
    if not SLUG_PATTERN.match(slug or ""):
        return _(
            "Use 1 to 40 lowercase letters, digits, hyphens or underscores, "
            "starting and ending with a letter or digit."
        )
    if slug in RULES:
        return _("A built-in badge already has this address.")
    taken = db.session.scalar(
        select(BadgeDefinition.id).where(
            BadgeDefinition.slug == slug,
            *([BadgeDefinition.id != current.id] if current is not None else []),
        )
    )
    if taken is not None:
        return _("Another badge already has this address.")
    return None


def grant(actor: User, user: User, definition: BadgeDefinition, reason: str = "") -> Award | None:
    """Grant a manual badge; ``None`` when the member already holds it. Audited and
    notified after the commit."""
    key = badge_key(definition.slug, True)
    award = _award(user.id, key, None, granted_by_id=actor.id, reason=reason)
    if award is None:
        return None
    db.session.commit()
    clear_cache()
    from community.plugins import audit

    audit(
        actor,
        "badge.grant",
        user,
        reason=reason or None,
        before={"badge": None},
        after={"badge": key},
    )
    _notify([award])
    return award


def revoke(actor: User, award: Award, reason: str = "") -> None:
    """Take back a manual badge. Audited after the commit."""
    if not award.badge.startswith(MANUAL_PREFIX):
        raise ValueError("only manual badges can be revoked")
    user, key = award.user, award.badge
    before = {
        "badge": key,
        "awarded_at": award.awarded_at.isoformat(),
        "reason": award.reason,
    }
    db.session.delete(award)
    db.session.commit()
    clear_cache()
    from community.plugins import audit

    audit(actor, "badge.revoke", user, reason=reason or None, before=before, after={"badge": None})


# --- admin menu ------------------------------------------------------------------------------


def slot(slot: str, context: dict[str, Any]) -> Any:
    """The link to the badges' admin pages in the ``admin.nav`` slot."""
    if slot != "admin.nav":
        return None
    from flask import request
    from markupsafe import Markup

    current = (request.endpoint or "").startswith("gamification_admin.badge")
    return Markup('<li><a href="%s"%s>%s</a></li>') % (
        url_for("gamification_admin.badges"),
        Markup(' aria-current="page"') if current else "",
        _("Badges"),
    )
