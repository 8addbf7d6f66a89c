"""The whole pipeline on a tiny catalog with known answers: two taste clusters that never mix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from recommender.cf import AlsEmbedder
from recommender.encoder import CachedEncoder
from storage import catalog
from tests.support.factories import artist, features, playlist, track
from tests.support.fakes import DictEmbeddingCache, HashingEncoder
from vectorstore import CollectionName, Filter, VectorName, VectorStore
from wavelength.explore import NotFoundError, search, similar
from wavelength.training import TrainReport, train

CALM = features(energy=0.1, acousticness=0.9, valence=0.2, tempo=70.0)
LOUD = features(energy=0.95, acousticness=0.01, valence=0.6, tempo=170.0)
JAZZ = [track(n, artist_name=f"Jazz {n % 3}", features=CALM, year=1960) for n in range(1, 13)]
METAL = [track(n, artist_name=f"Metal {n % 3}", features=LOUD, year=1990, explicit=True)
         for n in range(101, 113)]  # fmt: skip
LONELY = track(999, artist_name="Jazz 1", features=CALM)  # on no playlist, artist is
UNKNOWN = track(998, artist_name="Nobody Knows", features=CALM)  # neither


def _fill(engine: Engine) -> None:
    with engine.begin() as conn:
        catalog.upsert_artists(
            conn=conn,
            artists=[artist(f"Jazz {i}", genres=("cool jazz",)) for i in range(3)]
            + [artist(f"Metal {i}", genres=("thrash metal",)) for i in range(3)],
        )
        catalog.upsert_tracks(conn=conn, tracks=[*JAZZ, *METAL, LONELY, UNKNOWN])
        playlists = []
        for pid in range(40):
            pool = JAZZ if pid % 2 == 0 else METAL
            picks = [pool[(pid * 7 + k * 5) % 12] for k in range(6)]
            name = "late night jazz" if pool is JAZZ else "gym metal"
            playlists.append(playlist(pid, list(dict.fromkeys(picks)), name=name))
        playlists.append(playlist(500, [JAZZ[0]], name="one track"))
        catalog.insert_playlists(conn=conn, playlists=playlists)


@pytest.fixture
def store() -> Iterator[VectorStore]:
    from tests.vectorstore.conftest import memory_store

    with memory_store() as s:
        yield s


def _train(engine: Engine, store: VectorStore, encoder: CachedEncoder) -> TrainReport:
    lines: list[str] = []
    report = train(
        engine, store, encoder, AlsEmbedder(factors=8, iterations=10, seed=1), echo=lines.append
    )
    assert lines  # stages are announced
    return report


def test_train_indexes_everything_and_keeps_clusters_apart(
    sqlite_engine: Engine, store: VectorStore
) -> None:
    _fill(sqlite_engine)
    encoder = CachedEncoder(HashingEncoder(), DictEmbeddingCache())
    report = _train(sqlite_engine, store, encoder)

    assert (report.tracks, report.artists, report.playlists) == (26, 7, 41)
    assert store.count(CollectionName.TRACKS) == 26
    assert report.cf_tracks_own == 24
    # LONELY borrows its artist's vector; UNKNOWN's artist has no playlists, so text only.
    assert report.cf_tracks_from_artist == 1
    cf = store.vectors(CollectionName.TRACKS, [LONELY.id, UNKNOWN.id], using=VectorName.CF)
    assert set(cf) == {LONELY.id}

    hits = store.recommend(CollectionName.TRACKS, using=VectorName.CF, positive=[JAZZ[0].id], n=5)
    assert {h.id for h in hits} <= {t.id for t in [*JAZZ, LONELY]}

    result = similar(sqlite_engine, store, "Metal 1", using=VectorName.CF, n=5)
    assert result.item.kind == "artist"
    assert all(s.label.endswith(("Metal 0", "Metal 2")) for s in result.tracks)

    found = search(sqlite_engine, store, encoder, "calm acoustic cool jazz", n=5)
    assert all("Jazz" in s.label or "Nobody" in s.label for s in found)
    clean = search(sqlite_engine, store, encoder, "thrash metal", n=5, where=Filter(explicit=False))
    assert not any("Metal" in s.label for s in clean)


def test_a_second_run_encodes_nothing_new_and_changes_nothing(
    sqlite_engine: Engine, store: VectorStore
) -> None:
    _fill(sqlite_engine)
    inner = HashingEncoder()
    encoder = CachedEncoder(inner, DictEmbeddingCache())
    first = _train(sqlite_engine, store, encoder)
    encoded = sum(inner.calls)
    second = _train(sqlite_engine, store, encoder)
    assert sum(inner.calls) == encoded
    assert (
        second.texts_encoded == 0
        and second.texts_cached == first.texts_encoded + first.texts_cached
    )
    assert store.count(CollectionName.TRACKS) == 26


def test_unknown_names_say_did_you_mean(sqlite_engine: Engine, store: VectorStore) -> None:
    _fill(sqlite_engine)
    _train(sqlite_engine, store, CachedEncoder(HashingEncoder(), DictEmbeddingCache()))
    with pytest.raises(NotFoundError, match="Did you mean: Metal 1"):
        similar(sqlite_engine, store, "Metall 1", using=VectorName.CF)


def test_an_empty_catalog_is_a_clear_error(sqlite_engine: Engine, store: VectorStore) -> None:
    with pytest.raises(ValueError, match="catalog is empty"):
        _train(sqlite_engine, store, CachedEncoder(HashingEncoder(), DictEmbeddingCache()))


def test_without_playlists_only_text_vectors_are_built(
    sqlite_engine: Engine, store: VectorStore
) -> None:
    with sqlite_engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=JAZZ[:3])
    report = _train(sqlite_engine, store, CachedEncoder(HashingEncoder(), DictEmbeddingCache()))
    assert report.cf_model is None and report.tracks == 3
    assert "text vectors only" in report.summary()


def test_a_changed_encoder_size_is_a_clear_error(sqlite_engine: Engine, store: VectorStore) -> None:
    _fill(sqlite_engine)
    _train(sqlite_engine, store, CachedEncoder(HashingEncoder(dim=64), DictEmbeddingCache()))
    with pytest.raises(ValueError, match="encoder model or cf_factors changed"):
        _train(sqlite_engine, store, CachedEncoder(HashingEncoder(dim=32), DictEmbeddingCache()))
