"""Experts: expert badges per space and tag, earned from accepted answers and answer votes or
granted by admins and space moderators; unanswered questions offered to a space's experts;
and each space's response metrics.

Built on core's public hooks only; this file connects the hooks to the modules.
"""

from __future__ import annotations

from community.plugins import hookimpl
from community_experts import display, expertise, routing
from community_experts import models as models  # the tables, for migrations
from community_experts.notifications import NOTIFICATION_KINDS
from community_experts.settings import SETTINGS

NAME = "experts"


@hookimpl
def community_app_created(app):
    from community_experts.cli import experts_group
    from community_experts.views import register

    register(app)
    app.cli.add_command(experts_group)


@hookimpl
def community_plugin_settings():
    return SETTINGS


@hookimpl
def community_notification_kinds():
    return NOTIFICATION_KINDS


# --- events: expertise -----------------------------------------------------------------------


@hookimpl
def community_answer_accepted(topic, answer, actor, previous_answer):
    expertise.handle("answer_accepted", answer=answer, previous_answer=previous_answer)


@hookimpl
def community_answer_unaccepted(topic, answer, actor):
    expertise.handle("answer_unaccepted", answer=answer)


@hookimpl
def community_vote_cast(vote, post, previous_value):
    expertise.handle("vote_cast", post=post)


@hookimpl
def community_vote_retracted(user, post, value):
    expertise.handle("vote_retracted", post=post)


@hookimpl
def community_post_deleted(post, actor):
    expertise.handle("post_deleted", post=post)
    routing.handle("post_deleted", post=post)


@hookimpl
def community_post_restored(post, actor):
    expertise.handle("post_restored", post=post)


@hookimpl
def community_post_hidden(post, actor, reason):
    expertise.handle("post_hidden", post=post)


@hookimpl
def community_post_unhidden(post, actor):
    expertise.handle("post_unhidden", post=post)
    routing.handle("post_published", post=post)


@hookimpl
def community_topic_retagged(topic, editor, previous_tags):
    expertise.handle("topic_retagged", topic=topic)


@hookimpl
def community_topic_moved(topic, actor, previous_space):
    expertise.handle("topic_moved", topic=topic)
    routing.handle("topic_moved", topic=topic)


@hookimpl
def community_topic_merged(source, target, actor):
    expertise.handle("topic_merged", source=source, target=target)
    routing.handle("topic_merged", source=source, target=target)


@hookimpl
def community_topic_split(source, target, actor, post_ids):
    expertise.handle("topic_split", source=source, target=target)


# --- events: routing -------------------------------------------------------------------------


@hookimpl
def community_post_created(post):
    routing.handle("post_published", post=post)


@hookimpl
def community_user_suspended(user, actor, reason):
    routing.handle("user_suspended", user=user)


@hookimpl
def community_audited(actor, action, target, after):
    expertise.on_audited(action, target, after)


@hookimpl
def community_demo_generated(seed):
    from community_experts import demo

    demo.generate(seed)


# --- display ---------------------------------------------------------------------------------


@hookimpl
def community_user_badges(users, space):
    return display.user_badges(users, space)


@hookimpl
def community_template_slot(slot, context):
    return display.slot(slot, context)
