"""the delivery round's next-due instant per listener

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 08:00:00

``user_settings.next_due_at`` holds when each listener's next delivery falls due, so a round
reads only the listeners whose time has come (an index range) instead of every opted-in
listener's settings; NULL means "not looked at yet" and is found by the same index. The
ledger's (status, due_at) index finds the claims that ran out and the failures due a retry
without reading every failure ever recorded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_settings") as batch:
        batch.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_user_settings_next_due", "user_settings", ["daily", "paused", "next_due_at"]
    )
    op.create_index("ix_deliveries_status_due_at", "deliveries", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_status_due_at", table_name="deliveries")
    op.drop_index("ix_user_settings_next_due", table_name="user_settings")
    with op.batch_alter_table("user_settings") as batch:
        batch.drop_column("next_due_at")
