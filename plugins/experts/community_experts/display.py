"""What the plugin shows on core's pages: "Expert · Routers" next to names, the menu links,
the expertise card on profiles, a space's experts beside its topics, and the stylesheets.

On a page about a space (a topic, the space itself) a member's badge names the nearest space
they are an expert in, that space or one it is inside; elsewhere (home, profiles, search)
their badges name up to two spaces they are experts in, among those the visitor may see, so
that a badge never tells of a space someone may not see.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from community.accounts.models import User
from community.dbtypes import utcnow
from community.extensions import db
from community.permissions import all_spaces, visible_space_ids
from community.plugins import Badge, plugin_static_url
from community.topics.models import Tag
from community_experts import expertise
from community_experts.models import SPACE, TAG, Availability
from community_experts.settings import settings

NAME = "experts"
CACHE = "experts_display_expertise"
MAX_BADGES = 2


def expertise_cached(user_ids: Iterable[int]) -> dict[int, list[expertise.Expertise]]:
    """:func:`expertise.expertise_of`, kept on ``flask.g`` for the rest of the request."""
    cache: dict[int, list[expertise.Expertise]] = g.setdefault(CACHE, {})
    todo = [uid for uid in dict.fromkeys(user_ids) if uid and uid not in cache]
    if todo:
        found = expertise.expertise_of(todo)
        cache.update({uid: found.get(uid, []) for uid in todo})
    return {uid: cache.get(uid, []) for uid in user_ids if uid}


def badge_for(entry: expertise.Expertise, title: str) -> Badge:
    days = settings()["window_days"]
    if entry.earned:
        explanation = ngettext(
            "Expert in %(space)s: %(num)d accepted answer in the last %(days)d days",
            "Expert in %(space)s: %(num)d accepted answers in the last %(days)d days",
            entry.accepted,
            space=title,
            days=days,
        )
    else:
        explanation = _("Made an expert in %(space)s by its moderators", space=title)
    return Badge(_("Expert · %(space)s", space=title), "expert", explanation)


def user_badges(users: Iterable[Any], space: Any) -> dict[int, list[Badge]] | None:
    """The ``community_user_badges`` hook."""
    # Suspended members keep their posts but lose their badges, as they leave the directory.
    ids = [
        user.id
        for user in users
        if user is not None and getattr(user, "id", None) and getattr(user, "active", True)
    ]
    if not ids:
        return None
    spaces = all_spaces()
    found = expertise_cached(ids)
    result: dict[int, list[Badge]] = {}
    visible = set(visible_space_ids())
    if space is not None:
        # The space and those it is inside, that the visitor may see (a moderator may see a
        # space inside a staff-only one).
        chain = [sid for sid in expertise.covering(space.id) if sid in visible]
        for user_id, entries in found.items():
            in_chain = {e.scope_id: e for e in entries if e.scope == SPACE}
            nearest = next((sid for sid in chain if sid in in_chain), None)
            if nearest is not None and nearest in spaces:
                result[user_id] = [badge_for(in_chain[nearest], spaces[nearest].title)]
        return result
    for user_id, entries in found.items():
        mine = sorted(
            (e for e in entries if e.scope == SPACE and e.scope_id in visible),
            key=lambda e: (not e.granted, -e.accepted, spaces[e.scope_id].title),
        )
        if mine:
            result[user_id] = [badge_for(e, spaces[e.scope_id].title) for e in mine[:MAX_BADGES]]
    return result


# --- slots -----------------------------------------------------------------------------------


def slot(slot: str, context: dict[str, Any]) -> Markup | str | None:
    if slot == "head":
        return Markup('<link rel="stylesheet" href="%s">\n<link rel="stylesheet" href="%s">') % (
            plugin_static_url(NAME, "experts.css"),
            plugin_static_url(NAME, "routing.css"),
        )
    if slot == "nav":
        return nav()
    if slot == "user.profile":
        return profile_card(context["user"])
    if slot == "space.sidebar":
        return space_sidebar(context["space"])
    if slot == "topic.sidebar":
        return offer_panel(context["topic"])
    return None


def offer_panel(topic: Any) -> str | None:
    """Beside a question offered to the visitor and still waiting: why they are asked, and
    the way to pass on it."""
    from community_experts import routing
    from community_experts.models import OPEN

    if not current_user.is_authenticated or topic.kind != "question":
        return None
    offer = routing.offer_of(current_user.id, topic.id)
    if offer is None or offer.state != OPEN:
        return None
    return render_template("experts/display_offer.html", topic=topic, offer=offer)


def nav() -> Markup:
    from community_experts import routing

    endpoint = request.endpoint or ""
    links = Markup('<li><a href="%s"%s>%s</a></li>') % (
        url_for("experts.index"),
        Markup(' aria-current="page"') if endpoint.startswith("experts.") else "",
        _("Experts"),
    )
    if current_user.is_authenticated:
        waiting = routing.open_offer_count(current_user)
        if waiting:
            label = ngettext(
                "%(num)d question without an answer was offered to you",
                "%(num)d questions without an answer were offered to you",
                waiting,
            )
            here = endpoint == "experts_routing.unanswered"
            links += Markup('<li><a href="%s" class="experts-waiting" title="%s"%s>%s</a></li>') % (
                url_for("experts_routing.unanswered"),
                label,
                Markup(' aria-current="page"') if here else "",
                _("Waiting for you (%(num)d)", num=waiting),
            )
    return links


def profile_card(user: Any) -> str | None:
    """The member's expertise, in the spaces and tags the visitor may see."""
    entries = expertise_cached([user.id]).get(user.id, [])
    visible = set(visible_space_ids())
    spaces = all_spaces()
    in_spaces = sorted(
        (e for e in entries if e.scope == SPACE and e.scope_id in visible),
        key=lambda e: spaces[e.scope_id].title,
    )
    tag_entries = [e for e in entries if e.scope == TAG]
    tags = {}
    if tag_entries:
        tags = {
            t.id: t.name
            for t in db.session.scalars(
                select(Tag).where(Tag.id.in_([e.scope_id for e in tag_entries]))
            )
        }
    own = current_user.is_authenticated and current_user.id == user.id
    if not in_spaces and not tag_entries and not own:
        return None
    return render_template(
        "experts/display_profile.html",
        user=user,
        in_spaces=[(e, spaces[e.scope_id]) for e in in_spaces],
        in_tags=sorted(
            ((e, tags[e.scope_id]) for e in tag_entries if e.scope_id in tags),
            key=lambda pair: pair[1],
        ),
        own=own,
        away=away_of(user.id) if own else None,
        window_days=settings()["window_days"],
    )


def away_of(user_id: int) -> Availability | None:
    """The member's "away" row while it lasts."""
    row = db.session.get(Availability, user_id)
    if row is None or (row.until is not None and row.until <= utcnow()):
        return None
    return row


def space_sidebar(space: Any) -> str | None:
    """A space's experts (up to five) beside its topics, with the way to its directory."""
    visible = set(visible_space_ids())
    chain = [sid for sid in expertise.covering(space.id) if sid in visible]
    by_space = expertise.experts_in(chain)
    ids = set().union(*by_space.values()) if by_space else set()
    if not ids:
        return None
    people = list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.username)))
    standing = expertise_cached([p.id for p in people])
    here = {
        p.id: max(
            (
                e.accepted
                for e in standing.get(p.id, [])
                if e.scope == SPACE and e.scope_id in chain
            ),
            default=0,
        )
        for p in people
    }
    people.sort(key=lambda p: (-here[p.id], p.username.lower()))
    return render_template(
        "experts/display_sidebar.html",
        space=space,
        people=people[:5],
        more=max(0, len(people) - 5),
    )
