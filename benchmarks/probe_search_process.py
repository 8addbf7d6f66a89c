"""Would the API serve more if the embedded engine searched in a process of its own?

qdrant-edge (0.9) holds the GIL while it searches (``probe_edge_gil.py``), so on the embedded
default a search stops every other Python thread of the API process. This probe measures the
way out before building it: the same API over the same demo home, its vector store either
in-process (``EdgeStore``, as the app runs today) or behind a pipe to a child process that
owns the shard and answers every store call (a bare-bones proxy: pickled calls, one at a
time). Load: ``load_api.py``'s users over HTTP. Works on a copy of a trained data home:

    WAVELENGTH_DATA_HOME=/tmp/wl-demo python benchmarks/probe_search_process.py --seconds 20

Not the app's code path: a probe for docs/benchmarks.md ("a process that owns the shard").
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import load_api


def _child(root: str, conn: Connection) -> None:
    """Owns the shard; answers (method, args, kwargs) with (ok, value) until told to stop."""
    from vectorstore.edge import EdgeStore

    store = EdgeStore(Path(root))
    while True:
        call = conn.recv()
        if call is None:
            store.close()
            return
        name, args, kwargs = call
        try:
            conn.send((True, getattr(store, name)(*args, **kwargs)))
        except Exception as exc:  # the caller raises it
            conn.send((False, exc))


class ProcessStore:
    """Every ``VectorStore`` call, sent to the child that owns the shard. Waiting on the pipe
    releases the GIL, so the API's other threads run while the child searches."""

    def __init__(self, root: Path) -> None:
        ctx = mp.get_context("spawn")
        self._conn, theirs = ctx.Pipe()
        self._child = ctx.Process(target=_child, args=(str(root), theirs), daemon=True)
        self._child.start()
        self._lock = threading.Lock()

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self._conn.send((name, args, kwargs))
            ok, value = self._conn.recv()
        if not ok:
            raise value
        return value

    def __getattr__(self, name: str) -> Any:
        return functools.partial(self._call, name)

    def close(self) -> None:
        with self._lock:
            self._conn.send(None)
        self._child.join(10)


def _serve(home: str, mode: str, threads: int, port_out: Connection, stop_in: Connection) -> None:
    from recommender.station import StationComposer
    from storage.db import make_engine
    from storage.names import SqlNameIndex
    from storage.track_facts import SqlTrackCatalog
    from vectorstore.edge import EdgeStore
    from wavelength.components import make_encoder
    from wavelength.settings import Settings
    from wavelength.stations import StationService
    from web import build_api

    settings = Settings(data_home=Path(home), demo_catalog=False, api_port=0)
    engine = make_engine(settings.database_url)
    store: Any = (
        EdgeStore(settings.vector_dir)
        if mode == "in-process"
        else ProcessStore(settings.vector_dir)
    )
    composer = StationComposer(
        store=store, encoder=make_encoder(settings), catalog=SqlTrackCatalog(engine)
    )
    names = SqlNameIndex.load(engine)
    service = StationService(engine=engine, composer=composer, names=names)
    app = build_api(
        stations=service,
        database=engine,
        composer=composer,
        names=names,
        store_ready=lambda: True,
        threads=threads,
    )

    asyncio.run(load_api.serve_until_told(settings, app, port_out, stop_in))
    store.close()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs of each case")
    args = parser.parse_args()
    if "WAVELENGTH_DATA_HOME" not in os.environ:
        parser.error("set WAVELENGTH_DATA_HOME to a trained data home (it is copied, not changed)")
    source = Path(os.environ["WAVELENGTH_DATA_HOME"])
    cases = [("in-process", 1), ("child process", 1), ("child process", 2)]
    rows: list[tuple[str, int, float, float, float]] = []
    for _ in range(args.rounds):
        for mode, threads in cases:
            with tempfile.TemporaryDirectory(prefix="wl-probe-") as tmp:
                home = Path(tmp)
                shutil.copy2(source / "wavelength.db", home / "wavelength.db")
                shutil.copytree(source / "vectors", home / "vectors")
                keys = load_api._keys(home, args.users)
                ctx = mp.get_context("spawn")
                port_out, port_in = ctx.Pipe(duplex=False)
                stop_in, stop_out = ctx.Pipe(duplex=False)
                server = ctx.Process(
                    target=_serve, args=(str(home), mode, threads, port_in, stop_in)
                )
                server.start()
                port = port_out.recv()
                samples, errors = asyncio.run(
                    load_api.http_load(f"http://127.0.0.1:{port}", keys, args.seconds)
                )
                stop_out.send(True)
                server.join(30)
                got = samples.get("next", [])
                if errors.get("next"):
                    print(f"{mode}, {threads} thread(s): {errors['next']} errors", flush=True)
                rows.append(
                    (
                        mode,
                        threads,
                        len(got) / args.seconds,
                        load_api.percentile(got, 0.5) * 1000,
                        load_api.percentile(got, 0.99) * 1000,
                    )
                )
                print(f"{mode}, {threads} thread(s): {rows[-1][2]:.1f} next/s", flush=True)
    base = sum(r[2] for r in rows if r[0] == "in-process") / args.rounds
    print(f"\n{args.users} users, {args.seconds:g} s per run, {os.cpu_count()} cores")
    print(
        f"{'vector store':<16}{'API threads':>12}{'next/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}"
    )
    for mode, threads, rps, p50, p99 in rows:
        print(f"{mode:<16}{threads:>12}{rps:>9.1f}{p50:>9.1f}{p99:>9.1f}{rps / base:>8.2f}")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
