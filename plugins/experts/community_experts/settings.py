"""The plugin's settings, edited on its admin page (Admin → Plugins → experts). A space's
moderators change that space's routing on the space's expert page; these are the defaults."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from community.plugins import Setting, plugin_settings

NAME = "experts"

ROUTING_MODES = [
    ("round_robin", _l("Round-robin: the expert asked longest ago first")),
    ("availability", _l("By availability: the expert with the fewest open questions first")),
]

SETTINGS = [
    Setting(
        "window_days",
        _l("Expertise counts what happened in the last this many days"),
        180,
        kind="integer",
        min=7,
        max=3650,
    ),
    Setting(
        "min_accepted",
        _l("Accepted answers needed to be an expert in a space or tag"),
        3,
        kind="integer",
        min=1,
        max=1000,
    ),
    Setting(
        "accepted_weight",
        _l("What an accepted answer weighs, in votes"),
        5,
        kind="integer",
        min=0,
        max=100,
    ),
    Setting(
        "min_score",
        _l("Score needed to be an expert"),
        20,
        kind="integer",
        min=0,
        max=100000,
        help=_l(
            "Score: accepted answers times their weight, plus the votes on the member's "
            "answers (up minus down), in the window. Both this and the accepted answers are "
            "needed."
        ),
    ),
    Setting(
        "route_after_minutes",
        _l("Offer a question to experts when it has no answer after this many minutes"),
        60,
        kind="integer",
        min=1,
        max=10080,
        help=_l("The default of spaces whose moderators did not set their own."),
    ),
    Setting(
        "routing_mode",
        _l("How experts are chosen"),
        "round_robin",
        kind="choice",
        choices=ROUTING_MODES,
    ),
    Setting(
        "per_round",
        _l("Experts asked at a time"),
        2,
        kind="integer",
        min=1,
        max=20,
    ),
    Setting(
        "max_rounds",
        _l("Rounds of asking"),
        3,
        kind="integer",
        min=1,
        max=20,
        help=_l(
            "While a question stays unanswered, more experts are asked every time the same "
            "number of minutes passes again, up to this many rounds."
        ),
    ),
    Setting(
        "max_open_offers",
        _l("Most unanswered questions offered to one expert at a time"),
        5,
        kind="integer",
        min=1,
        max=100,
    ),
    Setting(
        "max_question_age_hours",
        _l("Questions older than this many hours are not offered"),
        72,
        kind="integer",
        min=1,
        max=2160,
    ),
    Setting(
        "metrics_days",
        _l("Response metrics cover the last this many days"),
        90,
        kind="integer",
        min=1,
        max=3650,
    ),
]


def settings() -> dict:
    return plugin_settings(NAME)
