"""Demo data for ``community demo --enable-plugin experts``.

Core's demo writes its rows in bulk, without firing events, so the plugin works out every
member's expertise afterwards (what ``community experts rebuild`` does). Then the demo's
administrator makes two employees experts where a company would (a firmware engineer in
Routers, the billing lead in Account & billing), each product space gets routing after 30
minutes, and the questions of the last days that still wait are offered to experts.
"""

from __future__ import annotations

from sqlalchemy import select

from community.accounts.models import User
from community.extensions import db
from community.spaces.models import Space
from community_experts.models import Grant, SpaceRouting

# (username, space slug, reason): experts an administrator names.
GRANTS = [
    ("luca.engineer", "routers", "Firmware engineer on the NetHome router team."),
    ("luca.engineer", "mesh-wifi", "Firmware engineer on the NetHome router team."),
    ("sam.support", "billing", "Leads the billing support team."),
    ("marta.product", "mobile-app", "Product manager of the NetHome Go app."),
]
ROUTED_MINUTES = 30


def generate(seed: int) -> dict[str, int]:
    """Returns what it did (for tests and the log). Running it again changes nothing more."""
    from community_experts import expertise, grants, routing

    expertise.rebuild()
    admin = db.session.scalar(
        select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id).limit(1)
    )
    spaces = {s.slug: s for s in db.session.scalars(select(Space))}
    granted = 0
    for username, slug, reason in GRANTS:
        user = db.session.scalar(select(User).where(User.username == username))
        space = spaces.get(slug)
        if user is None or space is None or admin is None:
            continue
        exists = db.session.scalar(
            select(Grant.id).where(Grant.user_id == user.id, Grant.space_id == space.id)
        )
        if exists is None:
            grants.grant(admin, user, space, reason)
            granted += 1
    for space in spaces.values():
        if space.default_kind == "question" and db.session.get(SpaceRouting, space.id) is None:
            db.session.add(
                SpaceRouting(
                    space_id=space.id,
                    enabled=True,
                    after_minutes=ROUTED_MINUTES,
                    mode="round_robin",
                    per_round=2,
                )
            )
    db.session.commit()
    offers = routing.route()
    return {"granted": granted, "offers": offers}
