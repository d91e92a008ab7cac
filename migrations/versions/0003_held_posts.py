"""posts.held_at, posts.held_reason, topics.held_at: posts waiting for review

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

import community.dbtypes

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held_at", community.dbtypes.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("held_reason", sa.String(length=300), nullable=True))
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held_at", community.dbtypes.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_column("held_at")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("held_reason")
        batch_op.drop_column("held_at")
