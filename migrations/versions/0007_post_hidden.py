"""posts.hidden_at: a published post a moderator (or a plugin's rule) took out of view

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import community.dbtypes

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hidden_at", community.dbtypes.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("hidden_at")
