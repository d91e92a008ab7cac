"""The plugin's settings, edited on its admin page (Admin → Plugins → ideation)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from community.plugins import Setting, plugin_settings
from community_ideation.workflow import (
    DEFAULT_STATUSES,
    DEFAULT_TRANSITIONS,
    parse,
    parse_statuses,
    parse_transitions,
)

NAME = "ideation"


def _statuses_problem(value: str) -> str | None:
    try:
        parse(value, "")
    except ValueError as exc:
        return str(exc)
    return None


def _transitions_problem(value: str, earlier: dict) -> str | None:
    # Checked against the statuses saved with it (the defaults while those are invalid).
    try:
        keys = {s.key for s in parse_statuses(earlier.get("statuses") or DEFAULT_STATUSES)}
        parse_transitions(value, keys)
    except ValueError as exc:
        return str(exc)
    return None


def _response_problem(value: str, earlier: dict) -> str | None:
    try:
        keys = {s.key for s in parse_statuses(earlier.get("statuses") or DEFAULT_STATUSES)}
    except ValueError:
        return None
    unknown = sorted({k.strip() for k in value.split(",") if k.strip()} - keys)
    if unknown:
        return _("There is no status %(key)s.", key=", ".join(unknown))
    return None


SETTINGS = [
    Setting(
        "statuses",
        _l("Statuses"),
        DEFAULT_STATUSES,
        kind="textarea",
        max_length=4000,
        validate=_statuses_problem,
        help=_l(
            "One per line: key | Name | #colour | open or closed. Voting stops on closed "
            "statuses, and their votes return to the members' budgets."
        ),
    ),
    Setting(
        "transitions",
        _l("Allowed changes of status"),
        DEFAULT_TRANSITIONS,
        kind="textarea",
        max_length=4000,
        validate=_transitions_problem,
        help=_l("One per line: from -> to, to. “* -> duplicate” allows it from every status."),
    ),
    Setting(
        "response_required",
        _l("Statuses that need an official response"),
        "declined, shipped, duplicate",
        max_length=400,
        validate=_response_problem,
        help=_l("Their keys, separated by commas."),
    ),
    Setting(
        "vote_budget",
        _l("Active votes a member has in each space"),
        0,
        kind="integer",
        min=0,
        max=1000,
        help=_l("0: no limit. A vote returns when its idea ships or is declined."),
    ),
    Setting("webhook_url", _l("Webhook address"), "", max_length=500),
    Setting("webhook_secret", _l("Webhook secret (for the HMAC signature)"), "", max_length=200),
]


def settings() -> dict:
    return plugin_settings(NAME)
