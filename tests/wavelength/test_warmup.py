"""The first-start warm-up's record: whether this store holds a complete build."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from storage import catalog
from storage.db import open_database
from tests.support.factories import artist, track
from vectorstore import CollectionName, Payload, Point, VectorName
from vectorstore.edge import EdgeStore
from wavelength.settings import Settings
from wavelength.training import TrainReport
from wavelength.warmup import mark_trained, needs_training, trained_key


def _home(folder: Path) -> Settings:
    """A data home with one track in the catalog and one point in the embedded store."""
    settings = Settings(data_home=folder)
    folder.mkdir(parents=True, exist_ok=True)
    engine = open_database(settings.database_url)
    with engine.begin() as conn:
        catalog.upsert_artists(conn=conn, artists=[artist("Ella")])
        catalog.upsert_tracks(conn=conn, tracks=[track(1, artist_name="Ella")])
    engine.dispose()
    store = EdgeStore(settings.vector_dir)
    store.ensure_collection(CollectionName.TRACKS, dims={VectorName.TEXT: 4})
    vector = np.array([1, 0, 0, 0], dtype=np.float32)
    store.upsert(CollectionName.TRACKS, [Point("t1", {VectorName.TEXT: vector}, Payload())])
    store.close()
    return settings


def _needs(settings: Settings) -> bool:
    engine = open_database(settings.database_url)
    store = EdgeStore(settings.vector_dir)
    try:
        return needs_training(engine, store, settings)
    finally:
        store.close()
        engine.dispose()


def test_a_marked_build_is_not_trained_again(tmp_path: Path) -> None:
    settings = _home(tmp_path / "home")
    assert _needs(settings)  # vectors without the record: an interrupted build
    engine = open_database(settings.database_url)
    mark_trained(engine, settings, TrainReport(tracks=1))
    engine.dispose()
    assert not _needs(settings)


def test_a_data_home_copied_whole_is_still_trained(tmp_path: Path) -> None:
    """Keyed by the absolute folder, a copied (or moved) home rebuilt every vector in the
    background on its first start."""
    settings = _home(tmp_path / "home")
    engine = open_database(settings.database_url)
    mark_trained(engine, settings, TrainReport(tracks=1))
    engine.dispose()
    shutil.copytree(tmp_path / "home", tmp_path / "copy")
    assert not _needs(Settings(data_home=tmp_path / "copy"))


def test_a_record_under_the_old_absolute_key_still_counts(tmp_path: Path) -> None:
    settings = _home(tmp_path / "home")
    engine = open_database(settings.database_url)
    with engine.begin() as conn:
        catalog.set_meta(conn=conn, key=f"vectors_trained:{settings.vector_dir}", value="x")
        assert catalog.get_meta(conn=conn, key=trained_key(settings)) is None
    engine.dispose()
    assert not _needs(settings)
