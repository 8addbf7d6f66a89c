"""chat frontends: linked identities, per-user settings, posted cards

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 06:30:00

One-time codes that join a Discord and a Telegram identity into one user, /settings (time
zone, delivery time, daily opt-in, pause), the track cards posted as chat messages (so a
reaction finds its track after a restart) and a mark on identities that can't be messaged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identities") as batch:
        batch.add_column(sa.Column("unreachable_since", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "link_codes",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_link_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_link_codes")),
    )
    op.create_index(op.f("ix_link_codes_user_id"), "link_codes", ["user_id"], unique=False)
    op.create_table(
        "user_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("delivery_minute", sa.Integer(), nullable=False),
        sa.Column("daily", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_settings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_settings")),
    )
    op.create_table(
        "chat_cards",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("listener_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["listener_id"],
            ["users.id"],
            name=op.f("fk_chat_cards_listener_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_chat_cards_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["track_id"], ["tracks.id"], name=op.f("fk_chat_cards_track_id_tracks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_cards")),
        sa.UniqueConstraint(
            "platform", "chat_id", "message_id", name=op.f("uq_chat_cards_platform")
        ),
    )
    op.create_index(op.f("ix_chat_cards_station_id"), "chat_cards", ["station_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_cards_station_id"), table_name="chat_cards")
    op.drop_table("chat_cards")
    op.drop_table("user_settings")
    op.drop_index(op.f("ix_link_codes_user_id"), table_name="link_codes")
    op.drop_table("link_codes")
    with op.batch_alter_table("identities") as batch:
        batch.drop_column("unreachable_since")
