"""spotify: linked accounts, OAuth states, playlist pushes, search matches

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:00:00

A user's Spotify link (token sealed with the secret key), the one-time OAuth states of links
in progress (hashed), the playlist kept per (user, purpose) with the contents it should have,
and the Spotify URI that search found for catalog tracks without one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spotify_links",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("spotify_id", sa.String(length=128), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("broken_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_spotify_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_spotify_links")),
        sa.UniqueConstraint("spotify_id", name=op.f("uq_spotify_links_spotify_id")),
    )
    op.create_table(
        "spotify_auth_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_spotify_auth_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_spotify_auth_states")),
    )
    op.create_index(
        op.f("ix_spotify_auth_states_user_id"), "spotify_auth_states", ["user_id"], unique=False
    )
    op.create_table(
        "spotify_pushes",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("playlist_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("uris", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("written", sa.Integer(), nullable=False),
        sa.Column("created_name", sa.String(length=100), nullable=True),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_spotify_pushes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "purpose", name=op.f("pk_spotify_pushes")),
    )
    op.create_table(
        "spotify_matches",
        sa.Column("track_id", sa.String(length=64), nullable=False),
        sa.Column("uri", sa.String(length=64), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["track_id"], ["tracks.id"], name=op.f("fk_spotify_matches_track_id_tracks")
        ),
        sa.PrimaryKeyConstraint("track_id", name=op.f("pk_spotify_matches")),
    )


def downgrade() -> None:
    op.drop_table("spotify_matches")
    op.drop_table("spotify_pushes")
    op.drop_index(op.f("ix_spotify_auth_states_user_id"), table_name="spotify_auth_states")
    op.drop_table("spotify_auth_states")
    op.drop_table("spotify_links")
