"""The plugin's settings, edited on its admin page (Admin → Plugins → moderation)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from community.plugins import Setting, plugin_settings

NAME = "moderation"


def _limits_problem(value: str) -> str | None:
    from limits import parse_many

    if not value.strip():
        return None
    try:
        parse_many(value)
    except ValueError:
        return str(_l('Write limits like "5/minute;50/hour".'))
    return None


def _limit(key: str, label, default: str, help=""):
    return Setting(key, label, default, max_length=100, help=help, validate=_limits_problem)


SETTINGS = [
    # Flags and auto-hide
    Setting(
        "auto_hide_flags",
        _l("Hide a post after flags from this many members"),
        3,
        kind="integer",
        min=1,
        max=100,
        help=_l("It stays hidden until a moderator decides. 1 hides at the first flag."),
    ),
    Setting(
        "weigh_by_trust",
        _l("Weigh flags by the flagger's trust level"),
        True,
        kind="boolean",
        help=_l(
            "When a plugin rates members' trust (e.g. gamification levels), a trusted member's "
            "flag counts for more: 1 + 0.5 per level above 1."
        ),
    ),
    # Newcomers and pre-moderation
    Setting(
        "newcomer_days",
        _l("Accounts are newcomers for this many days"),
        3,
        kind="integer",
        min=0,
        max=365,
        help=_l("Newcomers get stricter rate limits and link limits. Trust level 2 ends it early."),
    ),
    Setting(
        "premod_first_posts",
        _l("Review the first posts of every account"),
        0,
        kind="integer",
        min=0,
        max=50,
        help=_l("A member's first this many posts wait for a moderator's approval. 0: none."),
    ),
    Setting(
        "premoderated_spaces",
        _l("Pre-moderated spaces"),
        "",
        max_length=2000,
        help=_l(
            "Addresses (slugs) of spaces where every post waits for approval, "
            "separated by commas or spaces."
        ),
    ),
    # Filters
    Setting(
        "blocked_words",
        _l("Blocked words"),
        "",
        kind="textarea",
        max_length=20000,
        help=_l("One per line: a post containing one is refused, with the word named."),
    ),
    Setting(
        "approval_words",
        _l("Words that need approval"),
        "",
        kind="textarea",
        max_length=20000,
        help=_l("One per line: a post containing one waits for a moderator."),
    ),
    Setting(
        "replaced_words",
        _l("Replaced words"),
        "",
        kind="textarea",
        max_length=20000,
        help=_l('One per line, "word = replacement" (no replacement: ***). Shown replaced.'),
    ),
    Setting(
        "newcomer_max_links",
        _l("Links a newcomer may put in a post"),
        2,
        kind="integer",
        min=0,
        max=100,
    ),
    Setting(
        "duplicate_hours",
        _l("Refuse the same text posted twice within this many hours"),
        24,
        kind="integer",
        min=0,
        max=720,
        help=_l("0: no duplicate check."),
    ),
    # Rate limits (per member; the per-address limit counts every write from one address)
    _limit("limit_posts", _l("Replies and comments per member"), "6/minute;60/hour"),
    _limit("limit_posts_newcomer", _l("Replies and comments per newcomer"), "2/minute;15/hour"),
    _limit("limit_topics", _l("New topics per member"), "3/minute;20/hour"),
    _limit("limit_topics_newcomer", _l("New topics per newcomer"), "1/minute;5/hour"),
    _limit("limit_votes", _l("Votes per member"), "30/minute;300/hour"),
    _limit("limit_votes_newcomer", _l("Votes per newcomer"), "10/minute;60/hour"),
    _limit("limit_flags", _l("Flags per member"), "10/minute;60/hour"),
    _limit("limit_flags_newcomer", _l("Flags per newcomer"), "3/minute;10/hour"),
    _limit(
        "limit_ip_writes",
        _l("Writes per IP address"),
        "60/minute;600/hour",
        help=_l("Posts, topics, votes and flags from one address, whoever is signed in."),
    ),
    _limit("limit_registrations", _l("Sign-ups per IP address"), "5/hour;20/day"),
]


def settings() -> dict:
    return plugin_settings(NAME)


def word_list(key: str) -> list[str]:
    """The non-empty lines of a textarea setting, lowercased and stripped."""
    return [line.strip().lower() for line in settings()[key].splitlines() if line.strip()]


def slug_list(key: str) -> set[str]:
    return {part.lower() for part in re.split(r"[,\s]+", settings()[key]) if part}
