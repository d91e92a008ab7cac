"""Ideation: an idea workflow with official responses, vote budgets, duplicates, a public
roadmap, releases, closing the loop with voters, export, webhooks and insight.

Built on core's public hooks only.
"""

from __future__ import annotations

from community.plugins import hookimpl
from community_ideation import models as models  # the tables, for migrations
from community_ideation import team, voting
from community_ideation.settings import SETTINGS

NAME = "ideation"


@hookimpl
def community_app_created(app):
    from community_ideation import views_roadmap
    from community_ideation.web_ideas import bp

    app.register_blueprint(bp)
    views_roadmap.register(app)
    from community_ideation.cli import ideation_group

    app.cli.add_command(ideation_group)


@hookimpl
def community_plugin_settings():
    return SETTINGS


@hookimpl
def community_permission(user, action, obj):
    return team.permission(user, action, obj)


@hookimpl
def community_vote_gate(user, post, value):
    return voting.vote_gate(user, post, value)


@hookimpl
def community_template_slot(slot, context):
    from community_ideation import display, web_ideas

    if slot == "topic.header":
        return web_ideas.header(context["topic"])
    if slot == "topic.sidebar":
        return web_ideas.sidebar(context["topic"])
    return display.slot(slot, context)


@hookimpl
def community_vote_retracted(user, post, value):
    if post.is_opening and post.topic.is_idea:
        from community_ideation import importance

        importance.forget(user.id, post.topic_id)


@hookimpl
def community_idea_votes_moved(source, target, actor, source_post, target_post):
    from community_ideation import importance

    importance.move(source.id, target.id)


@hookimpl
def community_topic_created(topic, post):
    if topic.kind == "idea":
        from community_ideation import webhook

        webhook.queue_event("idea.created", topic)


@hookimpl
def community_idea_status_changed(topic, actor, previous_status, note):
    from community_ideation import changes, webhook

    change = changes.record(topic, actor, previous_status, note)
    webhook.queue_event("idea.status_changed", topic, previous_status, change.response_source)


@hookimpl
def community_idea_status_label(status):
    from community_ideation.changes import current_workflow

    found = current_workflow().status(status)
    return found.label if found is not None else None


@hookimpl
def community_demo_generated(seed):
    from community_ideation import demo

    demo.generate(seed)
