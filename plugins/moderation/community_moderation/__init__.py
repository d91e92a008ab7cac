"""Moderation: flags and a review queue, auto-hide, pre-moderation of newcomers and spaces,
word/link/duplicate filters, rate limits, sanctions, crisis mode and an audit log.

Built on core's public hooks and services only (see docs/plugins.md); each concern lives in
its own module and this file only connects the hooks to them.
"""

from __future__ import annotations

from community.plugins import Hold, hookimpl
from community_moderation import audit, crisis, filters, flags, limits, queue, sanctions
from community_moderation import models as models  # the tables, for migrations
from community_moderation.settings import SETTINGS

NAME = "moderation"


@hookimpl
def community_app_created(app):
    # Routes are added whether the plugin is enabled or not; core answers 404 while disabled.
    from community_moderation.views import register

    register(app)


@hookimpl
def community_plugin_settings():
    return SETTINGS


# --- gates: what may be written, and what waits for review -----------------------------------


@hookimpl
def community_post_gate(user, action, space, topic, post, title, body):
    # The first refusal wins; a hold is returned only when nothing refuses. The rate limit
    # is asked last of the refusals, so that a write refused for another reason is not
    # counted against the member.
    hold = None
    for check in (
        sanctions.post_gate,
        crisis.post_gate,
        filters.post_gate,
        limits.post_gate,
        queue.premoderation_gate,
    ):
        answer = check(
            user=user, action=action, space=space, topic=topic, post=post, title=title, body=body
        )
        if isinstance(answer, Hold):
            hold = hold or answer
        elif answer:
            return answer
    return hold


@hookimpl
def community_vote_gate(user, post, value):
    return sanctions.vote_gate(user, post) or crisis.vote_gate(user, post) or limits.vote_gate(user)


@hookimpl
def community_registration_gate(username, email, address):
    return limits.registration_gate(address)


@hookimpl
def community_post_html(html, source):
    return filters.replace_watched_words(html)


@hookimpl
def community_permission(user, action, obj):
    return sanctions.permission(user, action, obj)


@hookimpl
def community_suspended_message(message, user):
    return sanctions.suspended_message(message, user)


# --- events ----------------------------------------------------------------------------------


@hookimpl
def community_audited(actor, action, target, reason, before, after):
    audit.record(actor, action, target, reason=reason, before=before, after=after)


@hookimpl
def community_demo_generated(seed):
    flags.add_demo_flags(seed)


@hookimpl
def community_post_deleted(post, actor):
    flags.resolve_for_post(post, actor, "deleted")


@hookimpl
def community_post_unhidden(post, actor):
    flags.resolve_for_post(post, actor, "kept")


# --- pages -----------------------------------------------------------------------------------


@hookimpl
def community_template_slot(slot, context):
    from community_moderation import slots

    return slots.render(slot, context)


@hookimpl
def community_notification_kinds():
    return sanctions.NOTIFICATION_KINDS
