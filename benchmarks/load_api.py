"""Load on the HTTP API: N simulated users on loopback for a bounded time, and a baseline.

Each user makes a station, then loops: next batch, a reaction to one of its cards, and every
fifth round a ``/recommend``. The server runs in its own process (as in production: the
load generator must not share its GIL); the baseline runs the same calls in-process with N
threads and no HTTP. Works on a copy of a trained data home (``WAVELENGTH_DATA_HOME``).

    WAVELENGTH_DATA_HOME=/tmp/wl-demo python benchmarks/load_api.py --users 8 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MOODS = (
    "rainy sunday jazz",
    "upbeat 80s synth pop",
    "calm acoustic folk",
    "heavy metal",
    "90s hip hop",
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def report(
    title: str, samples: dict[str, list[float]], errors: dict[str, int], seconds: float
) -> None:
    print(f"\n{title}")
    print(
        f"{'endpoint':<12}{'requests':>9}{'errors':>8}{'rps':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    )
    for name in ("next", "feedback", "recommend", "list"):
        if name not in samples and name not in errors:
            continue
        got = samples.get(name, [])
        print(
            f"{name:<12}{len(got):>9}{errors.get(name, 0):>8}{len(got) / seconds:>9.1f}"
            f"{percentile(got, 0.5) * 1000:>9.1f}{percentile(got, 0.95) * 1000:>9.1f}"
            f"{percentile(got, 0.99) * 1000:>9.1f}"
        )


async def serve_until_told(
    settings: Any, app: Any, port_out: mp.connection.Connection, stop_in: mp.connection.Connection
) -> None:
    """Serve ``app`` (in a server process) until anything arrives on ``stop_in``; the port
    it bound goes out on ``port_out``."""
    from web import run_api

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    threading.Thread(
        target=lambda: (stop_in.recv(), loop.call_soon_threadsafe(stop.set)), daemon=True
    ).start()
    await run_api(settings, app, stop=stop, bound=port_out.send)


async def serve_processes(
    others: Any, app: Any, port_out: mp.connection.Connection,
    stop_in: mp.connection.Connection,
) -> None:  # fmt: skip
    """Serve ``app`` here and in the ``others`` (``wavelength.api_processes.ApiProcesses``);
    the port goes out once every one of them serves it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    threading.Thread(
        target=lambda: (stop_in.recv(), loop.call_soon_threadsafe(stop.set)), daemon=True
    ).start()

    async def tell(port: int) -> None:
        if not await asyncio.to_thread(others.wait_ready, 300):
            raise RuntimeError("the API processes did not start")
        port_out.send(port)

    told: list[asyncio.Task[None]] = []
    await others.serving(
        app, stop=stop, bound=lambda port: told.append(loop.create_task(tell(port)))
    )


def _serve(
    home: str,
    port_out: mp.connection.Connection,
    stop_in: mp.connection.Connection,
    compose_workers: int = 0,
    api_processes: int = 1,
) -> None:
    async def main() -> None:
        from wavelength.api_processes import make_processes
        from wavelength.app import freeze_startup_heap, runtime
        from wavelength.components import make_api
        from wavelength.compose_pool import make_pool
        from wavelength.settings import Settings

        settings = Settings(
            data_home=Path(home), demo_catalog=False, api_port=0, compose_workers=compose_workers,
            api_processes=api_processes,
        )  # fmt: skip
        async with runtime(settings, echo=lambda _: None, progress=False) as rt:
            # Wired as `wavelength serve` wires it (wavelength.app.chat_frontends): the other
            # API processes made before the app, since that decides where metrics go.
            others = make_processes(settings)
            pool = make_pool(settings, rt.stations)
            if pool is not None:  # started before the port is told: the load meets them up
                pool.start()
                if not pool.wait_ready(300):
                    raise RuntimeError("the compose workers did not start")
            app = make_api(
                settings, stations=rt.stations, database=rt.database, composer=rt.composer,
                names=rt.names, store=rt.store, nexts=pool.next if pool is not None else None,
            )  # fmt: skip
            freeze_startup_heap()
            try:
                if others is not None:
                    await serve_processes(others, app, port_out, stop_in)
                else:
                    await serve_until_told(settings, app, port_out, stop_in)
            finally:
                if pool is not None:
                    pool.close()
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
        print(f"server peak RSS: {peak:,.0f} MB", flush=True)

    asyncio.run(main())


