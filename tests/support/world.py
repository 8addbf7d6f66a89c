"""A small radio world with known answers, built by the real pipeline.

Four genres, six artists each, four tracks per artist, with audio features that say what
the genre is; eighty human-ish playlists, each within one genre (a few cross over). The world
is ingested into SQLite and trained by ``wavelength.training.train`` (hashing text encoder,
ALS with 8 factors) into qdrant-client's local mode, so station tests run the same code as
production on data whose right answers are obvious.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from recommender.cf import AlsEmbedder
from recommender.station import StationComposer
from storage import catalog
from storage.db import make_engine, upgrade
from storage.names import SqlNameIndex
from storage.track_facts import SqlTrackCatalog
from tests.support.factories import features, playlist, track
from tests.support.fakes import HashingEncoder
from vectorstore.base import VectorStore
from vectorstore.server import QdrantServerStore
from wavelength.domain import Track, TrackId
from wavelength.stations import StationService
from wavelength.training import train

GENRES: dict[str, dict[str, object]] = {
    "cool jazz": {
        "artists": (
            "Miles Quiet",
            "Bill Soft",
            "Chet Low",
            "Ella Hush",
            "Dizzy Calm",
            "Monk Still",
        ),
        "features": {"energy": 0.2, "acousticness": 0.9, "valence": 0.4, "tempo": 90.0},
        "instrumental": 0.8,
        "year": 1958,
        "explicit": False,
        "titles": ("jazz for reading", "rainy day jazz", "coffee jazz"),
    },
    "thrash metal": {
        "artists": (
            "Iron Noise",
            "Black Forge",
            "Steel Rage",
            "Skull Anvil",
            "Doom Hammer",
            "Riot Engine",
        ),
        "features": {"energy": 0.97, "acousticness": 0.02, "valence": 0.3, "tempo": 180.0},
        "instrumental": 0.1,
        "year": 1988,
        "explicit": True,
        "titles": ("metal workout", "gym metal", "headbang"),
    },
    "ambient": {
        "artists": (
            "Drift Field",
            "Low Tide",
            "Glass Hours",
            "Pale Dawn",
            "Snow Choir",
            "Quiet Orbit",
        ),
        "features": {"energy": 0.08, "acousticness": 0.6, "valence": 0.2, "tempo": 70.0},
        "instrumental": 0.95,
        "year": 2001,
        "explicit": False,
        "titles": ("sleep", "deep focus ambient", "fall asleep"),
    },
    "hip hop": {
        "artists": (
            "MC Rhyme",
            "Beat Lord",
            "Flow King",
            "Lyric Nation",
            "Crate Digga",
            "Young Verse",
        ),
        "features": {"energy": 0.7, "acousticness": 0.1, "valence": 0.7, "tempo": 95.0},
        "instrumental": 0.0,
        "year": 1995,
        "explicit": True,
        "titles": ("90s hip hop", "rap caviar", "hip hop party"),
    },
}
PER_ARTIST = 4


@dataclass
class World:
    engine: Engine
    store: VectorStore
    encoder: HashingEncoder
    catalog: SqlTrackCatalog
    tracks: dict[TrackId, Track]

    def composer(self, **kwargs: object) -> StationComposer:
        return StationComposer(
            store=self.store,
            encoder=self.encoder,
            catalog=self.catalog,
            **kwargs,  # type: ignore[arg-type]
        )

    def service(self, seed: int = 0, composer: StationComposer | None = None) -> StationService:
        """A station service over this world with memos of its own (two of them stand for two
        processes on one database) and a random source seeded with ``seed``."""
        return StationService(
            engine=self.engine,
            composer=composer or self.composer(),
            names=SqlNameIndex.load(self.engine),
            rng=random.Random(seed),
        )

    def genre_of(self, track_id: TrackId) -> str:
        return self.tracks[track_id].genre or ""

    def by_artist(self, name: str) -> list[Track]:
        return [t for t in self.tracks.values() if t.artist.name == name]

    def by_genre(self, genre: str) -> list[Track]:
        return [t for t in self.tracks.values() if t.genre == genre]


def world_tracks() -> list[Track]:
    out = []
    n = 0
    for genre, spec in GENRES.items():
        for a, artist_name in enumerate(spec["artists"]):  # type: ignore[arg-type]
            for k in range(PER_ARTIST):
                n += 1
                feats = dict(spec["features"])  # type: ignore[call-overload]
                # Spread within the genre so tilts have something to order.
                feats["energy"] = min(1.0, max(0.0, feats["energy"] + 0.04 * (k - 1.5)))
                out.append(
                    track(
                        n,
                        name=f"{artist_name} {k + 1}",
                        artist_name=artist_name,
                        genre=genre,
                        year=int(spec["year"]) + a + k,  # type: ignore[call-overload]
                        explicit=spec["explicit"],
                        features=features(instrumentalness=spec["instrumental"], **feats),  # type: ignore[arg-type]
                    )
                )
    return out


def world_playlists(tracks: list[Track], *, seed: int = 3) -> list:  # type: ignore[type-arg]
    rng = random.Random(seed)
    by_genre: dict[str, list[Track]] = {}
    for t in tracks:
        by_genre.setdefault(t.genre or "", []).append(t)
    out = []
    pid = 0
    for genre, spec in GENRES.items():
        for i in range(20):
            chosen = rng.sample(by_genre[genre], 8)
            if i < 2:  # a crossover playlist: jazz and ambient share listeners, and so on
                other = list(GENRES)[(list(GENRES).index(genre) + 2) % 4]
                chosen += rng.sample(by_genre[other], 2)
            titles = spec["titles"]
            out.append(playlist(pid, chosen, name=titles[i % len(titles)]))  # type: ignore[index]
            pid += 1
    return out


def build_world(folder: Path, *, cf: bool = True, store: VectorStore | None = None) -> World:
    """The world ingested into SQLite in ``folder`` and trained into ``store`` (qdrant-client's
    local mode unless given another)."""
    engine = make_engine(f"sqlite:///{folder / 'world.db'}")
    upgrade(engine)
    tracks = world_tracks()
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=tracks)
        catalog.insert_playlists(conn=conn, playlists=world_playlists(tracks))
    store = store if store is not None else QdrantServerStore.local()
    encoder = HashingEncoder(dim=256)
    embedder = AlsEmbedder(factors=8, iterations=20, threads=1, use_gpu=False) if cf else None
    train(engine, store, encoder, embedder, echo=lambda _: None)
    return World(engine, store, encoder, SqlTrackCatalog(engine), {t.id: t for t in tracks})


def world_fixture(folder: Path, *, cf: bool = True) -> Iterator[World]:
    world = build_world(folder, cf=cf)
    try:
        yield world
    finally:
        world.store.close()
        world.engine.dispose()
