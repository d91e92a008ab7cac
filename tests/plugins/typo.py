"""A test plugin with a misspelt hook name: loading it must fail loudly."""

from community.hookspecs import hookimpl


@hookimpl
def community_topic_craeted(topic, post):
    pass
