"""The model refresh end to end on a tiny two-cluster catalog, on both vector backends:
generation 0 serves, playlists arrive, the refresh builds generation 1 beside it and swaps;
failed, stopped and racing builds change nothing anyone reads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import delete
from sqlalchemy.engine import Engine

from recommender.cf import AlsEmbedder
from recommender.encoder import CachedEncoder, TextEncoder
from storage import catalog
from storage import history as repo
from storage.models import AppMetaRow
from storage.stations import get_or_create_user
from storage.track_facts import SqlTrackCatalog
from tests.support.factories import artist, features, playlist, track
from tests.support.fakes import DictEmbeddingCache, HashingEncoder
from tests.vectorstore.conftest import ram_folder
from vectorstore import CollectionName, Filter, Generations, LiveStore, VectorName
from vectorstore.edge_generations import EdgeGenerations
from vectorstore.server_generations import ServerGenerations
from wavelength.domain import ListeningEvent
from wavelength.mixes import MixService
from wavelength.model_refresh import (
    CatalogSize,
    ModelRefresher,
    Outcome,
    TrainedOn,
    assess,
    meta_key,
)
from wavelength.settings import Settings
from wavelength.training import train
from wavelength.warmup import mark_trained

JAZZ = [track(n, artist_name=f"Jazz {n % 3}", features=features(energy=0.1), year=1960)
        for n in range(1, 13)]  # fmt: skip
METAL = [track(n, artist_name=f"Metal {n % 3}", features=features(energy=0.9), year=1990)
         for n in range(101, 113)]  # fmt: skip
LATE = track(50, artist_name="Jazz 1", features=features(energy=0.1), year=1961)  # no playlist yet
MIN_NEW = 20  # playlist items; every playlist here has 6


def playlists(first: int, count: int) -> list[object]:
    out = []
    for pid in range(first, first + count):
        pool = JAZZ if pid % 2 == 0 else METAL
        picks = [pool[(pid * 7 + k * 5) % 12] for k in range(6)]
        if pid >= 100 and pool is JAZZ:
            picks[0] = LATE  # the new playlists bring a track the old vectors never learned
        out.append(
            playlist(pid, list(dict.fromkeys(picks)), name="jazz" if pool is JAZZ else "metal")
        )
    return out


def add_playlists(engine: Engine, first: int, count: int) -> None:
    with engine.begin() as conn:
        catalog.insert_playlists(conn=conn, playlists=playlists(first, count))  # type: ignore[arg-type]


def als() -> AlsEmbedder:
    return AlsEmbedder(factors=8, iterations=10, seed=1, threads=1, use_gpu=False)


class Encoder:
    """The test encoder, with a hook on every batch (to fail or stop a build midway)."""

    def __init__(self, inner: TextEncoder, on_batch: Callable[[int], None] = lambda _: None):
        self.inner = inner
        self.on_batch = on_batch
        self.batches = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> npt.NDArray[np.float32]:
        self.batches += 1
        self.on_batch(self.batches)
        return self.inner.encode(texts, progress=progress)


@dataclass
class Home:
    engine: Engine
    settings: Settings
    generations: Generations
    live: LiveStore
    encoder: TextEncoder
    swaps: list[int]

    def refresher(self, **kwargs: object) -> ModelRefresher:
        options: dict[str, object] = {
            "database": self.engine, "live": self.live, "encoder": self.encoder,
            "settings": self.settings, "worker": "test:1", "embedder": als, "batch_size": 8,
        }  # fmt: skip
        options.update(kwargs)
        return ModelRefresher(**options)  # type: ignore[arg-type]

    def cf(self, ids: Sequence[str]) -> dict[str, npt.NDArray[np.float32]]:
        return self.live.vectors(CollectionName.TRACKS, list(ids), using=VectorName.CF)

    def jazz_neighbours(self) -> set[str]:
        hits = self.live.recommend(
            CollectionName.TRACKS, using=VectorName.CF, positive=[JAZZ[0].id], n=5
        )
        return {h.id for h in hits}


@pytest.fixture(params=["edge", "server"])
def home(request: pytest.FixtureRequest, engine: Engine) -> Iterator[Home]:
    """Generation 0 trained and serving, as the first start's warm-up leaves it; on SQLite
    and PostgreSQL (the leases and the record live there), each with both vector backends."""
    with ram_folder() as folder:
        generations: Generations = (
            EdgeGenerations(folder / "vectors")
            if request.param == "edge"
            else ServerGenerations.local()
        )
        settings = Settings(
            data_home=folder, refresh_min_new_items=MIN_NEW, refresh_min_new_share=0.05
        )
        with engine.begin() as conn:
            catalog.upsert_artists(
                conn=conn,
                artists=[artist(f"Jazz {i}", genres=("cool jazz",)) for i in range(3)]
                + [artist(f"Metal {i}", genres=("thrash metal",)) for i in range(3)],
            )
            catalog.upsert_tracks(conn=conn, tracks=[*JAZZ, *METAL, LATE])
        add_playlists(engine, 0, 40)
        live = LiveStore(generations)
        swaps: list[int] = []
        live.on_swap(swaps.append)
        encoder = CachedEncoder(HashingEncoder(), DictEmbeddingCache())
        report = train(engine, live, encoder, als(), echo=lambda _: None)
        mark_trained(engine, settings, report)
        try:
            yield Home(engine, settings, generations, live, encoder, swaps)
        finally:
            live.close()


def test_enough_new_playlists_rebuild_a_new_generation_and_swap_it_in(home: Home) -> None:
    jazz = {t.id for t in [*JAZZ, LATE]}
    assert home.jazz_neighbours() <= jazz  # generation 0 serves
    before = home.cf([t.id for t in JAZZ])
    refresher = home.refresher()

    # The first build (warm-up or `wavelength train`) recorded what it learned from.
    trained = refresher.check().trained
    assert trained is not None and not trained.baseline
    assert (trained.generation, trained.size.playlist_items) == (0, 240)
    assert refresher.run().outcome is Outcome.NOT_DUE

    add_playlists(home.engine, 100, 3)  # 18 items: below max(20, 5% of 240)
    below = refresher.run()
    assert below.outcome is Outcome.NOT_DUE and "due at 20" in below.message
    assert home.generations.built() == [0] and home.swaps == []

    add_playlists(home.engine, 103, 3)  # 36 new items now
    done = refresher.run()
    assert done.outcome is Outcome.SWAPPED, done
    assert done.generation == 1 == home.live.generation == home.generations.live()
    assert home.swaps == [1]  # listeners (the composer's refresh) were told
    assert home.generations.built() == [1]  # generation 0 is gone
    if isinstance(home.generations, EdgeGenerations):
        assert not (home.generations.folder(0) / "tracks").exists()
        assert (home.generations.folder(0) / "LIVE").read_text().strip() == "g1"
    after = home.cf([t.id for t in JAZZ])
    assert set(after) == set(before)
    assert not all(np.allclose(before[t], after[t]) for t in before)  # a new basis
    assert home.jazz_neighbours() <= jazz  # generation 1 serves, as well
    # LATE is on playlists now: it has its own collaborative vector, not its artist's.
    own = home.live.search(
        CollectionName.TRACKS, using=VectorName.CF, vector=after[JAZZ[0].id], n=30,
        where=Filter(own_cf_only=True),
    )  # fmt: skip
    assert LATE.id in {h.id for h in own}
    record = refresher.check().trained
    assert record is not None and not record.baseline
    assert (record.generation, record.size.playlist_items) == (1, 276)
    assert refresher.run().outcome is Outcome.NOT_DUE  # nothing new since


def test_vectors_built_before_refreshes_existed_are_counted_from_the_first_check(
    home: Home,
) -> None:
    with home.engine.begin() as conn:  # as a data home from before this record left it
        conn.execute(delete(AppMetaRow).where(AppMetaRow.key == meta_key(home.settings)))
    refresher = home.refresher()
    first = refresher.run()
    assert first.outcome is Outcome.NOT_DUE and "counting" in first.message
    trained = refresher.check().trained
    assert trained is not None and trained.baseline and trained.size.playlist_items == 240


def test_a_build_that_fails_midway_leaves_generation_0_serving(home: Home) -> None:
    def explode(batch: int) -> None:
        if batch == 3:
            raise RuntimeError("the encoder fell over")

    failing = home.refresher(encoder=Encoder(home.encoder, explode))
    with pytest.raises(RuntimeError, match="fell over"):
        failing.run(force=True)
    assert home.live.generation == 0 == home.generations.live()
    assert home.generations.built() == [0]  # the half-built generation 1 was deleted
    assert home.jazz_neighbours()  # and generation 0 still answers
    assert home.refresher().run(force=True).outcome is Outcome.SWAPPED  # the next one works
    assert home.live.generation == 1


def test_what_a_crashed_build_left_is_cleaned_up_by_the_next(home: Home) -> None:
    # A process killed mid-build: collections of generation 1 half written, never published.
    leftover = home.generations.open(1)
    leftover.ensure_collection(CollectionName.TRACKS, dims={VectorName.TEXT: 64})
    leftover.close()
    assert home.generations.built() == [0, 1] and home.generations.live() == 0
    assert home.refresher().run(force=True).outcome is Outcome.SWAPPED
    assert home.generations.built() == [1] == [home.generations.live()]
    assert home.live.count(CollectionName.TRACKS) == 25  # complete, not the leftover


def test_a_stop_midway_abandons_the_build(home: Home) -> None:
    refresher: list[ModelRefresher] = []

    def shut_down(batch: int) -> None:
        if batch == 2:  # stop() waits for the build, so it must come from another thread
            threading.Thread(target=refresher[0].stop, daemon=True).start()
            while not refresher[0].stopping:
                time.sleep(0.01)

    refresher.append(home.refresher(encoder=Encoder(home.encoder, shut_down)))
    result = refresher[0].run(force=True)
    assert result.outcome is Outcome.STOPPED
    assert refresher[0].run(force=True).outcome is Outcome.STOPPED  # nothing new starts
    assert home.live.generation == 0 and home.generations.built() == [0]
    assert home.jazz_neighbours()


def test_two_builders_racing_one_builds(home: Home) -> None:
    inside, release = threading.Event(), threading.Event()

    def hold(batch: int) -> None:
        if batch == 1:
            inside.set()
            release.wait(30)

    first = home.refresher(encoder=Encoder(home.encoder, hold), worker="host-a:1")
    second = home.refresher(worker="host-b:2")  # another process, same database
    results: list[object] = []
    builder = threading.Thread(target=lambda: results.append(first.run(force=True)))
    builder.start()
    assert inside.wait(30)
    busy = second.run(force=True)
    assert busy.outcome is Outcome.BUSY
    release.set()
    builder.join(60)
    [done] = results
    assert getattr(done, "outcome", None) is Outcome.SWAPPED
    assert home.generations.built() == [1]


def test_taste_centers_of_the_old_generation_are_not_reused(home: Home) -> None:
    with home.engine.begin() as conn:
        user = get_or_create_user(conn=conn, provider="test", external_id="ana", display_name=None)
        when = datetime.now(UTC)
        events = [ListeningEvent(track=t, played_at=when) for t in JAZZ[:10]]
        catalog.insert_listening_events(conn=conn, user_id=user, events=events, source="import")
    mixes = MixService(engine=home.engine, store=home.live, catalog=SqlTrackCatalog(home.engine))
    mixes.mixes(user)
    with home.engine.connect() as conn:
        old = repo.load_centers(conn=conn, user=user)
    assert old and {c.space for c in old} == {"cf/8"}  # generation 0: the old spelling

    # New playlists, so the new basis differs: refitting the same data can reproduce the
    # same vectors exactly (ALS is seeded), which would prove nothing about reuse.
    add_playlists(home.engine, 100, 6)
    assert home.refresher().run(force=True).outcome is Outcome.SWAPPED
    mixes.mixes(user)  # the same day: today's stored centers would be reused if they fitted
    with home.engine.connect() as conn:
        new = repo.load_centers(conn=conn, user=user)
        assert repo.load_centers(conn=conn, user=user, space="cf/8") == []
    assert new and {c.space for c in new} == {"cf/8/g1"}
    assert [c.vector for c in new] != [c.vector for c in old]


# -- the threshold, on plain values -------------------------------------------------------


def _trained(generation: int, items: int) -> TrainedOn:
    return TrainedOn(generation, CatalogSize(items, items // 6, 100), datetime.now(UTC), "als")


@pytest.mark.parametrize(
    ("learned", "now", "due"),
    [
        (1000, 1019, False),  # 19 new: under MIN_NEW
        (1000, 1050, True),  # 50: max(20, 5% of 1000)
        (10_000, 10_499, False),  # 499 < 5% of 10,000
        (10_000, 10_500, True),
        (0, 6, True),  # never had playlists, now has some
        (0, 0, False),
        (1000, 900, False),  # playlists removed: nothing new
    ],
)
def test_due_when_new_items_reach_the_larger_of_the_floor_and_the_share(
    learned: int, now: int, due: bool
) -> None:
    check = assess(
        live=2, trained=_trained(2, learned), now=CatalogSize(now, 0, 0), has_cf=True,
        min_new=MIN_NEW, share=0.05,
    )  # fmt: skip
    assert check.due is due
    assert check.new_items == max(0, now - learned)


def test_without_a_record_only_text_only_vectors_are_due() -> None:
    size = CatalogSize(60, 10, 100)
    with_cf = assess(live=0, trained=None, now=size, has_cf=True, min_new=MIN_NEW, share=0.05)
    text_only = assess(live=0, trained=None, now=size, has_cf=False, min_new=MIN_NEW, share=0.05)
    other = assess(
        live=3, trained=_trained(2, 60), now=size, has_cf=True, min_new=MIN_NEW, share=0.05
    )
    assert (with_cf.due, text_only.due, other.trained) == (False, True, None)


def test_the_record_round_trips_through_json(tmp_path: Path) -> None:
    record = _trained(4, 1234)
    assert TrainedOn.from_json(record.to_json()) == record
