"""Next batches composed by worker processes (``wavelength.compose_pool``): real spawned
processes, each on its own read-only copy of a real qdrant-edge store, writing to the same
SQLite file as this process."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from recommender.encoder import TextEncoder
from recommender.station import StationComposer
from storage import catalog
from storage import feedback as fb
from storage.db import make_engine, upgrade
from storage.names import SqlNameIndex
from storage.track_facts import SqlTrackCatalog
from tests.support.fakes import HashingEncoder
from tests.support.homes import api_key_for, free_port, trained_home
from tests.support.world import build_world, world_tracks
from vectorstore import LiveStore
from vectorstore.edge import EdgeStore
from vectorstore.replica import EdgeReplicas
from wavelength.compose_pool import ComposePool, make_pool, scratch_for
from wavelength.domain import StationId, UserId
from wavelength.settings import Settings
from wavelength.stations import NotFound, StationError, StationService
from wavelength.training import train

pytestmark = pytest.mark.xdist_group("compose_pool")  # spawns processes: one worker runs these


@dataclass(frozen=True)
class WorldRecipe:
    """The known-answer world's service on a copy of its edge store (pickled to workers)."""

    db: Path
    vectors: Path
    scratch: Path
    fail: bool = False
    hang: bool = False  # every call sleeps as a stuck worker would

    def build(self, worker: int) -> tuple[StationService, Callable[[], None]]:
        if self.fail:
            raise RuntimeError("this recipe never builds")
        engine = make_engine(f"sqlite:///{self.db}")
        store = LiveStore(EdgeReplicas(self.vectors, self.scratch / f"worker-{worker}"))
        composer = StationComposer(
            store=store, encoder=HashingEncoder(dim=256), catalog=SqlTrackCatalog(engine)
        )
        service = StationService(
            engine=engine,
            composer=composer,
            names=SqlNameIndex.load(engine),
            rng=random.Random(worker),
        )

        def close() -> None:
            store.close()
            engine.dispose()

        if self.hang:
            service.next = lambda *_a, **_k: time.sleep(3600)  # type: ignore[method-assign,assignment]
        return service, close


@dataclass
class Home:
    engine: Engine
    recipe: WorldRecipe
    service: StationService  # this process's own, on the source store
    composer: StationComposer


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    folder = tmp_path_factory.mktemp("compose-home")
    # Trained into qdrant-edge, held open here as the serving process holds it.
    world = build_world(folder, cf=False, store=EdgeStore(folder / "vectors"))
    engine, store, composer = world.engine, world.store, world.composer()
    service = StationService(
        engine=engine, composer=composer, names=SqlNameIndex.load(engine), rng=random.Random(7)
    )
    recipe = WorldRecipe(folder / "world.db", folder / "vectors", folder / "x")
    yield Home(engine, recipe, service, composer)
    store.close()
    engine.dispose()


@pytest.fixture(scope="module")
def pool(home: Home) -> Iterator[ComposePool]:
    started = ComposePool(home.recipe, 2, fallback=home.service)
    started.start()
    try:
        assert started.wait_ready(120), "the workers did not start"
        yield started
    finally:
        started.close()


def _own(home: Home, name: str) -> WorldRecipe:
    """The world's recipe with copies of its own: a pool's close deletes its copies."""
    return replace(home.recipe, scratch=home.recipe.scratch.with_name(name))


def _station(home: Home, name: str, mood: str = "cool jazz") -> tuple[UserId, StationId]:
    user = home.service.user("test", name)
    return user, home.service.create(user, mood).station.id


def _shown(home: Home, user: UserId, station: StationId) -> int:
    with home.engine.connect() as conn:
        return fb.batches_shown(conn=conn, station=station, listener=user)


def test_workers_compose_and_record_batches_this_process_then_sees(
    home: Home, pool: ComposePool
) -> None:
    user, station = _station(home, "ana")
    played: set[str] = set()
    for number in (2, 3, 4):
        batch = pool.next(user, station)
        assert batch.number == number
        assert batch.station.id == station and len(batch.cards) == 5
        assert not played & {c.track.id for c in batch.cards}, "a worker replayed a track"
        played |= {c.track.id for c in batch.cards}
    assert _shown(home, user, station) == 4
    # This process composes the next one knowing what the workers played.
    mine = home.service.next(user, station=station)
    assert mine.number == 5 and not played & {c.track.id for c in mine.cards}


