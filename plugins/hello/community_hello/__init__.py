"""Welcomes newcomers: a banner on the home page, a page of members' first topics, and a
"New here" badge for a month after someone's first topic.

This is the example plugin that ``docs/plugins.md`` builds step by step.
"""

from __future__ import annotations

from datetime import timedelta

from flask import render_template
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from community.dbtypes import utcnow
from community.extensions import db
from community.plugins import Badge, Setting, hookimpl, plugin_settings, plugin_static_url
from community_hello.models import Newcomer
from community_hello.views import bp

NAME = "hello"


@hookimpl
def community_app_created(app):
    app.register_blueprint(bp)


@hookimpl
def community_plugin_settings():
    return [
        Setting(
            "message",
            _l("Banner message"),
            "New here? Ask your first question: the community is glad to help.",
            required=True,
            max_length=200,
            help=_l("Shown to everyone on the home page."),
        ),
        Setting("show_banner", _l("Show the banner"), True, kind="boolean"),
        Setting(
            "badge_days",
            _l("Days the “New here” badge is shown"),
            30,
            kind="integer",
            min=0,
            max=365,
            help=_l("0 turns the badge off."),
        ),
    ]


@hookimpl
def community_template_slot(slot, context):
    if slot == "head":
        return Markup('<link rel="stylesheet" href="%s">') % plugin_static_url(NAME, "hello.css")
    if slot == "home.sidebar":
        settings = plugin_settings(NAME)
        if settings["show_banner"]:
            return render_template("hello/banner.html", message=settings["message"])
    return None


@hookimpl
def community_topic_created(topic, post):
    """Remember each member's first topic. The unique constraint on user_id decides what is
    "first" even when two topics are created at once."""
    try:
        with db.session.begin_nested():
            db.session.add(Newcomer(user_id=topic.author_id, topic_id=topic.id))
    except IntegrityError:
        pass  # not their first topic
    db.session.commit()


@hookimpl
def community_user_badges(users):
    days = plugin_settings(NAME)["badge_days"]
    if not days:
        return None
    since = utcnow() - timedelta(days=days)
    ids = db.session.scalars(
        select(Newcomer.user_id).where(
            Newcomer.user_id.in_([user.id for user in users]), Newcomer.created_at >= since
        )
    )
    badge = Badge(_l("New here"), "newcomer", _l("Asked their first question recently"))
    return {user_id: [badge] for user_id in ids}
