"""Demo data for ``community demo --enable-plugin gamification``.

Core's demo writes its rows in bulk, without firing events, so the plugin works its points
out from core's data afterwards (what ``community gamification rebuild`` does), lets the
badge rules award what they find, and adds two badges an administrator would grant by hand
to a few members, so that the leaderboards, the levels and the badges pages have something
to show.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select, update

from community.accounts.models import User
from community.extensions import db
from community_gamification.models import Award, BadgeDefinition, LedgerEntry

# Badges granted by hand in the demo: (slug, name, description, how many members).
MANUAL_BADGES = [
    (
        "beta-tester",
        "Beta tester",
        "Tried the new firmware before its release and reported what went wrong.",
        4,
    ),
    (
        "translator",
        "Translator",
        "Helped translate the help centre into Italian.",
        2,
    ),
]


def generate(seed: int) -> dict[str, int]:
    """Rebuild the points, award the rule badges, grant the demo's manual badges. Returns
    what it did (for tests and the log). Running it again changes nothing more."""
    from community_gamification import badges, points

    points.rebuild()
    # The rebuild writes every row now; dating each as what earned it (the vote, the
    # answer) makes the week's and month's boards those of the demo's own history.
    db.session.execute(update(LedgerEntry).values(created_at=LedgerEntry.occurred_at))
    db.session.commit()
    badges.evaluate_all(notify_members=False)
    granted = grant_manual_badges(seed)
    db.session.commit()
    return {"manual_awards": granted}


def grant_manual_badges(seed: int) -> int:
    rng = random.Random(f"gamification-{seed}")
    admin = db.session.scalar(
        select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id).limit(1)
    )
    members = list(
        db.session.scalars(
            select(User)
            .where(User.role == "member", User.is_staff.is_(False), User.active.is_(True))
            .order_by(User.id)
            .limit(40)
        )
    )
    if not members:
        return 0
    granted = 0
    for slug, name, description, count in MANUAL_BADGES:
        definition = db.session.scalar(select(BadgeDefinition).where(BadgeDefinition.slug == slug))
        if definition is None:
            definition = BadgeDefinition(slug=slug, name=name, description=description)
            db.session.add(definition)
            db.session.commit()
        key = f"manual:{slug}"
        holders = set(db.session.scalars(select(Award.user_id).where(Award.badge == key)))
        for member in rng.sample(members, min(count, len(members))):
            if member.id in holders:
                continue
            granted += _grant(member, definition, admin, description)
    db.session.flush()
    return granted


def _grant(member: Any, definition: BadgeDefinition, admin: Any, reason: str) -> int:
    """As the administrator grants it (audited, the member notified); written directly when
    the demo has no administrator."""
    from community_gamification import badges

    if admin is not None:
        return 1 if badges.grant(admin, member, definition, reason) is not None else 0
    db.session.add(Award(user_id=member.id, badge=f"manual:{definition.slug}", reason=reason))
    return 1
