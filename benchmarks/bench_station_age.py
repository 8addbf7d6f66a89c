"""A reaction's "was this track shown to you here?" check as a station ages (migration 0011).

Every reaction, from the chat or the API, first checks that the station showed the track to
the listener. Until migration 0011 the only index on ``station_plays`` was (station,
listener, batch), so the check read every play of the station, and a station played for
months got slower to react to. This fills one station with ``--ages`` batches of 5 plays
(bulk inserts, the rows ``record_batch`` writes) and times the check at each age, half for
tracks shown and half for tracks never shown (those read furthest), with the index of 0011
and, on the same database, with it dropped (the baseline: the schema before 0011).

    python benchmarks/bench_station_age.py
    python benchmarks/bench_station_age.py --postgres postgresql+psycopg://postgres@127.0.0.1/wl_bench
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from storage import catalog, stations
from storage import feedback as fb
from storage.db import make_engine, upgrade
from storage.models import StationPlayRow
from tests.support.factories import track
from wavelength.domain import Mood, StationId, TrackId, UserId

INDEX = "ix_station_plays_station_listener_track"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 5


def fill(engine: Engine, tracks: int) -> tuple[StationId, UserId, list[TrackId]]:
    catalogue = [track(n) for n in range(1, tracks + 1)]
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=catalogue)
        user = stations.get_or_create_user(
            conn=conn, provider="bench", external_id="1", display_name=None
        )
        station = stations.create_station(
            conn=conn, owner=user, name="Jazz", mood=Mood(original="jazz", text="jazz"), now=T0
        )
    return station.id, user, [t.id for t in catalogue]


def grow(engine: Engine, station: StationId, user: UserId, ids: list[TrackId], upto: int,
         start: int, rng: random.Random) -> None:  # fmt: skip
    """Batches ``start + 1`` .. ``upto``; the last 10% of ``ids`` are never shown."""
    shown = ids[: int(len(ids) * 0.9)]
    rows = [
        {
            "station_id": station,
            "listener_id": user,
            "track_id": rng.choice(shown),
            "batch": b,
            "position": p,
            "reason": "because",
            "source": "mood",
            "score": 0.5,
            "shown_at": T0,
        }
        for b in range(start + 1, upto + 1)
        for p in range(1, BATCH + 1)
    ]
    with engine.begin() as conn:
        for i in range(0, len(rows), 10_000):
            conn.execute(insert(StationPlayRow), rows[i : i + 10_000])


def time_checks(engine: Engine, station: StationId, user: UserId, ids: list[TrackId],
                calls: int, rng: random.Random) -> list[float]:  # fmt: skip
    cut = int(len(ids) * 0.9)
    asked = [rng.choice(ids[:cut]) if i % 2 else rng.choice(ids[cut:]) for i in range(calls)]
    took = []
    with engine.connect() as conn:
        for t in asked:
            start = time.perf_counter()
            fb.was_shown(conn=conn, station=station, listener=user, track=t)
            took.append(time.perf_counter() - start)
    return took


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e6


def run(url: str, label: str, ages: list[int], calls: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(7)
    station, user, ids = fill(engine, 5_000)
    print(f"\n{label}")
    print("| batches | plays | schema | p50 µs | p99 µs | checks/s | ratio (p50) |")
    print("|--:|--:|---|--:|--:|--:|--:|")
    done = 0
    for age in ages:
        grow(engine, station, user, ids, age, done, rng)
        done = age
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        results = {}
        for schema in ("before 0011", "0011"):
            with engine.begin() as conn:
                if schema == "before 0011":
                    conn.execute(text(f"DROP INDEX IF EXISTS {INDEX}"))
                else:
                    conn.execute(
                        text(
                            f"CREATE INDEX IF NOT EXISTS {INDEX} ON station_plays "
                            "(station_id, listener_id, track_id)"
                        )
                    )
                conn.execute(text("ANALYZE"))
            time_checks(engine, station, user, ids, 50, rng)  # warm the cache
            took = time_checks(engine, station, user, ids, calls, rng)
            results[schema] = took
        base = statistics.median(results["before 0011"])
        for schema, took in results.items():
            p50 = statistics.median(took)
            print(
                f"| {age:,} | {age * BATCH:,} | {schema} | {pct(took, 0.5):,.0f} | "
                f"{pct(took, 0.99):,.0f} | {len(took) / sum(took):,.0f} | {base / p50:.1f}x |"
            )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ages", default="100,1000,10000,50000", help="batches, comma-separated")
    parser.add_argument("--calls", type=int, default=1_000)
    parser.add_argument("--postgres", help="also on this (empty) PostgreSQL database")
    args = parser.parse_args()
    ages = sorted(int(a) for a in args.ages.split(","))
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    with tempfile.TemporaryDirectory(prefix="wl-age-") as tmp:
        run(f"sqlite:///{tmp}/age.db", "SQLite (file)", ages, args.calls)
    if args.postgres:
        run(args.postgres, "PostgreSQL", ages, args.calls)


if __name__ == "__main__":
    main()
