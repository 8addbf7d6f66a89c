"""Station latency: a mood request to its first batch, and a reaction to the next batch.

Runs against a trained data home (``wavelength train`` done), on the real adapters: the
embedded qdrant-edge store, the SQLite catalog, the all-MiniLM-L6-v2 encoder on this CPU.

Cases, all in one process and one run:

* ``baseline: one text search``   encode the mood + one nearest-neighbour search: the least a
                                  mood request can cost, the named baseline for the ratio
* ``core: mood → first batch``    ``StationComposer.next_batch`` on a fresh station (cold text:
                                  every mood is new to the encoder, as a user's words are)
* ``core: reaction → next batch`` one more reaction folded in, then ``next_batch``
* ``service: mood → first batch`` ``StationService.create``: parse the words, store the station,
                                  compose, record the batch (SQLite)
* ``service: reaction → next``    ``StationService.react`` + ``StationService.next``

    WAVELENGTH_DATA_HOME=/path/to/trained python benchmarks/bench_station.py [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Real mood requests of the kinds people type; combined with modifiers for distinct texts.
MOODS = (
    "rainy sunday jazz for reading", "90s hip hop for the gym", "something to fall asleep to",
    "upbeat indie for a road trip", "sad songs for a breakup", "chill electronic for coding",
    "classic rock for cooking", "acoustic folk for a quiet evening", "party dance hits",
    "summer reggae by the beach", "dark ambient for a thunderstorm", "motown for a dinner party",
    "country for a long drive", "latin pop to dance to", "piano for focus", "punk for running",
    "soul for a slow morning", "80s synth pop", "lofi beats to study to", "metal for lifting",
)  # fmt: skip
MODIFIERS = (
    "", " please", " tonight", " with friends", " alone", " at night", " in the morning",
    " for work", " on a train", " in autumn",
)  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


class _InMemoryCache:
    def __init__(self) -> None:
        self.data: dict[bytes, Any] = {}

    def get_many(self, keys: Any) -> dict[bytes, Any]:
        return {k: self.data[k] for k in keys if k in self.data}

    def put_many(self, items: Any) -> None:
        self.data.update(items)


def _timed(fn: Callable[[], Any], out: list[float]) -> Any:
    start = time.perf_counter()
    result = fn()
    out.append(time.perf_counter() - start)
    return result


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy import func, select

    from recommender.encoder import CachedEncoder, SentenceEncoder
    from recommender.station import StationComposer, StationContext
    from storage.db import open_database
    from storage.models import TrackRow
    from storage.names import SqlNameIndex
    from storage.track_facts import SqlTrackCatalog
    from vectorstore import CollectionName, VectorName
    from wavelength.app import freeze_startup_heap
    from wavelength.components import open_vector_store
    from wavelength.domain import Mood, Reaction, Station, StationId, UserId
    from wavelength.settings import Settings
    from wavelength.stations import StationService

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="mood requests per case")
    parser.add_argument("--reactions", type=int, default=3, help="reactions per station")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    settings = Settings()
    engine = open_database(settings.database_url)
    with engine.connect() as conn:
        n_tracks = conn.scalar(select(func.count()).select_from(TrackRow)) or 0
    store = open_vector_store(settings)
    info = store.info(CollectionName.TRACKS)
    if info is None:
        print(f"no vectors in {settings.vector_dir}: run `wavelength train` first")
        return 1
    # Cold text every time: an in-memory cache that only ever sees new moods.
    encoder = CachedEncoder(
        SentenceEncoder(settings.encoder_model, device="cpu", batch_size=64), _InMemoryCache()
    )
    catalog = SqlTrackCatalog(engine)
    composer = StationComposer(store=store, encoder=encoder, catalog=catalog)
    rng = random.Random(args.seed)
    texts = [f"{m}{mod}" for mod in MODIFIERS for m in MOODS]
    rng.shuffle(texts)
    texts = (texts * (args.requests // len(texts) + 1))[: args.requests]
    names = SqlNameIndex.load(engine)
    freeze_startup_heap()  # as the app does once it has started
    # Warm up the model, the store and the SQLite page cache (a server has been running).
    composer.next_batch(
        StationContext.build(Station(StationId(0), UserId(0), "w", Mood("warm up", "warm up"))),
        n=5,
    )

    base: list[float] = []
    first: list[float] = []
    react: list[float] = []
    stages: dict[str, list[float]] = {"encode": [], "search": [], "compose": []}
    react_stages: dict[str, list[float]] = {"encode": [], "search": [], "compose": []}
    for i, text in enumerate(texts):
        unique = f"{text} #{i}"  # distinct texts: no cache hits anywhere

        def baseline(unique: str = unique) -> Any:
            (vector,) = encoder.encode([unique])
            return store.search(CollectionName.TRACKS, using=VectorName.TEXT, vector=vector, n=5)

        _timed(baseline, base)
        station = Station(StationId(i + 1), UserId(1), "s", Mood(unique + "!", unique + "!"))
        ctx = StationContext.build(station)
        picks = _timed(lambda ctx=ctx: composer.next_batch(ctx, n=5, rng=rng), first)
        for k, v in composer.timings.stages.items():
            stages[k].append(v)
        for r in range(args.reactions):
            if not picks:
                break
            ctx = ctx.after_batch(p.track for p in picks)
            reaction = (Reaction.LIKE, Reaction.SKIP, Reaction.DISLIKE)[r % 3]
            ctx = ctx.with_feedback(picks[0].track, reaction, artist=picks[0].artist)
            picks = _timed(lambda ctx=ctx: composer.next_batch(ctx, n=5, rng=rng), react)
            for k, v in composer.timings.stages.items():
                react_stages[k].append(v)

    # The service path: one benchmark user in this data home's database (stations, plays and
    # reactions are written for real; the user's stations are deleted as it goes).
    svc_first: list[float] = []
    svc_react: list[float] = []
    service = StationService(engine=engine, composer=composer, names=names, rng=rng)
    user = service.user("bench", f"bench-{os.getpid()}-{time.time_ns()}")
    for i, text in enumerate(texts[: max(20, args.requests // 4)]):
        unique = f"{text} ({i} svc)"
        _timed(lambda unique=unique: service.create(user, unique), svc_first)
        for r in range(args.reactions):
            reaction = (Reaction.LIKE, Reaction.SKIP, Reaction.DISLIKE)[r % 3]

            def step(reaction: Reaction = reaction) -> Any:
                service.react(user, reaction, [1])
                return service.next(user)

            _timed(step, svc_react)
        service.delete(user, "1")  # keep under the per-user station limit
    store.close()

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = platform.processor() or platform.machine()
    print(
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs ({cpu}); Python {platform.python_version()}."
    )
    print(f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.")
    dims = ", ".join(f"{k.value}={v}" for k, v in sorted(info.dims.items()))
    print(
        f"Catalog: {n_tracks:,} tracks in SQL, {info.points:,} track points ({dims}), embedded qdrant-edge; encoder on CPU, cold text every request."
    )
    print(f"Peak RSS: {peak:,.0f} MB.\n")
    b50 = _pct(base, 50)
    print("| case | n | p50 ms | p99 ms | mean ms | ratio p50 vs baseline |")
    print("|---|--:|--:|--:|--:|--:|")
    for name, values in (
        ("baseline: one text search", base),
        ("core: mood → first batch", first),
        ("core: reaction → next batch", react),
        ("service: mood → first batch", svc_first),
        ("service: reaction → next batch", svc_react),
    ):
        if values:
            print(
                f"| {name} | {len(values)} | {_pct(values, 50):.1f} | {_pct(values, 99):.1f} "
                f"| {statistics.mean(values) * 1000:.1f} | {_pct(values, 50) / b50:.2f} |"
            )
    print("\nBreakdown (core, ms): stage p50 / p99")
    print("| path | encode | search | compose |")
    print("|---|--:|--:|--:|")
    for label, st in (("mood → first batch", stages), ("reaction → next batch", react_stages)):
        cells = " | ".join(
            f"{_pct(st[k], 50):.1f} / {_pct(st[k], 99):.1f}" if st[k] else "–"
            for k in ("encode", "search", "compose")
        )
        print(f"| {label} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
