"""A test plugin that holds the posts of members called "newbie..." for review."""

from community.hookspecs import hookimpl
from community.plugins import Hold

calls: list[tuple[str, int]] = []


@hookimpl
def community_post_gate(user, action, space, topic, post, title, body):
    if user.username.startswith("newbie"):
        return Hold("New members' first posts are checked by a moderator.")
    return None


@hookimpl
def community_post_held(post, reason):
    calls.append(("held", post.id))


@hookimpl
def community_post_released(post, actor):
    calls.append(("released", post.id))


@hookimpl
def community_topic_created(topic, post):
    calls.append(("topic_created", post.id))


@hookimpl
def community_post_created(post):
    calls.append(("post_created", post.id))
