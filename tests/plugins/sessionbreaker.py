"""A test plugin whose listener and slot run a query that fails in the database: the request
must go on with a usable session."""

from sqlalchemy import text

from community.extensions import db
from community.hookspecs import hookimpl


@hookimpl
def community_answer_accepted(topic, answer, actor, previous_answer):
    db.session.execute(text("SELECT * FROM sessionbreaker_missing_table"))


@hookimpl
def community_template_slot(slot, context):
    if slot == "topic.header":
        db.session.execute(text("SELECT * FROM sessionbreaker_missing_table"))
    return None


@hookimpl
def community_post_html(html, source):
    if "breakfilter" in source:
        db.session.execute(text("SELECT * FROM sessionbreaker_missing_table"))
    return None
