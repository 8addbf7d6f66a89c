"""station plays: one row per place in a batch, found by track

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 19:10:00

Two next-batch calls for one station at once (a double click, a retried request, two compose
workers) both numbered their batch "the newest + 1" and both recorded it: one batch number
held ten rows and the second batch could replay the first one's tracks. A unique index on
(station, listener, batch, position) now refuses the second; it replaces the plain
(station, listener, batch) index, whose queries it serves as well. Batches recorded twice
before this revision are split first: the later copy of each place moves to a new batch
number after the listener's newest, so nothing shown is lost.

A reaction checks that the station showed the track to the listener; with only the batch
index that read every play of the station (about 1 ms per reaction after 200 batches,
growing with the station's age). (station, listener, track) makes it one index probe.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_PLAYS = sa.table(
    "station_plays",
    sa.column("id", sa.BigInteger),
    sa.column("station_id", sa.BigInteger),
    sa.column("listener_id", sa.BigInteger),
    sa.column("batch", sa.Integer),
    sa.column("position", sa.Integer),
)


def _split_doubled_batches() -> None:
    """Move every second (third, ...) copy of a (batch, position) to a batch of its own."""
    conn = op.get_bind()
    p = _PLAYS.c
    doubled = (
        sa.select(p.station_id, p.listener_id, p.batch)
        .group_by(p.station_id, p.listener_id, p.batch)
        .having(sa.func.count() > sa.func.count(sa.distinct(p.position)))
    )
    groups = conn.execute(doubled).all()
    if not groups:
        return
    newest: dict[tuple[int, int], int] = {}
    for station, listener, batch in groups:
        key = (station, listener)
        if key not in newest:
            newest[key] = conn.execute(
                sa.select(sa.func.max(p.batch)).where(
                    p.station_id == station, p.listener_id == listener
                )
            ).scalar_one()
        rows = conn.execute(
            sa.select(p.id, p.position)
            .where(p.station_id == station, p.listener_id == listener, p.batch == batch)
            .order_by(p.id)
        ).all()
        copies: defaultdict[int, int] = defaultdict(int)
        moves: defaultdict[int, list[int]] = defaultdict(list)  # copy number -> row ids
        for row_id, position in rows:
            if copies[position]:
                moves[copies[position]].append(row_id)
            copies[position] += 1
        for _copy, ids in sorted(moves.items()):
            newest[key] += 1
            conn.execute(sa.update(_PLAYS).where(p.id.in_(ids)).values(batch=newest[key]))


def upgrade() -> None:
    _split_doubled_batches()
    op.drop_index("ix_station_plays_station_listener_batch", table_name="station_plays")
    op.create_index(
        "ux_station_plays_batch_position",
        "station_plays",
        ["station_id", "listener_id", "batch", "position"],
        unique=True,
    )
    op.create_index(
        "ix_station_plays_station_listener_track",
        "station_plays",
        ["station_id", "listener_id", "track_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_station_plays_station_listener_track", table_name="station_plays")
    op.drop_index("ux_station_plays_batch_position", table_name="station_plays")
    op.create_index(
        "ix_station_plays_station_listener_batch",
        "station_plays",
        ["station_id", "listener_id", "batch"],
    )