def test_a_stations_calls_go_to_workers_in_parallel(home: Home, pool: ComposePool) -> None:
    from concurrent.futures import ThreadPoolExecutor

    asked = [_station(home, f"bo-{i}", mood) for i, mood in enumerate(("hip hop", "ambient"))]
    with ThreadPoolExecutor(4) as threads:
        batches = list(threads.map(lambda a: pool.next(*a), asked * 3))
    assert sorted(b.number for b in batches) == [2, 2, 3, 3, 4, 4]
    assert pool.ready == 2


def test_a_second_call_for_a_station_being_composed_waits_for_it() -> None:
    """The scheduling alone, on workers marked ready (no processes): a double click's second
    call waits for the first rather than composing beside it on a free worker (where it
    would lose the race to record the batch and compose again); other stations go on."""
    import threading

    pool = ComposePool(object(), 2, fallback=object())  # type: ignore[arg-type]
    for worker in pool._workers:
        worker.ready = True
    first = pool._take(StationId(7))  # station 7's own worker: index 1
    assert first is not None and first.index == 1
    second: list[object] = []
    waiting = threading.Thread(target=lambda: second.append(pool._take(StationId(7))))
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive() and not second  # worker 0 is free, but station 7 is busy
    other = pool._take(StationId(8))  # another station takes the free worker meanwhile
    assert other is not None and other.index == 0
    pool._free(first)
    waiting.join(5)
    assert second == [first]
    pool._free(first)
    pool._free(other)


def test_a_call_waits_for_its_stations_worker_until_a_queue_forms_there() -> None:
    """The scheduling alone: a station's memos (liked tracks' neighbours, recent searches,
    plays) are warm on its own worker, and another worker composes it from cold (every liked
    track searched again), so a call waits for its own busy worker rather than take a free
    one, until ``STEAL_AFTER`` calls are waiting there before it."""
    import threading

    from wavelength.compose_pool import STEAL_AFTER

    assert STEAL_AFTER == 2
    pool = ComposePool(object(), 2, fallback=object())  # type: ignore[arg-type]
    for worker in pool._workers:
        worker.ready = True
    busy = pool._take(StationId(9))  # worker 1 composes station 9
    assert busy is not None and busy.index == 1
    got: dict[int, object] = {}

    def take(station: int) -> threading.Thread:
        thread = threading.Thread(
            target=lambda: got.update({station: pool._take(StationId(station))})
        )
        thread.start()
        thread.join(0.3)
        return thread

    first, second = take(7), take(11)  # both at home on worker 1, worker 0 free
    assert first.is_alive() and second.is_alive() and not got
    third = take(13)  # two wait at worker 1 before it: it takes the free one
    assert not third.is_alive() and got[13] is pool._workers[0]
    pool._free(busy)
    first.join(5)
    assert got[7] is busy
    pool._free(busy)
    second.join(5)
    assert got[11] is busy
    pool._free(busy)
    pool._free(pool._workers[0])


def test_refusals_come_back_as_the_services_errors(home: Home, pool: ComposePool) -> None:
    _owner, station = _station(home, "cy")
    stranger = home.service.user("test", "stranger")
    with pytest.raises(NotFound):
        pool.next(stranger, station)  # someone else's station: as in-process, a NotFound
    with pytest.raises(NotFound):
        pool.next(stranger, StationId(10**9))


def test_a_killed_worker_costs_no_call_and_is_started_again(home: Home, pool: ComposePool) -> None:
    user, station = _station(home, "di")
    pids = pool.pids()
    assert len(pids) == 2
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    # Each dead worker's call is composed here instead; the batches keep counting.
    numbers = [pool.next(user, station).number for _ in range(3)]
    assert numbers == [2, 3, 4]
    assert pool.wait_ready(120), "the workers were not started again"
    assert set(pool.pids()).isdisjoint(pids)
    assert pool.next(user, station).number == 5


def test_until_a_worker_is_ready_this_process_composes(home: Home) -> None:
    idle = ComposePool(_own(home, "idle"), 1, fallback=home.service)  # never started
    user, station = _station(home, "ed")
    assert idle.ready == 0
    assert idle.next(user, station).number == 2
    idle.close()


