"""A data home as `wavelength ingest` and `train` leave it, for tests that start processes
the way `wavelength serve` does (compose workers, API processes)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

from storage import api_keys, catalog
from tests.support.world import world_tracks
from wavelength.settings import Settings
from wavelength.training import train


def trained_home(home: Path, **settings: object) -> Settings:
    """The known-answer world's tracks in SQLite and their vectors, from the real MiniLM
    encoder, in the embedded store; ``settings`` as the home's other settings."""
    from storage.db import open_database
    from vectorstore.edge_generations import EdgeGenerations
    from wavelength.components import make_encoder
    from wavelength.warmup import mark_trained

    made = Settings(data_home=home, demo_catalog=False, **settings)  # type: ignore[arg-type]
    database = open_database(made.database_url)
    with database.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=world_tracks())
    store = EdgeGenerations(made.vector_dir).open_live()
    report = train(database, store, make_encoder(made), None, echo=lambda _: None)
    mark_trained(database, made, report)
    store.close()
    database.dispose()
    return made


def api_key_for(settings: Settings, name: str) -> str:
    """A new API key for a user called ``name`` in the home's database."""
    from storage.db import open_database

    database = open_database(settings.database_url)
    with database.begin() as conn:
        user = api_keys.user_named(conn=conn, name=name)
        key = api_keys.create_key(conn=conn, user=user, label="t", now=datetime.now(UTC)).key
    database.dispose()
    return key


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
