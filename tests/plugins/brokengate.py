"""A test plugin whose gates raise: writes must be refused (fail closed)."""

from community.hookspecs import hookimpl


@hookimpl
def community_post_gate(user, action, space, topic, post, title, body):
    if "explode" in body:
        raise RuntimeError("gate exploded")
    return None


@hookimpl
def community_vote_gate(user, post, value):
    raise RuntimeError("vote gate exploded")