def copy_home(source: Path, home: Path) -> None:
    """A trained data home's database, vectors and encoder cache, copied to ``home``."""
    from vectorstore.replica import sparse_copy

    shutil.copy2(source / "wavelength.db", home / "wavelength.db")
    # Sparse: qdrant-edge's files are mostly holes, which a plain copy fills (143 -> 637 MB).
    shutil.copytree(source / "vectors", home / "vectors", copy_function=sparse_copy)
    if (source / "cache").is_dir():
        shutil.copytree(source / "cache", home / "cache")


def _keys(home: Path, n: int) -> list[str]:
    from storage import api_keys
    from storage.db import open_database

    engine = open_database(f"sqlite:///{home / 'wavelength.db'}")  # migrates to api_keys
    with engine.begin() as conn:
        keys = [
            api_keys.create_key(
                conn=conn,
                user=api_keys.user_named(conn=conn, name=f"load-{i}"),
                label="load",
                now=datetime.now(UTC),
            ).key
            for i in range(n)
        ]
    engine.dispose()
    return keys


async def http_load(
    url: str, keys: list[str], seconds: float
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """The users, on aiohttp: its client costs about a third of httpx's CPU per request
    (0.7 against 1.8 ms on this machine), and the load generator shares the server's 2 cores,
    so a heavier client would measure itself."""
    import aiohttp

    samples: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    connector = aiohttp.TCPConnector(limit=len(keys) + 4)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as client:

        async def timed(name: str, path: str, key: str, body: object = None) -> object:
            start = time.perf_counter()
            headers = {"Authorization": f"Bearer {key}"}
            async with client.post(path, json=body, headers=headers) as answer:
                got = await answer.json() if answer.status < 400 else await answer.read()
                if answer.status >= 400:
                    errors[name] += 1
                    return None
            if time.perf_counter() < end:
                samples[name].append(time.perf_counter() - start)
            return got

        async def user(i: int, key: str) -> None:
            rng = random.Random(i)
            made: Any = await timed("create", "/stations", key, {"text": MOODS[i % len(MOODS)]})
            if made is None:
                raise RuntimeError("could not make a station")
            sid = made["station"]["id"]
            batch = made
            rounds = 0
            while time.perf_counter() < end:
                card = rng.choice(batch["cards"])
                reaction = rng.choice(("like", "skip", "love"))
                await timed("feedback", f"/stations/{sid}/feedback", key,
                            {"track": card["track"]["id"], "reaction": reaction})  # fmt: skip
                answer = await timed("next", f"/stations/{sid}/next", key)
                if answer is not None:
                    batch = answer
                rounds += 1
                if rounds % 5 == 0:
                    await timed("recommend", "/recommend", key,
                                {"text": rng.choice(MOODS), "top_k": 10})  # fmt: skip

        end = time.perf_counter() + seconds
        await asyncio.gather(*(user(i, k) for i, k in enumerate(keys)))
    return samples, errors


async def http_floor(
    url: str, keys: list[str], seconds: float
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """The same users on the cheapest keyed request, ``GET /stations`` (the key checked, one
    SQL read, JSON out): what the HTTP stack and the load generator cost per request before
    any station is composed, the floor under every other row."""
    import aiohttp

    samples: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    connector = aiohttp.TCPConnector(limit=len(keys) + 4)
    async with aiohttp.ClientSession(url, connector=connector) as client:
        end = time.perf_counter() + seconds

        async def user(key: str) -> None:
            headers = {"Authorization": f"Bearer {key}"}
            while time.perf_counter() < end:
                start = time.perf_counter()
                async with client.get("/stations", headers=headers) as answer:
                    await answer.read()
                    if answer.status >= 400:
                        errors["list"] += 1
                        continue
                samples["list"].append(time.perf_counter() - start)

        await asyncio.gather(*(user(k) for k in keys))
    return samples, errors


async def baseline(
    home: Path, users: int, seconds: float
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """The same calls without HTTP: the station service and the recommender, N threads."""
    from recommender.station import StationComposer
    from storage.names import SqlNameIndex
    from storage.track_facts import SqlTrackCatalog
    from wavelength.app import runtime
    from wavelength.components import make_encoder
    from wavelength.domain import Reaction, StationId, TrackId
    from wavelength.settings import Settings
    from web.recommend import Recommender
    from web.stations import StationsApi

    samples: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    settings = Settings(data_home=home, demo_catalog=False)
    async with runtime(settings, echo=lambda _: None, progress=False) as rt:
        composer = StationComposer(
            store=rt.store, encoder=make_encoder(settings), catalog=SqlTrackCatalog(rt.database)
        )
        rec = Recommender(composer=composer, names=SqlNameIndex.load(rt.database))
        api = StationsApi(service=rt.stations)
        end = time.perf_counter() + seconds

        def user(i: int) -> None:
            rng = random.Random(i)
            who = rt.stations.user("bench", f"baseline-{i}")
            batch = api.create(who, MOODS[i % len(MOODS)], None)
            sid = StationId(batch.station.id)
            rounds = 0
            while time.perf_counter() < end:
                for name, call in (
                    (
                        "feedback",
                        lambda batch=batch: api.feedback(
                            who, sid, TrackId(rng.choice(batch.cards).track.id), Reaction.LIKE
                        ),
                    ),
                    ("next", lambda: api.next(who, sid)),
                ):
                    start = time.perf_counter()
                    out = call()
                    if time.perf_counter() < end:
                        samples[name].append(time.perf_counter() - start)
                    if name == "next":
                        batch = out  # type: ignore[assignment]
                rounds += 1
                if rounds % 5 == 0:
                    start = time.perf_counter()
                    rec.recommend(rng.choice(MOODS), top_k=10)
                    samples["recommend"].append(time.perf_counter() - start)

        threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
        for t in threads:
            t.start()
        for t in threads:
            await asyncio.to_thread(t.join)
    return samples, errors


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--floor",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first, this long on GET /stations alone: the HTTP floor under the other rows",
    )
    parser.add_argument(
        "--compose-workers",
        type=int,
        default=0,
        help="next batches composed by this many worker processes (WAVELENGTH_COMPOSE_WORKERS)",
    )
    parser.add_argument(
        "--api-processes",
        type=int,
        default=1,
        help="processes serving the API's port, this one included (WAVELENGTH_API_PROCESSES)",
    )
    args = parser.parse_args()
    if "WAVELENGTH_DATA_HOME" not in os.environ:
        parser.error("set WAVELENGTH_DATA_HOME to a trained data home (it is copied, not changed)")
    source = Path(os.environ["WAVELENGTH_DATA_HOME"])
    with tempfile.TemporaryDirectory(prefix="wl-load-") as tmp:
        home = Path(tmp)
        copy_home(source, home)
        keys = _keys(home, args.users)
        ctx = mp.get_context("spawn")
        port_out, port_in = ctx.Pipe(duplex=False)
        stop_in, stop_out = ctx.Pipe(duplex=False)
        server = ctx.Process(
            target=_serve,
            args=(str(home), port_in, stop_in, args.compose_workers, args.api_processes),
        )
        started = time.perf_counter()
        server.start()
        port = port_out.recv()
        print(
            f"server up in {time.perf_counter() - started:.1f} s on port {port}; "
            f"{args.users} users for {args.seconds:g} s ({os.cpu_count()} cores, "
            f"{args.compose_workers} compose workers, {args.api_processes} API processes)"
        )
        url = f"http://127.0.0.1:{port}"
        floor = asyncio.run(http_floor(url, keys, args.floor)) if args.floor > 0 else None
        samples, errors = asyncio.run(http_load(url, keys, args.seconds))
        stop_out.send(True)
        server.join(30)
        if floor is not None:
            report("HTTP floor (GET /stations: key, one SQL read, JSON)", *floor, args.floor)
        report("HTTP (uvicorn, loopback)", samples, errors, args.seconds)
        if not args.skip_baseline:
            base, base_errors = asyncio.run(baseline(home, args.users, args.seconds))
            report("baseline (same calls in-process, no HTTP)", base, base_errors, args.seconds)


if __name__ == "__main__":
    main()
