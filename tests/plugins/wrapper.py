"""A test plugin with a hook wrapper, which Community does not support."""

from community.hookspecs import hookimpl


@hookimpl(wrapper=True)
def community_topic_created(topic, post):
    return (yield)
