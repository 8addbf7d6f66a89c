"""A data home as `wavelength ingest` and `train` leave it, for tests that start processes
the way `wavelength serve` does (compose workers, API processes)."""

from __future__ import annotations

from pathlib import Path

from storage import catalog
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
