"""A test plugin that refuses writes containing a banned word, refuses votes on posts that
mention "novote", links product codes in rendered HTML, and tries to sneak in a script."""

from community.hookspecs import hookimpl

refusals: list[str] = []


@hookimpl
def community_post_gate(user, action, space, topic, post, title, body):
    if "forbidden" in body.lower() or (title and "forbidden" in title.lower()):
        refusals.append(action)
        return "Please keep it friendly: that word is not allowed here."
    return None


@hookimpl
def community_vote_gate(user, post, value):
    if "novote" in post.body_source:
        return "Voting is closed on this post."
    return None


@hookimpl
def community_post_html(html, source):
    return html.replace("AX3000", '<a href="/products/ax3000">AX3000</a>') + (
        "<script>alert('filter')</script>"
    )


@hookimpl
def community_user_role_changed(user, actor, previous_role, previous_staff):
    refusals.append(f"role:{user.username}:{previous_role}->{user.role}")


@hookimpl
def community_registration_gate(username, email, address):
    if email.endswith("@spam.example"):
        refusals.append(f"register:{username}:{address}")
        return "Sign-ups from this domain are closed."
    return None


@hookimpl
def community_suspended_message(message, user):
    return f"{message} Ask the moderators why, {user.username}."


@hookimpl
def community_user_trust(users):
    return {user.id: 3 for user in users if user.username.startswith("trusted")}
