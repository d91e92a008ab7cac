"""Gamification: points from helping (accepted answers, useful votes, shipped ideas) kept in
an auditable ledger, levels that unlock privileges, badges by rules or granted by admins,
and leaderboards.

Built on core's public hooks only; this file connects the hooks to the modules.
"""

from __future__ import annotations

from community.plugins import hookimpl
from community_gamification import badges, display, levels, points
from community_gamification import models as models  # the tables, for migrations
from community_gamification.settings import SETTINGS

NAME = "gamification"


def _dispatch(event: str, **kwargs) -> None:
    # Points first: badges may count what the points engine recorded.
    points.handle(event, **kwargs)
    badges.handle(event, **kwargs)


@hookimpl
def community_app_created(app):
    from community_gamification.cli import gamification_group
    from community_gamification.views import register

    register(app)
    app.cli.add_command(gamification_group)


@hookimpl
def community_plugin_settings():
    return SETTINGS


# --- events ----------------------------------------------------------------------------------


@hookimpl
def community_vote_cast(vote, post, previous_value):
    _dispatch("vote_cast", vote=vote, post=post, previous_value=previous_value)


@hookimpl
def community_vote_retracted(user, post, value):
    _dispatch("vote_retracted", user=user, post=post, value=value)


@hookimpl
def community_answer_accepted(topic, answer, actor, previous_answer):
    _dispatch(
        "answer_accepted", topic=topic, answer=answer, actor=actor, previous_answer=previous_answer
    )


@hookimpl
def community_answer_unaccepted(topic, answer, actor):
    _dispatch("answer_unaccepted", topic=topic, answer=answer, actor=actor)


@hookimpl
def community_topic_created(topic, post):
    _dispatch("topic_created", topic=topic, post=post)


@hookimpl
def community_post_created(post):
    _dispatch("post_created", post=post)


@hookimpl
def community_post_deleted(post, actor):
    _dispatch("post_deleted", post=post, actor=actor)


@hookimpl
def community_post_restored(post, actor):
    _dispatch("post_restored", post=post, actor=actor)


@hookimpl
def community_post_hidden(post, actor, reason):
    _dispatch("post_hidden", post=post, actor=actor)


@hookimpl
def community_post_unhidden(post, actor):
    _dispatch("post_unhidden", post=post, actor=actor)


@hookimpl
def community_topic_moved(topic, actor, previous_space):
    _dispatch("topic_moved", topic=topic, actor=actor, previous_space=previous_space)


@hookimpl
def community_topic_merged(source, target, actor):
    _dispatch("topic_merged", source=source, target=target, actor=actor)


@hookimpl
def community_idea_votes_moved(source, target, actor, source_post, target_post):
    # The votes of a duplicate idea now count for the original: both authors' points (and
    # the voters', who voted both and lost one vote) are worked out again, as after a merge.
    _dispatch("topic_merged", source=source, target=target, actor=actor)


@hookimpl
def community_topic_split(source, target, actor, post_ids):
    _dispatch("topic_split", source=source, target=target, actor=actor, post_ids=post_ids)


@hookimpl
def community_idea_status_changed(topic, actor, previous_status):
    _dispatch("idea_status_changed", topic=topic, actor=actor, previous_status=previous_status)


@hookimpl
def community_user_suspended(user, actor, reason):
    _dispatch("user_suspended", user=user)


@hookimpl
def community_user_reinstated(user, actor):
    _dispatch("user_reinstated", user=user)


@hookimpl
def community_demo_generated(seed):
    from community_gamification import demo

    demo.generate(seed)


# --- levels and privileges -------------------------------------------------------------------


@hookimpl
def community_permission(user, action, obj):
    return levels.permission(user, action, obj)


@hookimpl
def community_vote_gate(user, post, value):
    return levels.vote_gate(user, post, value)


@hookimpl
def community_user_trust(users):
    return levels.trust(users)


# --- display ---------------------------------------------------------------------------------


@hookimpl
def community_user_badges(users):
    return display.user_badges(users)


@hookimpl
def community_template_slot(slot, context):
    return display.slot(slot, context)


@hookimpl
def community_notification_kinds():
    return badges.NOTIFICATION_KINDS
