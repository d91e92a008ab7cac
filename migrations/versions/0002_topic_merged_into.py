"""topics.merged_into_id: a topic merged into another

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_topics_merged_into_id"), ["merged_into_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_topics_merged_into_id_topics"),
            "topics",
            ["merged_into_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_topics_merged_into_id_topics"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_topics_merged_into_id"))
        batch_op.drop_column("merged_into_id")
