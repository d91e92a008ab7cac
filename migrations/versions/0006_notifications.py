"""follows, notification_settings, notifications, notification_events

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 22:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

import community.dbtypes

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "follows",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("target_type", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_at", community.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "target_type IN ('topic', 'space', 'tag')", name=op.f("ck_follows_target_known")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_follows_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "target_type", "target_id", name=op.f("pk_follows")),
    )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_follows_target", ["target_type", "target_id", "active"], unique=False
        )

    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("delivery", sa.String(length=8), nullable=False),
        sa.CheckConstraint(
            "delivery IN ('off', 'app', 'email', 'daily', 'weekly')",
            name=op.f("ck_notification_settings_delivery_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_settings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notification_settings")),
    )

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("group_key", sa.String(length=96), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("delivery", sa.String(length=8), nullable=False),
        sa.Column("created_at", community.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", community.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", community.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "delivery IN ('app', 'email', 'daily', 'weekly')",
            name=op.f("ck_notifications_delivery_known"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_notifications_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_notifications_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_notifications_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "user_id", "kind", "key", name=op.f("uq_notifications_user_id_kind_key")
        ),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_email", ["delivery", "emailed_at"], unique=False)
        batch_op.create_index(
            "ix_notifications_inbox", ["user_id", "read_at", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notifications_post_id"), ["post_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_topic_id"), ["topic_id"], unique=False)

    op.create_table(
        "notification_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", community.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_events")),
    )
    with op.batch_alter_table("notification_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_events_created_at"), ["created_at"], unique=False
        )


def downgrade():
    op.drop_table("notification_events")
    op.drop_table("notifications")
    op.drop_table("notification_settings")
    op.drop_table("follows")
