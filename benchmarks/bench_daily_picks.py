"""Daily picks for many listeners: the cost of one delivery round's composing.

Works on a copy of a trained data home (``wavelength train`` done), so the original is left
as it was. Makes ``--users`` synthetic listeners, each with a few loved tracks drawn from the
catalog (the seeds of their "Daily picks" station), then composes everyone's picks with the
real ``jobs.delivery.StationPicks`` over the real station engine (qdrant-edge, SQLite, the
station's sources), exactly as the scheduler does:

* ``baseline: one thread``   users composed one after another (the named baseline)
* ``pool: N threads``        the scheduler's setting: N threads side by side

    WAVELENGTH_DATA_HOME=/path/to/trained python benchmarks/bench_daily_picks.py [--users 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from jobs.delivery import CHUNK, StationPicks
    from storage import feedback as fb
    from storage.models import TrackRow
    from wavelength.app import runtime
    from wavelength.domain import Reaction
    from wavelength.settings import Settings

    source = Path(os.environ["WAVELENGTH_DATA_HOME"])
    work = Path(tempfile.mkdtemp(prefix="wl-picks-"))
    try:
        shutil.copy2(source / "wavelength.db", work / "wavelength.db")
        shutil.copytree(source / "vectors", work / "vectors")
        (work / "cache").symlink_to(source / "cache")
        settings = Settings(data_home=work, demo_catalog=False)
        async with runtime(settings, echo=lambda _m: None, progress=False) as rt:
            rng = random.Random(args.seed)
            with rt.database.connect() as conn:
                tracks = list(conn.execute(select(TrackRow.id)).scalars())
            t0 = time.perf_counter()
            now = datetime.now(UTC)
            users = [rt.stations.user("bench", f"listener-{i}") for i in range(args.users)]
            with rt.database.begin() as conn:
                for user in users:
                    for track in rng.sample(tracks, args.likes):
                        fb.add_feedback(conn=conn, user=user, station=None, track=track,
                                        reaction=Reaction.LOVE, now=now)  # fmt: skip
            setup_s = time.perf_counter() - t0
            rows = []
            baseline_n = min(len(users), args.baseline_users)
            # Baseline: one listener per call, as a naive job would. Then the scheduler's way:
            # every due listener in one compose call (chunks of CHUNK, ``workers`` threads);
            # its latency column is per chunk.
            one_by_one = StationPicks(rt.stations, workers=1)
            lat: list[float] = []
            start = time.perf_counter()
            for user in users[:baseline_n]:
                t = time.perf_counter()
                one_by_one.compose("daily-picks", [user])
                lat.append((time.perf_counter() - t) * 1000)
            rows.append(("baseline: one listener per call", baseline_n, lat,
                         time.perf_counter() - start))  # fmt: skip
            rest = users[baseline_n:]
            if rest:
                batched = StationPicks(rt.stations, workers=args.workers)
                chunk_lat: list[float] = []
                start = time.perf_counter()
                for i in range(0, len(rest), CHUNK * args.workers):
                    t = time.perf_counter()
                    made = batched.compose("daily-picks", rest[i : i + CHUNK * args.workers])
                    chunk_lat.append((time.perf_counter() - t) * 1000)
                    assert len(made) == len(rest[i : i + CHUNK * args.workers])
                label = f"batched: chunks of {CHUNK}, {args.workers} threads (ms per chunk)"
                rows.append((label, len(rest), chunk_lat, time.perf_counter() - start))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# Daily picks, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")  # fmt: skip
    print(f"# catalog {len(tracks):,} tracks; {args.users:,} listeners with {args.likes} loved "
          f"tracks each (set up in {setup_s:.1f} s); 10 picks per listener")  # fmt: skip
    print("| case | users | p50 ms | p99 ms | users/s | 10k users (s) | 1M users (h) | ratio |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    base_rate = rows[0][1] / rows[0][3]
    for label, n, lat, wall in rows:
        rate = n / wall
        print(f"| {label} | {n:,} | {statistics.median(lat):.1f} | {percentile(lat, 0.99):.1f} | "
              f"{rate:.1f} | {10_000 / rate:.0f} | {1_000_000 / rate / 3600:.1f} | "
              f"{rate / base_rate:.2f} |")  # fmt: skip
    print(f"peak RSS {peak_mb:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--baseline-users", type=int, default=1_000)
    parser.add_argument("--likes", type=int, default=3)
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=7)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
