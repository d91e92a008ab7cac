"""Core's own badges (staff, moderator, admin), given through the same hook plugins use."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from community.hookspecs import hookimpl


@hookimpl(trylast=True)
def community_user_badges(users: list[Any]) -> dict[int, list[Any]]:
    from community.plugins import Badge

    badges: dict[int, list[Any]] = {}
    for user in users:
        mine = []
        if user.is_staff:
            mine.append(Badge(_("Staff"), "staff", _("Works for the brand")))
        if user.is_admin:
            mine.append(Badge(_("Admin"), "mod"))
        elif user.is_global_moderator:
            mine.append(Badge(_("Moderator"), "mod"))
        if mine:
            badges[user.id] = mine
    return badges
