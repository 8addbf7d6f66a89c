"""identities: when the person last wrote from each account

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 06:50:00

Scheduled messages (daily picks, a Spotify link confirmed by the browser callback) go to the
account a person last wrote from, not to every platform they ever used.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identities") as batch:
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identities") as batch:
        batch.drop_column("last_seen_at")
