"""search_queue, search_documents (PostgreSQL backend), search_deflections

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

import community.dbtypes
import community.search.models

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("queued_at", community.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_queue")),
    )
    with op.batch_alter_table("search_queue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_queue_topic_id"), ["topic_id"], unique=False)

    op.create_table(
        "search_documents",
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("document", community.search.models.TSVector(), nullable=False),
        sa.Column("indexed_at", community.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_search_documents_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", name=op.f("pk_search_documents")),
    )
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_documents_document",
            ["document"],
            unique=False,
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        )

    op.create_table(
        "search_deflections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=True),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("created_at", community.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"],
            ["spaces.id"],
            name=op.f("fk_search_deflections_space_id_spaces"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_search_deflections_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_search_deflections_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_deflections")),
        sa.UniqueConstraint("nonce", name=op.f("uq_search_deflections_nonce")),
    )
    with op.batch_alter_table("search_deflections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_search_deflections_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_search_deflections_topic_id"), ["topic_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_search_deflections_user_id"), ["user_id"], unique=False
        )

    # Every topic that exists goes into the new index (the worker writes them).
    op.execute(
        "INSERT INTO search_queue (topic_id, queued_at, attempts) SELECT id, CURRENT_TIMESTAMP, 0 FROM topics"
    )


def downgrade():
    op.drop_table("search_deflections")
    op.drop_table("search_documents")
    op.drop_table("search_queue")
