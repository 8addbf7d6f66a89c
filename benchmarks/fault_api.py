"""Faults under load on the HTTP API: simulated users (feedback -> next batch, every fifth
round a /recommend) on loopback while one fault strikes mid-load:

- ``db-restart``: PostgreSQL goes away for a window: the database stops taking connections
  (``ALLOW_CONNECTIONS false``) and every backend of it is ended (``pg_terminate_backend``),
  which is what a restart does to clients; then it takes connections again. ``--real-restart``
  restarts the whole cluster with ``pg_ctlcluster`` instead (root only; it interrupts every
  other user of that server).
- ``slow-store``: the vector store the composer uses answers every call ``--delay`` late (the
  API in its own process, slowed and healed by signals).
- ``kill``: the API runs in its own process (uvicorn); it is SIGKILLed while feedback is in
  flight and started again on the same database.

Each reports requests failed, data lost (acknowledged feedback missing from the database;
must be 0), duplicated rows (more rows than requests that may have written one; must be 0)
and recovery time (fault over -> first successful request sent after it).

    python benchmarks/fault_api.py --db postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python benchmarks/fault_api.py --faults slow-store,kill --users 8 --seconds 12

The world is the tests' known-answer one (tests/support/world.py), built on the database
given (a new database is made on the PostgreSQL server and dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from recommender.cf import AlsEmbedder
from recommender.station import StationComposer
from storage import api_keys, catalog
from storage.db import make_engine, upgrade
from storage.names import SqlNameIndex
from storage.track_facts import SqlTrackCatalog
from tests.support.fakes import HashingEncoder
from tests.support.world import World, world_playlists, world_tracks
from vectorstore.base import CollectionName
from vectorstore.server import QdrantServerStore
from wavelength.settings import Settings
from wavelength.stations import StationService
from wavelength.training import train

MOODS = ("rainy day jazz", "gym metal", "deep focus ambient", "90s hip hop")
REACTIONS = ("like", "love", "skip")
Key = tuple[int, str, str]  # station, track, reaction


# --- the world on any database, and the app over it -----------------------------------------


def build_world(url: str, vectors: Path | None = None) -> World:
    """The known-answer world on ``url`` (migrated, filled, trained); vectors in memory or
    persisted in ``vectors`` (for a server in another process)."""
    engine = make_engine(url)
    upgrade(engine)
    tracks = world_tracks()
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=tracks)
        catalog.insert_playlists(conn=conn, playlists=world_playlists(tracks))
    store = QdrantServerStore.local(vectors)
    encoder = HashingEncoder(dim=256)
    embedder = AlsEmbedder(factors=8, iterations=20, threads=1, use_gpu=False)
    train(engine, store, encoder, embedder, echo=lambda _: None)
    return World(engine, store, encoder, SqlTrackCatalog(engine), {t.id: t for t in tracks})


class SlowStore:
    """The vector store, with every search-like call ``delay`` seconds late while ``slow``."""

    SLOWED = frozenset({"search", "recommend", "vectors", "info"})

    def __init__(self, store: Any, delay: float) -> None:
        self._store, self.delay, self.slow = store, delay, False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name not in self.SLOWED:
            return attr

        def late(*args: Any, **kwargs: Any) -> Any:
            if self.slow:
                time.sleep(self.delay)
            return attr(*args, **kwargs)

        return late


def app_for(engine: Engine, store: Any, encoder: Any) -> Any:
    from web import build_api

    composer = StationComposer(store=store, encoder=encoder, catalog=SqlTrackCatalog(engine))
    names = SqlNameIndex.load(engine)
    service = StationService(engine=engine, composer=composer, names=names, rng=random.Random(0))
    return build_api(
        stations=service,
        database=engine,
        composer=composer,
        names=names,
        store_ready=lambda: store.info(CollectionName.TRACKS) is not None,
        # The store is the Qdrant server's code path: the threads such a deployment gets.
        threads=Settings(qdrant_url="http://qdrant").api_lane_threads,
    )


def keys_for(engine: Engine, n: int) -> list[str]:
    tag = uuid.uuid4().hex[:6]
    with engine.begin() as conn:
        return [
            api_keys.create_key(
                conn=conn,
                user=api_keys.user_named(conn=conn, name=f"fault-{tag}-{i}"),
                label="faults",
                now=datetime.now(UTC),
            ).key
            for i in range(n)
        ]


@contextmanager
def served_in_thread(app: Any) -> Iterator[str]:
    from tests.web.conftest import serve

    yield from serve(app)


# --- the API in its own process (the kill fault) ---------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_main(db: str, vectors: str, port: int, slow_delay: float | None = None) -> None:
    """The child: uvicorn on ``port`` over the database and persisted vectors. With
    ``slow_delay`` its store is a ``SlowStore`` that SIGUSR1 slows and SIGUSR2 heals."""
    from wavelength.settings import Settings
    from web import run_api

    engine = make_engine(db)
    store: Any = QdrantServerStore.local(Path(vectors))
    if slow_delay is not None:
        slowed = SlowStore(store, slow_delay)
        signal.signal(signal.SIGUSR1, lambda *_: setattr(slowed, "slow", True))
        signal.signal(signal.SIGUSR2, lambda *_: setattr(slowed, "slow", False))
        store = slowed
    app = app_for(engine, store, HashingEncoder(dim=256))
    settings = Settings(api_host="127.0.0.1", api_port=port)
    asyncio.run(run_api(settings, app, stop=asyncio.Event()))


def spawn(
    db: str, vectors: Path, port: int, slow_delay: float | None = None
) -> subprocess.Popen[bytes]:
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
        f"import fault_api; fault_api._serve_main({db!r}, {str(vectors)!r}, {port}, "
        f"{slow_delay!r})"
    )
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL)


def wait_up(url: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"the API at {url} did not come up in {timeout:g} s")


# --- the load and its ledger -----------------------------------------------------------------


@dataclass
class Ledger:
    """Every request's (start, end, endpoint, ok) - ok: answered, and not with a 5xx (a 4xx is
    the API refusing bad input, not failing) - and feedback by what it could have written."""

    events: list[tuple[float, float, str, bool]] = field(default_factory=list)
    acked: Counter[Key] = field(default_factory=Counter)  # 2xx: must be in the database
    unknown: Counter[Key] = field(default_factory=Counter)  # 5xx or no answer: may be
    stations: set[int] = field(default_factory=set)
    feedback_in_flight: int = 0
    failures: Counter[str] = field(
        default_factory=Counter
    )  # "endpoint status" (0: no answer), 4xx too


@dataclass(frozen=True, slots=True)
class Outcome:
    fault: str
    requests: int
    failed: int
    acked: int
    lost: int
    duplicated: int
    recovery_s: float | None
    p95_ms: dict[str, float]  # before / during / after the fault, successful requests
    failures: dict[str, int]


async def load(
    url: str,
    keys: list[str],
    *,
    seconds: float,
    fault: Callable[[], Awaitable[tuple[float, float]]],
    ledger: Ledger,
) -> tuple[float, float]:
    """Users on ``url`` for ``seconds`` while ``fault`` runs; answers its (start, end).

    The load goes on for at least ``seconds / 3`` after the fault has healed, however long
    that took: a restarted process on a busy machine can take longer to import than the
    whole load was planned to last, and "after" must still be measured."""
    limits = httpx.Limits(max_connections=len(keys) + 4)
    async with httpx.AsyncClient(base_url=url, timeout=5.0, limits=limits) as client:
        end = time.perf_counter() + seconds
        healed = False

        def running() -> bool:
            return not healed or time.perf_counter() < end

        async def call(name: str, method: str, path: str, **kw: Any) -> httpx.Response | None:
            start = time.perf_counter()
            try:
                answer: httpx.Response | None = await client.request(method, path, **kw)
            except httpx.TransportError:
                answer = None
            ok = answer is not None and answer.status_code < 500
            ledger.events.append((start, time.perf_counter(), name, ok))
            if answer is None or answer.status_code >= 400:
                ledger.failures[f"{name} {answer.status_code if answer is not None else 0}"] += 1
            return answer

        async def station(i: int, h: dict[str, str]) -> dict[str, Any] | None:
            while running():
                made = await call(
                    "create", "POST", "/stations", json={"text": MOODS[i % 4]}, headers=h
                )
                if made is not None and made.status_code == 201:
                    ledger.stations.add(made.json()["station"]["id"])
                    return made.json()  # type: ignore[no-any-return]
                await asyncio.sleep(0.05)
            return None

        async def user(i: int, key: str) -> None:
            rng = random.Random(i)
            h = {"Authorization": f"Bearer {key}"}
            batch = await station(i, h)
            rounds = 0
            while batch is not None and running():
                sid = batch["station"]["id"]
                what: Key = (sid, rng.choice(batch["cards"])["track"]["id"], rng.choice(REACTIONS))
                ledger.feedback_in_flight += 1
                fed = await call("feedback", "POST", f"/stations/{sid}/feedback", headers=h,
                                 json={"track": what[1], "reaction": what[2]})  # fmt: skip
                ledger.feedback_in_flight -= 1
                if fed is not None and fed.status_code < 300:
                    ledger.acked[what] += 1
                elif fed is None or fed.status_code >= 500:
                    ledger.unknown[what] += 1
                nxt = await call("next", "POST", f"/stations/{sid}/next", headers=h)
                if nxt is not None and nxt.status_code == 200:
                    batch = nxt.json()
                elif nxt is not None and nxt.status_code == 409:
                    # The small world runs a station out of tracks in a few batches: a new one.
                    batch = await station(i + rounds, h)
                rounds += 1
                if rounds % 5 == 0:
                    await call("recommend", "POST", "/recommend", headers=h,
                               json={"text": rng.choice(MOODS), "top_k": 10})  # fmt: skip
                if not (fed is not None and fed.status_code < 300):
                    await asyncio.sleep(0.02)  # a failing server is not hammered

        users = asyncio.gather(*(user(i, k) for i, k in enumerate(keys)))
        window = await fault()
        end = max(end, time.perf_counter() + seconds / 3)
        healed = True
        await users
    return window


def feedback_rows(engine: Engine, stations: set[int]) -> Counter[Key]:
    if not stations:
        return Counter()
    ids = ",".join(str(int(s)) for s in stations)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT station_id, track_id, reaction, count(*) FROM feedback "
                f"WHERE station_id IN ({ids}) GROUP BY station_id, track_id, reaction"
            )
        ).all()
    return Counter({(int(s), str(t), str(r)): int(n) for s, t, r, n in rows})


def outcome(name: str, ledger: Ledger, window: tuple[float, float], rows: Counter[Key]) -> Outcome:
    start, end = window
    lost = sum(max(0, n - rows[k]) for k, n in ledger.acked.items())
    duplicated = sum(max(0, n - ledger.acked[k] - ledger.unknown[k]) for k, n in rows.items())
    after = sorted(e for s, e, _, ok in ledger.events if ok and s >= end)
    # "After" starts once the last request sent during the fault has been answered: until
    # then, later requests queue behind slowed ones in the server's threads, which is the
    # fault's own tail, not how fast the API is once it is over.
    drained = max([end, *(e for s, e, _, _ok in ledger.events if start <= s < end)])
    phases: dict[str, list[float]] = {"before": [], "during": [], "after": []}
    for s, e, _, ok in ledger.events:
        if not ok:
            continue
        if s < start:
            phases["before"].append(e - s)
        elif s < end:
            phases["during"].append(e - s)
        elif s >= drained:
            phases["after"].append(e - s)
    return Outcome(
        fault=name,
        requests=len(ledger.events),
        failed=sum(1 for *_, ok in ledger.events if not ok),
        acked=sum(ledger.acked.values()),
        lost=lost,
        duplicated=duplicated,
        recovery_s=round(after[0] - end, 3) if after else None,
        p95_ms={k: round(_p95(v) * 1000, 1) for k, v in phases.items()},
        failures=dict(ledger.failures),
    )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("nan")


# --- the faults --------------------------------------------------------------------------------


def pg_outage(url: str, *, down: bool) -> None:
    """Take the database at ``url`` away from its clients (as a restart does) or give it back."""
    database = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {not down}'))
            if down:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": database},
                )
    finally:
        admin.dispose()


def pg_cluster_restart() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True
    )


def after(delay: float, strike: Callable[[], None], window: float, heal: Callable[[], None]):  # type: ignore[no-untyped-def]
    """A fault that strikes ``delay`` s into the load and heals ``window`` s later."""

    async def fault() -> tuple[float, float]:
        await asyncio.sleep(delay)
        start = time.perf_counter()
        await asyncio.to_thread(strike)
        await asyncio.sleep(window)
        try:
            await asyncio.to_thread(heal)
        finally:
            end = time.perf_counter()
        return start, end

    return fault


def run_db_restart(
    url: str, *, users: int, seconds: float, window: float, real: bool = False
) -> Outcome:
    world = build_world(url)
    try:
        keys = keys_for(world.engine, users)
        ledger = Ledger()
        app = app_for(world.engine, world.store, world.encoder)
        with served_in_thread(app) as base:
            if real:
                fault = after(seconds / 3, pg_cluster_restart, 0.0, lambda: None)
            else:
                fault = after(
                    seconds / 3,
                    lambda: pg_outage(url, down=True),
                    window,
                    lambda: pg_outage(url, down=False),
                )
            try:
                span = asyncio.run(load(base, keys, seconds=seconds, fault=fault, ledger=ledger))
            finally:
                pg_outage(url, down=False)
        return outcome("db-restart", ledger, span, feedback_rows(world.engine, ledger.stations))
    finally:
        world.store.close()
        world.engine.dispose()


@dataclass
class Apart:
    """The world, its users' keys and the API serving it from processes of its own."""

    world: World
    keys: list[str]
    base: str
    start: Callable[[], subprocess.Popen[bytes]]  # another server process on the same port
    procs: list[subprocess.Popen[bytes]]


