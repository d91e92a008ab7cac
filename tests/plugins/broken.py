"""A test plugin that raises everywhere it can."""

from community.hookspecs import hookimpl


@hookimpl
def community_topic_created(topic, post):
    raise RuntimeError("listener exploded")


@hookimpl
def community_template_slot(slot, context):
    raise RuntimeError("slot exploded")
