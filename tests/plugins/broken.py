"""A test plugin that raises everywhere it can."""

from community.hookspecs import hookimpl


@hookimpl
def community_topic_created(topic, post):
    raise RuntimeError("listener exploded")


@hookimpl
def community_template_slot(slot, context):
    raise RuntimeError("slot exploded")


@hookimpl
def community_user_badges(users):
    # Not a list of badges per user: the page must still render without this plugin's badges.
    from community.plugins import Badge

    return {user.id: Badge("Wrong shape", "wrong") for user in users}
