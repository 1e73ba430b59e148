"""one delivery per notification and channel, each with its own outcome and retries

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:00:00

Notifications delivered before this revision have one delivery on channel `legacy` that keeps what
was recorded then (`sent` may have been an .eml file: the old records did not say); notifications
still pending are given their deliveries by the sender, per channel, as new ones are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_deliveries",
        sa.Column("notification_key", sa.String(length=300), nullable=False),
        sa.Column("receiver", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("notification_key", "receiver", "channel"),
    )
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_notification_deliveries_due", ["status", "next_attempt_at"], unique=False)

    op.execute(
        "INSERT INTO notification_deliveries (notification_key, receiver, channel, kind, target, status, attempts, "
        "next_attempt_at, last_error, created_at, finished_at) "
        "SELECT key, receiver, 'legacy', 'legacy', 'every channel of the receiver (recorded before 0002)', status, "
        "attempts, COALESCE(delivered_at, created_at), last_error, created_at, COALESCE(delivered_at, created_at) "
        "FROM notifications WHERE status IN ('sent', 'failed')"
    )
    op.execute("UPDATE notifications SET status = 'dispatched' WHERE status IN ('sent', 'failed')")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    # A notification is `sent` again once none of its deliveries is unfinished or failed.
    op.execute(
        "UPDATE notifications SET status = CASE "
        "WHEN EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.notification_key = notifications.key "
        "AND d.status IN ('pending', 'sending')) THEN 'pending' "
        "WHEN EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.notification_key = notifications.key "
        "AND d.status = 'failed') THEN 'failed' ELSE 'sent' END "
        "WHERE status = 'dispatched'"
    )
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_deliveries_due")
    op.drop_table("notification_deliveries")
