"""Rate limits: how many posts, topics, votes, flags and sign-ups per member and per address.

Counted in the site's rate-limit storage through core's ``hit_rate_limit`` (memory in one
process; Redis shared by every web process when ``RATELIMIT_STORAGE_URI`` points at it), so
two processes behind a load balancer share one count.

- per member: ``limit_posts`` (answers, replies, comments), ``limit_topics``, ``limit_votes``,
  ``limit_flags``; newcomers get the ``*_newcomer`` settings instead;
- per IP address: every write (post, topic, vote, flag) counts against ``limit_ip_writes``;
- per IP address: sign-ups against ``limit_registrations``.

Only writes that create count (an edit does not). Staff, global moderators and moderators of
the space written in are not limited. A write the limits refuse is not counted; a write a
later gate refuses (e.g. a blocked word) was counted, which also slows down someone retrying.
"""

from __future__ import annotations

import math
from typing import Any

from flask import has_request_context
from flask_babel import gettext as _
from flask_babel import ngettext

from community.plugins import hit_rate_limit
from community_moderation.common import is_newcomer, is_staffish, moderated_space_ids
from community_moderation.settings import settings

# Which member limit a post-gate action counts against.
POST_ACTIONS = {"post.create": "posts", "comment.create": "posts", "topic.create": "topics"}


def humanize_wait(seconds: int | float) -> str:
    """ "3 minutes", "40 seconds", "2 hours": rounded up, in the current language."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    if seconds < 3600:
        minutes = math.ceil(seconds / 60)
        return ngettext("%(num)d minute", "%(num)d minutes", minutes)
    hours = math.ceil(seconds / 3600)
    return ngettext("%(num)d hour", "%(num)d hours", hours)


def _address() -> str | None:
    if not has_request_context():
        return None
    from flask_limiter.util import get_remote_address

    return get_remote_address() or None


def _hit(name: str, limits: str, key: str) -> int | None:
    limits = (limits or "").strip()
    if not limits:
        return None
    return hit_rate_limit(name, limits, key)


def _check(user: Any, kind: str) -> int | None:
    """Count one write of ``kind`` by ``user`` (member limit, then address limit); the
    seconds to wait when one is over, else None."""
    values = settings()
    key = f"limit_{kind}_newcomer" if is_newcomer(user) else f"limit_{kind}"
    wait = _hit(f"moderation.{kind}", values[key], f"user:{user.id}")
    if wait is not None:
        return wait
    address = _address()
    if address:
        return _hit("moderation.ip_writes", values["limit_ip_writes"], f"ip:{address}")
    return None


def _exempt(user: Any, space: Any = None) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if is_staffish(user):
        return True
    return space is not None and space.id in moderated_space_ids(user)


# --- gates -----------------------------------------------------------------------------------


def post_gate(user, action, space=None, **_kw) -> str | None:
    kind = POST_ACTIONS.get(action)
    if kind is None or _exempt(user, space):
        return None
    wait = _check(user, kind)
    if wait is None:
        return None
    if kind == "topics":
        return _(
            "You are starting topics too fast. You can start another in %(wait)s.",
            wait=humanize_wait(wait),
        )
    return _("You are posting too fast. You can post again in %(wait)s.", wait=humanize_wait(wait))


def vote_gate(user) -> str | None:
    if _exempt(user):
        return None
    wait = _check(user, "votes")
    if wait is None:
        return None
    return _("You are voting too fast. You can vote again in %(wait)s.", wait=humanize_wait(wait))


def flag_limit(user) -> str | None:
    """Count one flag by ``user``: a refusal sentence when over the member's or the address's
    limit, else None."""
    if _exempt(user):
        return None
    wait = _check(user, "flags")
    if wait is None:
        return None
    return _("You are flagging too fast. You can flag again in %(wait)s.", wait=humanize_wait(wait))


def registration_gate(address) -> str | None:
    if not address:
        return None
    wait = _hit("moderation.registrations", settings()["limit_registrations"], f"ip:{address}")
    if wait is None:
        return None
    return _(
        "Too many accounts were created from your address. You can sign up again in %(wait)s.",
        wait=humanize_wait(wait),
    )
