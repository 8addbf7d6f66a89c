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
