"""stations, feedback, plays, favourites and shares

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 02:51:42.714888

Station definitions (mood, tuning and steers as JSON), the user's active station, what each
station showed each listener, reactions (undo marks them), favourites and share codes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=100), nullable=False),
        sa.Column("mood", sa.JSON(), nullable=False),
        sa.Column("tuning", sa.JSON(), nullable=False),
        sa.Column("steers", sa.JSON(), nullable=False),
        sa.Column("banned_artists", sa.JSON(), nullable=False),
        sa.Column("seed_playlist_id", sa.String(length=64), nullable=True),
        sa.Column("share_code", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_stations_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stations")),
        sa.UniqueConstraint("owner_id", "name_key", name=op.f("uq_stations_owner_id")),
        sa.UniqueConstraint("share_code", name=op.f("uq_stations_share_code")),
    )
    op.create_index(op.f("ix_stations_owner_id"), "stations", ["owner_id"], unique=False)
    op.create_table(
        "active_stations",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("read_only", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_active_stations_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_active_stations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_active_stations")),
    )
    op.create_index(
        op.f("ix_active_stations_station_id"), "active_stations", ["station_id"], unique=False
    )
    op.create_table(
        "favourites",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["track_id"], ["tracks.id"], name=op.f("fk_favourites_track_id_tracks")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_favourites_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "track_id", name=op.f("pk_favourites")),
    )
    op.create_table(
        "feedback",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("track_id", sa.String(length=64), nullable=False),
        sa.Column("reaction", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("copied", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_feedback_station_id_stations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["track_id"], ["tracks.id"], name=op.f("fk_feedback_track_id_tracks")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_feedback_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    op.create_index(op.f("ix_feedback_station_id"), "feedback", ["station_id"], unique=False)
    op.create_index("ix_feedback_user_track", "feedback", ["user_id", "track_id"], unique=False)
    op.create_table(
        "station_plays",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("listener_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.String(length=64), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["listener_id"],
            ["users.id"],
            name=op.f("fk_station_plays_listener_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_station_plays_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["track_id"], ["tracks.id"], name=op.f("fk_station_plays_track_id_tracks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_plays")),
    )
    op.create_index(
        "ix_station_plays_station_listener_batch",
        "station_plays",
        ["station_id", "listener_id", "batch"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_station_plays_station_listener_batch", table_name="station_plays")
    op.drop_table("station_plays")
    op.drop_index("ix_feedback_user_track", table_name="feedback")
    op.drop_index(op.f("ix_feedback_station_id"), table_name="feedback")
    op.drop_table("feedback")
    op.drop_table("favourites")
    op.drop_index(op.f("ix_active_stations_station_id"), table_name="active_stations")
    op.drop_table("active_stations")
    op.drop_index(op.f("ix_stations_owner_id"), table_name="stations")
    op.drop_table("stations")