@contextmanager
def served_apart(
    url: str, vectors: Path, *, users: int, slow_delay: float | None = None
) -> Iterator[Apart]:
    """The world built on ``url`` with persisted vectors, served by a process that is up
    when this yields; every process started is stopped when it ends."""
    world = build_world(url, vectors)
    try:
        keys = keys_for(world.engine, users)
        world.store.close()  # the server process opens the persisted vectors (one opener)
        port = free_port()
        apart = Apart(
            world, keys, f"http://127.0.0.1:{port}",
            lambda: spawn(url, vectors, port, slow_delay), [],
        )  # fmt: skip
        apart.procs.append(apart.start())
        try:
            wait_up(apart.base)
            yield apart
        finally:
            for p in apart.procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    p.wait(15)
    finally:
        world.engine.dispose()


def run_slow_store(
    url: str, *, users: int, seconds: float, window: float, delay: float = 0.2
) -> Outcome:
    """The API in its own process, as in production: served in a thread of the load's own
    process, its event loop waited for the GIL behind 8 composing threads and the load, and
    on a busy machine one reaction in a few thousand ran past the client's 5 s timeout."""
    with (
        tempfile.TemporaryDirectory(prefix="wl-slow-store-") as folder,
        served_apart(url, Path(folder) / "vectors", users=users, slow_delay=delay) as apart,
    ):
        server, ledger = apart.procs[0], Ledger()
        fault = after(
            seconds / 3,
            lambda: server.send_signal(signal.SIGUSR1),
            window,
            lambda: server.send_signal(signal.SIGUSR2),
        )
        span = asyncio.run(
            load(apart.base, apart.keys, seconds=seconds, fault=fault, ledger=ledger)
        )
        return outcome(
            "slow-store", ledger, span, feedback_rows(apart.world.engine, ledger.stations)
        )


