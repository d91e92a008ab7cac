"""What the plugin adds to core's pages: its stylesheets (the plugin's, and one generated from
the statuses' colours), a "Roadmap" link in the menu, and the ways to an idea space's roadmap,
product team, insight and export beside its topics."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from community.plugins import plugin_static_url
from community_ideation import insight, team
from community_ideation.settings import settings
from community_ideation.workflow import Workflow

NAME = "ideation"


def statuses_css(flow: Workflow) -> str:
    """Each status's colour on core's status badges (``.status-<key>``) and the plugin's own:
    a tinted background and border, with the theme's text colour (readable in light and dark
    themes alike)."""
    lines = ["/* Generated from the ideation plugin's statuses setting. */"]
    for status in flow.statuses:
        lines.append(
            f".badge-status.status-{status.key} {{ background: {status.colour}26; "
            f"border: 1px solid {status.colour}; color: var(--text, inherit); }}"
        )
    return "\n".join(lines) + "\n"


def statuses_version() -> str:
    """Changes when the statuses do: the stylesheet's address carries it (cached for long)."""
    return hashlib.sha256(settings()["statuses"].encode("utf-8")).hexdigest()[:12]


def slot(slot: str, context: dict[str, Any]) -> Markup | str | None:
    if slot == "head":
        return Markup('<link rel="stylesheet" href="%s">\n<link rel="stylesheet" href="%s">') % (
            plugin_static_url(NAME, "ideation.css"),
            url_for("ideation.statuses_stylesheet", v=statuses_version()),
        )
    if slot == "nav":
        here = (request.endpoint or "").startswith(("ideation_roadmap.", "ideation_releases."))
        return Markup('<li><a href="%s"%s>%s</a></li>') % (
            url_for("ideation_roadmap.index"),
            Markup(' aria-current="page"') if here else "",
            _("Roadmap"),
        )
    if slot == "space.sidebar":
        return space_sidebar(context["space"])
    return None


def space_sidebar(space: Any) -> str | None:
    """For a space of ideas: its roadmap and product team, and for those who may, its
    insight and the export."""
    if space.default_kind != "idea":
        return None
    user = current_user._get_current_object()
    return render_template(
        "ideation/space_sidebar.html",
        space=space,
        team=team.members_with_users(space),
        may_see_insight=insight.may_view_insight(user, space),
    )
