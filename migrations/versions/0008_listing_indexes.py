"""listing indexes that cover their filters: deep pages skip rows in the index, the home
page counts unanswered questions from one, and a page's comments are found by their parent

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

FILTERS = ["deleted_at", "held_at"]
# name: (table, old columns, new columns); an old index of None is new.
CHANGES = {
    "ix_topics_space_activity": (
        "topics",
        ["space_id", "is_pinned", "last_activity_at"],
        ["space_id", "is_pinned", "last_activity_at", "id", *FILTERS],
    ),
    "ix_topics_space_kind_score": (
        "topics",
        ["space_id", "kind", "score"],
        ["space_id", "kind", "score", "id", *FILTERS],
    ),
    "ix_topics_activity": (
        "topics",
        ["last_activity_at"],
        ["last_activity_at", "id", "space_id", *FILTERS],
    ),
    "ix_topics_unanswered": ("topics", None, ["kind", "reply_count", "space_id", *FILTERS]),
    "ix_posts_parent": ("posts", None, ["parent_id", "created_at"]),
}
# The author_id indexes become the first columns of wider ones.
REPLACED = {
    "ix_topics_author_id": (
        "topics",
        ["author_id"],
        "ix_topics_author_created",
        ["author_id", "created_at", "id", "space_id", *FILTERS, "kind"],
    ),
    "ix_posts_author_id": (
        "posts",
        ["author_id"],
        "ix_posts_author_answers",
        ["author_id", "is_opening", "parent_id", *FILTERS, "topic_id"],
    ),
}


def upgrade():
    for name, (table, old, new) in CHANGES.items():
        if old is not None:
            op.drop_index(name, table_name=table)
        op.create_index(name, table, new, unique=False)
    for old_name, (table, _old, name, new) in REPLACED.items():
        op.create_index(name, table, new, unique=False)
        op.drop_index(old_name, table_name=table)


def downgrade():
    for old_name, (table, old, name, _new) in REPLACED.items():
        op.create_index(old_name, table, old, unique=False)
        op.drop_index(name, table_name=table)
    for name, (table, old, _new) in CHANGES.items():
        op.drop_index(name, table_name=table)
        if old is not None:
            op.create_index(name, table, old, unique=False)
