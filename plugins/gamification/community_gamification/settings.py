"""The plugin's settings, edited on its admin page (Admin → Plugins → gamification)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from community.plugins import Setting, plugin_settings

NAME = "gamification"


def _points(key: str, label, default: int, help=""):
    return Setting(key, label, default, kind="integer", min=-1000, max=1000, help=help)


def _levels_problem(value: str) -> str | None:
    from community_gamification.levels import parse_levels

    try:
        parse_levels(value)
    except ValueError as exc:
        return str(exc)
    return None


SETTINGS = [
    # Points per event
    _points("points_answer_accepted", _l("Answer accepted: to its author"), 15),
    _points("points_asker_accepted", _l("Answer accepted: to the asker who accepted it"), 2),
    _points("points_answer_upvoted", _l("Answer or reply voted up"), 10),
    _points("points_answer_downvoted", _l("Answer or question voted down: to its author"), -2),
    _points("points_downvote_cast", _l("Voting down: to the voter"), -1),
    _points("points_question_upvoted", _l("Question or discussion voted up"), 5),
    _points("points_idea_voted", _l("Idea voted: to its author"), 2),
    _points("points_idea_shipped", _l("Idea shipped: to its author"), 50),
    _points("points_first_answer_in_space", _l("First answer in a space"), 5),
    Setting(
        "shipped_status",
        _l("The status of a shipped idea"),
        "shipped",
        required=True,
        max_length=32,
        help=_l("An idea earns its author the shipped points when its status becomes this."),
    ),
    Setting(
        "daily_vote_cap",
        _l("Most points a member earns from votes in a day"),
        200,
        kind="integer",
        min=0,
        max=100000,
        help=_l("0: no cap. Accepted answers and shipped ideas are not capped."),
    ),
    Setting(
        "min_voter_age_days",
        _l("Votes from accounts younger than this many days give no points"),
        0,
        kind="integer",
        min=0,
        max=365,
    ),
    # Levels and what they unlock
    Setting(
        "levels",
        _l("Levels"),
        "Newcomer = 0\nMember = 50\nRegular = 250\nLeader = 1000",
        kind="textarea",
        max_length=2000,
        validate=_levels_problem,
        help=_l('One per line, "Name = points needed", from the first level (0 points) up.'),
    ),
    Setting(
        "downvote_level",
        _l("Level needed to vote down"),
        2,
        kind="integer",
        min=1,
        max=20,
    ),
    Setting(
        "edit_others_level",
        _l("Level needed to edit others' posts (wiki-style)"),
        4,
        kind="integer",
        min=1,
        max=21,
        help=_l("A level above the last one turns it off."),
    ),
    Setting(
        "exclude_staff",
        _l("Leave staff out of leaderboards"),
        True,
        kind="boolean",
    ),
]


def settings() -> dict:
    return plugin_settings(NAME)
