"""Migrations upgrade and downgrade on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.db import alembic_config, current_revision, downgrade, make_engine, upgrade
from storage.models import Base

TABLES = {
    "alembic_version",
    "app_meta",
    "artists",
    "albums",
    "tracks",
    "playlists",
    "playlist_items",
    "users",
    "link_codes",
    "user_settings",
    "chat_cards",
    "deliveries",
    "job_leases",
    "identities",
    "listening_events",
    "stations",
    "active_stations",
    "station_plays",
    "feedback",
    "favourites",
    "spotify_links",
    "spotify_auth_states",
    "spotify_pushes",
    "spotify_matches",
    "taste_centers",
    "taste_sharing",
    "sorts",
    "api_keys",
}


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head
    assert set(inspect(engine).get_table_names()) == TABLES
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head
    engine.dispose()


def test_every_revision_steps_down_and_up(db_url: str) -> None:
    engine = make_engine(db_url)
    script = ScriptDirectory.from_config(alembic_config(engine))
    revisions = [r.revision for r in script.walk_revisions()][::-1]  # oldest first
    for revision in revisions:
        upgrade(engine, revision)
        assert current_revision(engine) == revision
    for _ in revisions:
        downgrade(engine, "-1")
    assert current_revision(engine) is None
    engine.dispose()


def test_models_and_migrations_agree(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], f"models differ from migrations; write a new revision: {diff}"


def test_batches_recorded_twice_are_split_and_then_refused(db_url: str) -> None:
    """0011: batches two racing calls both recorded as "the newest + 1" move apart, nothing
    lost, and the unique index refuses the next such pair."""
    from datetime import UTC, datetime

    import pytest
    from sqlalchemy import insert, select
    from sqlalchemy.exc import IntegrityError

    from storage import catalog, stations
    from storage.models import StationPlayRow
    from tests.support.factories import track
    from wavelength.domain import Mood

    engine = make_engine(db_url)
    upgrade(engine, "0010")
    now = datetime(2026, 11, 1, tzinfo=UTC)
    tracks = [track(n) for n in range(1, 21)]
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=tracks)
        ana = stations.get_or_create_user(
            conn=conn, provider="t", external_id="1", display_name=None
        )
        jazz = stations.create_station(
            conn=conn, owner=ana, name="Jazz", mood=Mood(original="jazz", text="jazz"), now=now
        )

        def batch(number: int, first: int) -> None:
            conn.execute(
                insert(StationPlayRow),
                [
                    {
                        "station_id": jazz.id,
                        "listener_id": ana,
                        "track_id": tracks[first + p].id,
                        "batch": number,
                        "position": p + 1,
                        "reason": "r",
                        "source": "mood",
                        "score": 0.5,
                        "shown_at": now,
                    }
                    for p in range(5)
                ],
            )

        batch(1, 0)
        batch(2, 5)
        batch(2, 10)  # the race: a second batch 2
        batch(3, 15)
    upgrade(engine, "0011")
    with engine.begin() as conn:
        rows = conn.execute(
            select(StationPlayRow.batch, StationPlayRow.position, StationPlayRow.track_id)
        ).all()
        assert len(rows) == 20  # nothing lost
        by_batch: dict[int, list[str]] = {}
        for number, _position, track_id in sorted(rows):
            by_batch.setdefault(number, []).append(track_id)
        # The later copy of batch 2 became batch 4, after the newest; the rest stayed.
        assert by_batch == {
            1: [t.id for t in tracks[0:5]],
            2: [t.id for t in tracks[5:10]],
            3: [t.id for t in tracks[15:20]],
            4: [t.id for t in tracks[10:15]],
        }
        with pytest.raises(IntegrityError):
            batch(4, 0)
    engine.dispose()