def test_a_worker_that_cannot_start_is_retried_and_calls_are_still_answered(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    broken = replace(_own(home, "broken"), fail=True)
    failing = ComposePool(broken, 1, fallback=home.service, restart_pause_s=(0.05, 0.1))
    failing.start()
    user, station = _station(home, "fi")
    try:
        deadline = time.monotonic() + 60
        while "could not start" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "this recipe never builds" in caplog.text
        assert failing.ready == 0
        assert failing.next(user, station).number == 2  # composed here meanwhile
    finally:
        started = time.monotonic()
        failing.close()
    assert time.monotonic() - started < 30
    assert failing.pids() == []


def test_closing_stops_every_worker(home: Home) -> None:
    short = ComposePool(_own(home, "short"), 1, fallback=home.service)
    short.start()
    assert short.wait_ready(120)
    [pid] = short.pids()
    short.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone (joined), not a zombie


def test_settings_pick_the_pool_and_threads_to_feed_it(tmp_path: Path) -> None:
    assert Settings(data_home=tmp_path).compose_workers == 0
    assert make_pool(Settings(data_home=tmp_path), fallback=None) is None  # type: ignore[arg-type]
    two = Settings(data_home=tmp_path, compose_workers=2)
    assert two.api_lane_threads == 6  # two per worker, and two for keys and reactions
    assert Settings(data_home=tmp_path, compose_workers=2, api_threads=3).api_lane_threads == 3
    stale = scratch_for(two) / "worker-0" / "g0-1"
    stale.mkdir(parents=True)
    made = make_pool(two, fallback=None)  # type: ignore[arg-type]
    assert made is not None and not scratch_for(two).exists()  # a killed run's copies go
    with pytest.raises(ValueError, match="at least one worker"):
        ComposePool(WorldRecipe(tmp_path, tmp_path, tmp_path), 0, fallback=None)  # type: ignore[arg-type]


def test_the_api_answers_next_batches_from_the_workers(home: Home, pool: ComposePool) -> None:
    from datetime import UTC, datetime

    import httpx

    from storage import api_keys
    from tests.web.conftest import serve
    from web import build_api

    with home.engine.begin() as conn:
        user = api_keys.user_named(conn=conn, name="over-http")
        key = api_keys.create_key(conn=conn, user=user, label="t", now=datetime.now(UTC)).key
    app = build_api(
        stations=home.service, database=home.engine, composer=home.composer,
        names=SqlNameIndex.load(home.engine), store_ready=lambda: True, threads=4,
        nexts=pool.next,
    )  # fmt: skip
    for url in serve(app):
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
            made = http.post("/stations", json={"text": "ambient"}).json()
            sid = made["station"]["id"]
            answers = [http.post(f"/stations/{sid}/next") for _ in range(3)]
            assert [a.status_code for a in answers] == [200] * 3, answers[0].text
            numbers = [a.json()["number"] for a in answers]
            assert numbers == [2, 3, 4]
            assert http.post("/stations/999999/next").status_code == 404


@dataclass
class Serving:
    """A trained home served as `wavelength serve` does: this process's own service (the
    pool's fallback) and ``make_pool``'s workers, all started."""

    database: Engine
    encoder: TextEncoder
    service: StationService
    pool: ComposePool


@contextmanager
def _serving(settings: Settings) -> Iterator[Serving]:
    from storage.db import open_database
    from wavelength.components import make_encoder, open_vector_store

    database = open_database(settings.database_url)
    encoder = make_encoder(settings)
    store = open_vector_store(settings)
    composer = StationComposer(store=store, encoder=encoder, catalog=SqlTrackCatalog(database))
    service = StationService(engine=database, composer=composer, names=SqlNameIndex.load(database))
    pool = make_pool(settings, service)
    assert pool is not None
    pool.start()
    try:
        assert pool.wait_ready(240), "the workers did not start"
        yield Serving(database, encoder, service, pool)
    finally:
        pool.close()
        store.close()
        database.dispose()


def test_the_production_recipe_copies_the_vectors_and_follows_a_refresh(tmp_path: Path) -> None:
    """``make_pool``'s workers as `wavelength serve` starts them: the real encoder, the
    embedded store copied, and a model refresh's new generation followed without a restart."""
    from vectorstore.edge_generations import EdgeGenerations

    settings = trained_home(tmp_path / "home", compose_workers=1)
    tracks = world_tracks()
    with _serving(settings) as served:
        service, pool = served.service, served.pool
        user = service.user("test", "gil")
        station = service.create(user, "thrash metal").station.id
        assert pool.next(user, station).number == 2
        copies = scratch_for(settings) / "worker-0"
        assert [p.name for p in copies.iterdir()] == ["g0-1"]

        # A refresh: generation 1 holds the jazz and ambient tracks only.
        kept = [t for t in tracks if t.genre in ("cool jazz", "ambient")]
        subset = make_engine(f"sqlite:///{tmp_path / 'subset.db'}")
        upgrade(subset)
        with subset.begin() as conn:
            catalog.upsert_tracks(conn=conn, tracks=kept)
        generations = EdgeGenerations(settings.vector_dir)
        fresh = generations.open(1)
        train(subset, fresh, served.encoder, None, echo=lambda _: None)
        subset.dispose()
        fresh.close()
        generations.publish(1)
        allowed = {t.id for t in kept}
        deadline = time.monotonic() + 60
        while True:
            batch = pool.next(user, station)
            if {c.track.id for c in batch.cards} <= allowed:
                break
            assert time.monotonic() < deadline, "the worker never moved to generation 1"
            time.sleep(0.5)
        # The old copy goes once the calls on it have finished (right after the switch; its
        # own minute: the switch above may have used most of its own on a busy machine).
        # A worker looks for a new generation only when called, and the loop above can stop
        # early (a station out of its own genre may get only jazz from generation 0), so the
        # worker keeps being called meanwhile.
        deadline = time.monotonic() + 60
        while [p.name for p in copies.iterdir()] != ["g1-2"]:
            assert time.monotonic() < deadline, "the old copy was never deleted"
            with contextlib.suppress(StationError):  # the small world may run it dry
                pool.next(user, station)
            time.sleep(0.5)
        # Deleted only after the switch: a new station's batches are generation 1's now.
        other = service.create(user, "ambient").station.id
        assert {c.track.id for c in pool.next(user, other).cards} <= allowed


def test_serve_answers_the_api_through_its_workers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The composition root's wiring: `wavelength serve` with the API and one worker."""
    import asyncio

    import httpx

    from wavelength.app import chat_frontends, runtime

    port = free_port()
    settings = trained_home(tmp_path / "home", compose_workers=1, api_enabled=True, api_port=port)
    key = api_key_for(settings, "served")
    copies = scratch_for(settings)

    async def scenario() -> list[int]:
        async with runtime(settings, echo=lambda _: None, progress=False) as rt:
            stop = asyncio.Event()
            api = asyncio.create_task(chat_frontends(rt)["the HTTP API"](stop))
            headers = {"Authorization": f"Bearer {key}"}
            url = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
                for _ in range(600):  # until the worker has copied the vectors and is up
                    if "compose worker 0 ready" in caplog.text:
                        break
                    await asyncio.sleep(0.25)
                assert "compose worker 0 ready" in caplog.text
                made = (await http.post("/stations", json={"text": "hip hop"})).json()
                sid = made["station"]["id"]
                numbers = []
                for _ in range(3):
                    answer = await http.post(f"/stations/{sid}/next")
                    numbers.append(answer.json()["number"])
            stop.set()
            await api
            return numbers

    caplog.set_level(logging.INFO, logger="wavelength.compose_pool")
    assert asyncio.run(scenario()) == [2, 3, 4]
    assert not any(copies.iterdir())  # the worker deleted its copy as it stopped


def test_a_stuck_worker_is_stopped_and_its_call_composed_here(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    stuck = ComposePool(replace(_own(home, "stuck"), hang=True), 1, fallback=home.service,
                        call_timeout_s=0.5)  # fmt: skip
    stuck.start()
    try:
        assert stuck.wait_ready(120)
        [pid] = stuck.pids()
        user, station = _station(home, "gu")
        started = time.monotonic()
        assert stuck.next(user, station).number == 2
        assert time.monotonic() - started < 20  # 0.5 s, then the stop (10 s at most) and kill
        assert "gave no answer" in caplog.text
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    finally:
        stuck.close()
