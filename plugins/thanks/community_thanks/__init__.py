"""Members say thanks for answers: a "Say thanks" button under each answer, a page of the
latest thanks, and a thanks recorded when the asker accepts an answer."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from community.plugins import Setting, hookimpl, plugin_settings, plugin_static_url
from community_thanks import services
from community_thanks.views import bp

NAME = "thanks"


@hookimpl
def community_app_created(app):
    # Called at start-up whether the plugin is enabled or not: core answers 404 for the
    # blueprint's routes while the plugin is disabled.
    app.register_blueprint(bp)


@hookimpl
def community_plugin_settings():
    return [
        Setting(
            "label",
            _l("Button text"),
            "Say thanks",
            required=True,
            max_length=40,
            help=_l("The words on the button under each answer."),
        ),
        Setting(
            "thank_on_accept",
            _l("Accepting an answer also thanks its author"),
            True,
            kind="boolean",
        ),
        Setting("per_page", _l("Thanks per page"), 20, kind="integer", min=5, max=100),
    ]


@hookimpl
def community_template_slot(slot, context):
    if slot == "head":
        return Markup('<link rel="stylesheet" href="%s">') % plugin_static_url(NAME, "thanks.css")
    if slot == "nav":
        return Markup('<li><a href="%s">%s</a></li>') % (url_for("thanks.index"), _("Thanks"))
    if slot == "post.footer":
        post, topic = context["post"], context["topic"]
        if not topic.is_question or post.is_opening:
            return None
        if post.deleted_at is not None or post.held_at is not None:
            return None  # deleted, or waiting for a moderator's review
        counts, mine = services.thanks_on_topic(topic.id)
        return render_template(
            "thanks/footer.html",
            post=post,
            count=counts.get(post.id, 0),
            thanked=post.id in mine,
            may_thank=services.may_thank(post, topic),
            label=plugin_settings(NAME)["label"],
        )
    return None


@hookimpl
def community_answer_accepted(answer, actor):
    if plugin_settings(NAME)["thank_on_accept"] and actor.id != answer.author_id:
        services.thank(actor, answer, on_accept=True)
