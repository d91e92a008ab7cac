"""create hello_newcomers

Revision ID: 8cc980271a99
Revises:

"""

import sqlalchemy as sa
from alembic import op

import community.dbtypes

# revision identifiers, used by Alembic.
revision = "8cc980271a99"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "hello_newcomers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("created_at", community.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_hello_newcomers_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_hello_newcomers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hello_newcomers")),
        sa.UniqueConstraint("user_id", name=op.f("uq_hello_newcomers_user_id")),
    )
    with op.batch_alter_table("hello_newcomers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hello_newcomers_created_at"), ["created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("hello_newcomers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hello_newcomers_created_at"))

    op.drop_table("hello_newcomers")
