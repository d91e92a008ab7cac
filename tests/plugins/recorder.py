"""A test plugin that records every core event it receives, and whether the change it
announces was already committed when it was called (seen from a separate connection)."""

from sqlalchemy import text

from community.extensions import db
from community.hookspecs import hookimpl
from community.plugins import admin_blueprint

calls: list[tuple[str, dict]] = []


def _committed(table: str, row_id: int) -> bool:
    with db.engine.connect() as conn:
        return (
            conn.execute(text(f"SELECT 1 FROM {table} WHERE id = :id"), {"id": row_id}).first()
            is not None
        )


@hookimpl
def community_user_registered(user):
    calls.append(
        ("user_registered", {"user": user.username, "committed": _committed("users", user.id)})
    )


@hookimpl
def community_topic_created(topic, post):
    calls.append(
        ("topic_created", {"topic": topic.id, "committed": _committed("topics", topic.id)})
    )


@hookimpl
def community_post_created(post):
    calls.append(("post_created", {"post": post.id, "committed": _committed("posts", post.id)}))


@hookimpl
def community_post_edited(post, editor, previous_source):
    calls.append(("post_edited", {"post": post.id, "previous": previous_source}))


@hookimpl
def community_idea_votes_moved(source, target, actor, source_post, target_post):
    calls.append(("idea_votes_moved", {"source": source.id, "target": target.id}))


@hookimpl
def community_idea_status_label(status):
    return "Being recorded" if status == "recording" else None


@hookimpl
def community_topic_retagged(topic, editor, previous_tags):
    calls.append(
        (
            "topic_retagged",
            {
                "topic": topic.id,
                "previous": previous_tags,
                "now": sorted(tag.name for tag in topic.tags),
            },
        )
    )


@hookimpl
def community_post_deleted(post, actor):
    calls.append(("post_deleted", {"post": post.id}))


@hookimpl
def community_post_restored(post, actor):
    calls.append(("post_restored", {"post": post.id}))


@hookimpl
def community_vote_cast(vote, post, previous_value):
    calls.append(("vote_cast", {"post": post.id, "value": vote.value, "previous": previous_value}))


@hookimpl
def community_vote_retracted(user, post, value):
    calls.append(("vote_retracted", {"post": post.id, "value": value}))


@hookimpl
def community_answer_accepted(topic, answer, actor, previous_answer):
    calls.append(
        (
            "answer_accepted",
            {"answer": answer.id, "previous": previous_answer.id if previous_answer else None},
        )
    )


@hookimpl
def community_answer_unaccepted(topic, answer, actor):
    calls.append(("answer_unaccepted", {"answer": answer.id}))


admin_bp = admin_blueprint("recorder", __name__)


@admin_bp.route("/")
def admin_page():
    return "recorder admin page"


@hookimpl
def community_app_created(app):
    calls.append(("app_created", {"name": app.name}))
    app.register_blueprint(admin_bp)


@hookimpl
def community_permission(user, action, obj):
    # A plugin's word comes before core's: "muted" may read but never reply.
    if action == "topic.reply" and getattr(user, "username", "") == "muted":
        return False
    return None


@hookimpl
def community_template_slot(slot, context):
    if slot == "topic.sidebar":
        return f"<p class='recorder-slot'>Recorded topic {int(context['topic'].id)}</p>"
    return None


@hookimpl
def community_plugin_settings():
    from community.plugins import Setting

    return [
        Setting("greeting", "Greeting", "Hello", required=True, max_length=20),
        Setting("limit", "Limit", 5, kind="integer", min=1, max=10),
        Setting("loud", "Loud", False, kind="boolean"),
        Setting(
            "color", "Color", "blue", kind="choice", choices=[("blue", "Blue"), ("red", "Red")]
        ),
    ]


@hookimpl
def community_user_badges(users, space):
    from community.plugins import Badge

    calls.append(
        (
            "user_badges",
            {
                "users": sorted(user.username for user in users),
                "space": space.slug if space is not None else None,
            },
        )
    )
    return {user.id: [Badge("Recorded", "recorded")] for user in users if user.username == "asker"}


def _committed_value(table: str, row_id: int, column: str):
    with db.engine.connect() as conn:
        return conn.execute(
            text(f"SELECT {column} FROM {table} WHERE id = :id"),
            {"id": row_id},
        ).scalar()


@hookimpl
def community_topic_moved(topic, actor, previous_space):
    calls.append(
        (
            "topic_moved",
            {
                "topic": topic.id,
                "actor": actor.username,
                "previous_space": previous_space.id,
                "space": topic.space.id,
                "committed_space": _committed_value("topics", topic.id, "space_id"),
            },
        )
    )


@hookimpl
def community_topic_merged(source, target, actor):
    calls.append(
        (
            "topic_merged",
            {
                "source": source.id,
                "target": target.id,
                "actor": actor.username,
                "committed_into": _committed_value("topics", source.id, "merged_into_id"),
            },
        )
    )


@hookimpl
def community_idea_status_changed(topic, actor, previous_status, note):
    calls.append(
        (
            "idea_status_changed",
            {
                "topic": topic.id,
                "actor": actor.username,
                "status": topic.status,
                "previous": previous_status,
                "note": note,
                "committed_status": _committed_value("topics", topic.id, "status"),
            },
        )
    )


@hookimpl
def community_search_deflected(user, topic, query):
    with db.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT count(*) FROM search_deflections WHERE topic_id = :t AND user_id = :u"),
            {"t": topic.id, "u": user.id},
        ).scalar()
    calls.append(
        (
            "search_deflected",
            {"user": user.username, "topic": topic.id, "query": query, "stored": stored},
        )
    )


@hookimpl
def community_post_hidden(post, actor, reason):
    calls.append(
        (
            "post_hidden",
            {
                "post": post.id,
                "actor": actor.username if actor else None,
                "reason": reason,
                "committed": _committed_value("posts", post.id, "hidden_at") is not None,
            },
        )
    )


@hookimpl
def community_post_unhidden(post, actor):
    calls.append(("post_unhidden", {"post": post.id, "actor": actor.username}))


@hookimpl
def community_topic_split(source, target, actor, post_ids):
    calls.append(
        (
            "topic_split",
            {
                "source": source.id,
                "target": target.id,
                "posts": list(post_ids),
                "committed": _committed("topics", target.id),
            },
        )
    )


@hookimpl
def community_user_suspended(user, actor, reason):
    calls.append(
        (
            "user_suspended",
            {
                "user": user.username,
                "actor": actor.username if actor else None,
                "reason": reason,
                "committed_active": _committed_value("users", user.id, "active"),
            },
        )
    )


@hookimpl
def community_user_reinstated(user, actor):
    calls.append(("user_reinstated", {"user": user.username}))


@hookimpl
def community_audited(actor, action, target, reason, before, after):
    calls.append(
        (
            "audited",
            {
                "actor": actor.username if actor else None,
                "action": action,
                "target": getattr(target, "id", target),
                "reason": reason,
                "before": before,
                "after": after,
            },
        )
    )


@hookimpl
def community_demo_generated(seed):
    with db.engine.connect() as conn:
        users = conn.execute(text("SELECT count(*) FROM users")).scalar()
    calls.append(("demo_generated", {"seed": seed, "users_committed": users}))