def run_kill(url: str, folder: Path, *, users: int, seconds: float) -> Outcome:
    with served_apart(url, folder / "vectors", users=users) as apart:
        ledger = Ledger()

        async def fault() -> tuple[float, float]:
            await asyncio.sleep(seconds / 3)
            while ledger.feedback_in_flight == 0:  # strike while feedback is on the wire
                await asyncio.sleep(0.001)
            start = time.perf_counter()
            apart.procs[-1].send_signal(signal.SIGKILL)
            await asyncio.to_thread(apart.procs[-1].wait)
            apart.procs.append(apart.start())  # the supervisor starts it again
            restarted = time.perf_counter()
            # Healed once it answers again; recovery is still measured from the restart, so
            # it includes the new process's start-up.
            await asyncio.to_thread(wait_up, apart.base, 120.0)
            return start, restarted

        span = asyncio.run(
            load(apart.base, apart.keys, seconds=seconds, fault=fault, ledger=ledger)
        )
        return outcome("kill", ledger, span, feedback_rows(apart.world.engine, ledger.stations))


# --- the command line --------------------------------------------------------------------------


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    name = f"wavelength_faults_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def print_table(results: list[Outcome]) -> None:
    print(
        f"\n{'fault':<12}{'requests':>9}{'failed':>8}{'acked fb':>9}{'lost':>6}{'dup':>5}"
        f"{'recovery s':>11}  p95 ms before/during/after"
    )
    for r in results:
        p = r.p95_ms
        rec = "-" if r.recovery_s is None else f"{r.recovery_s:.3f}"
        print(
            f"{r.fault:<12}{r.requests:>9}{r.failed:>8}{r.acked:>9}{r.lost:>6}{r.duplicated:>5}"
            f"{rec:>11}  {p['before']}/{p['during']}/{p['after']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--db", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL admin URL (a fresh database is made per fault)",
    )  # fmt: skip
    parser.add_argument("--faults", default="db-restart,slow-store,kill")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--window", type=float, default=2.0, help="how long a fault lasts (s)")
    parser.add_argument("--delay", type=float, default=0.2, help="slow-store delay per call (s)")
    parser.add_argument("--real-restart", action="store_true", help="pg_ctlcluster restart")
    parser.add_argument("--sqlite", action="store_true", help="slow-store and kill on SQLite")
    args = parser.parse_args()
    results = []
    for name in args.faults.split(","):
        with tempfile.TemporaryDirectory(prefix="wl-faults-") as tmp, fresh_postgres(args.db) as pg:
            url = f"sqlite:///{tmp}/faults.db" if args.sqlite and name != "db-restart" else pg
            opts = {"users": args.users, "seconds": args.seconds}
            if name == "db-restart":
                r = run_db_restart(url, window=args.window, real=args.real_restart, **opts)
            elif name == "slow-store":
                r = run_slow_store(url, window=args.window, delay=args.delay, **opts)
            elif name == "kill":
                r = run_kill(url, Path(tmp), **opts)
            else:
                parser.error(f"unknown fault {name!r}")
            results.append(r)
            print(r, flush=True)
    print_table(results)
    print(f"({args.users} users, {args.seconds:g} s each, {os.cpu_count()} cores)")


if __name__ == "__main__":
    threading.current_thread().name = "faults"
    main()
