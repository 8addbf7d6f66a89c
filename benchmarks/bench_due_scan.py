"""A delivery round's "who is due" step at many listeners, old way vs new way (issue 8).

Fills a database with ``--users`` opted-in listeners spread over 40 time zones (half keep the
default 09:00, the rest chose a minute at random; a few paused or opted out), with the ledger
and next-due instants a scheduler running until the first clock would have left, then steps
a simulated clock one minute at a time and times one round's "who is due":

* ``old``  every opted-in listener's settings (``storage.accounts.opted_in``) through
  ``due_now``: what ``DeliveryRunner`` did before. It finds everyone inside the 12-hour grace,
  delivered or not, and then tried a claim transaction for each (counted, not timed here).
* ``new``  ``DeliveryRunner.scan``: the listeners whose stored next-due instant has come,
  the ledger's claims that ran out and failures due a retry, minus what the ledger settled.

After each minute the new way's finds are claimed (a batch per statement), marked SENT and
their next-due instants moved on (``DeliveryRunner.advance``), as a round leaves them. Both
ways run on the same database and clock, and each minute checks that they agree (the old
list minus what the ledger holds). Peak memory is Python's own (tracemalloc): the old way's
first round, the new way's largest (each traced in a second run, untimed). ``--explain`` prints the new way's query plans.

    python benchmarks/bench_due_scan.py --users 100000
    python benchmarks/bench_due_scan.py --users 1000000 --old-minutes 2
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
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, select, text, update
from sqlalchemy.engine import Engine

from jobs.runner import DeliveryRunner, Outcome
from jobs.schedule import KINDS, Due, due_now, next_due
from storage import accounts
from storage.db import make_engine, upgrade
from storage.deliveries import Status
from storage.models import Base, DeliveryRow
from wavelength.domain import UserId, UserPrefs

# A spread of real zones: whole, half and quarter hours, both hemispheres, with and without
# daylight saving (the old way's cost grows with them; the new way's doesn't).
ZONES = (
    "UTC", "Europe/London", "Europe/Lisbon", "Europe/Berlin", "Europe/Paris", "Europe/Madrid",
    "Europe/Warsaw", "Europe/Athens", "Europe/Helsinki", "Europe/Istanbul", "Europe/Moscow",
    "Africa/Lagos", "Africa/Cairo", "Africa/Nairobi", "Africa/Johannesburg", "Asia/Dubai",
    "Asia/Tehran", "Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka",
    "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Asia/Seoul", "Australia/Perth",
    "Australia/Adelaide", "Australia/Sydney", "Pacific/Auckland", "Pacific/Honolulu",
    "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Chicago",
    "America/New_York", "America/Halifax", "America/St_Johns", "America/Sao_Paulo",
    "America/Mexico_City", "America/Bogota",
)  # fmt: skip
# 07:50 UTC on a Friday: Berlin's, Paris's and Lagos's default 09:00 fall inside the window.
START = datetime(2026, 11, 27, 7, 50, tzinfo=UTC)
PG_ADMIN_URL = os.environ.get(
    "WAVELENGTH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CHUNK = 20_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def database(kind: str) -> Iterator[Engine]:
    """A fresh, migrated database of ``kind``, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="wl-due-") as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'due.db'}")
            upgrade(engine)
            yield engine
            engine.dispose()
        return
    name = f"wl_bench_due_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
        upgrade(engine)
        yield engine
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fill(engine: Engine, users: int, seed: int) -> None:
    """``users`` listeners (one in twenty paused or opted out), with what rounds up to a
    minute before ``START`` leave behind: a ledger row for everyone due in the 12 hours
    before, and everyone's next-due instant."""
    rng = random.Random(seed)
    users_t, settings_t = Base.metadata.tables["users"], Base.metadata.tables["user_settings"]
    created = datetime(2026, 1, 1, tzinfo=UTC)
    before = START - timedelta(minutes=1)
    for start in range(1, users + 1, CHUNK):
        ids = range(start, min(users + 1, start + CHUNK))
        people = [{"id": i, "name": f"listener-{i}", "created_at": created} for i in ids]
        prefs = {
            UserId(i): UserPrefs(
                time_zone=rng.choice(ZONES),
                delivery_minute=9 * 60 if rng.random() < 0.5 else rng.randrange(1440),
                daily=rng.random() < 0.97,
                paused=rng.random() < 0.02,
            )
            for i in ids
        }
        opted = [(u, p) for u, p in prefs.items() if p.daily and not p.paused]
        settings = [
            {
                "user_id": u, "time_zone": p.time_zone, "delivery_minute": p.delivery_minute,
                "daily": p.daily, "paused": p.paused, "updated_at": created,
                "next_due_at": next_due(p, before) if p.daily and not p.paused else None,
            }
            for u, p in prefs.items()
        ]  # fmt: skip
        with engine.begin() as conn:
            conn.execute(users_t.insert(), people)
            conn.execute(settings_t.insert(), settings)
        record(engine, list(due_now(opted, before)))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f"SELECT setval('users_id_seq', {users + 1})"))
    # What autovacuum would have done by then (PostgreSQL: visibility map for index-only
    # scans, and statistics; VACUUM can't run inside a transaction).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


def record(engine: Engine, due: list[Due]) -> None:
    """Ledger rows for ``due``, as SENT."""
    table = Base.metadata.tables["deliveries"]
    rows = [
        {
            "user_id": d.user, "kind": d.kind, "day": d.day.isoformat(), "status": "sent",
            "attempts": 1, "claimed_by": "bench", "claimed_until": d.due_at, "due_at": d.due_at,
            "done_at": d.due_at,
        }
        for d in due
    ]  # fmt: skip
    for start in range(0, len(rows), CHUNK):
        with engine.begin() as conn:
            conn.execute(table.insert(), rows[start : start + CHUNK])


class _Nobody:
    """The runner's composer and sender are not used here."""

    def compose(self, kind: str, users: Any) -> dict[Any, object]:
        return {}

    async def send(self, due: Due, content: object, gate: Any) -> Outcome:
        return Outcome(Status.SKIPPED)


def old_way(engine: Engine, now: datetime) -> list[Due]:
    with engine.connect() as conn:
        opted = accounts.opted_in(conn=conn)
    return list(due_now(opted, now))


def timed(fn: Callable[[], list[Due]]) -> tuple[float, list[Due]]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def claim_and_send(engine: Engine, runner: DeliveryRunner, now: datetime) -> int:
    """What a round does with the new way's finds, minus composing: claim, mark sent."""
    scan = runner.scan(now)
    claims = runner.claim(scan.due, now)
    runner.advance(scan, now)
    ids = [c.id for _, c in claims]
    for start in range(0, len(ids), CHUNK):
        with engine.begin() as conn:
            conn.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_(ids[start : start + CHUNK]))
                .values(status="sent")
            )
    return len(claims)


def explain(engine: Engine, runner: DeliveryRunner, now: datetime) -> list[str]:
    """The plans of the SELECTs one scan makes, with the parameters it made them with."""
    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        runner.scan(now)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    sqlite = engine.dialect.name == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF) "
    lines = []
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        for statement, params in seen:
            lines.append("  " + " ".join(statement.split())[:150])
            cursor.execute(prefix + statement, params)
            lines += ["    " + str(row[-1] if sqlite else row[0]) for row in cursor.fetchall()]
    return lines


def bench(
    kind: str, users: int, minutes: int, old_minutes: int, seed: int, show_plans: bool
) -> list[str]:
    lines = []
    with database(kind) as engine:
        t0 = time.perf_counter()
        fill(engine, users, seed)
        with engine.connect() as conn:
            ledger = conn.execute(select(text("count(*)")).select_from(DeliveryRow)).scalar()
        lines.append(f"{kind}: filled {users:,} listeners, {ledger:,} ledger rows in "
                     f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
        runner = DeliveryRunner(
            database=engine, composer=_Nobody(), sender=_Nobody(), worker="bench",
            clock=lambda: START, kinds=KINDS,
        )  # fmt: skip
        old_s, new_s, found, tried = [], [], [], []
        old_mb = new_mb = 0.0
        for minute in range(minutes):
            now = START + timedelta(minutes=minute)
            new_t, new = timed(lambda now=now: runner.scan(now).due)
            new_s.append(new_t)
            found.append(len(new))
            new_mb = max(new_mb, peak_mb(lambda now=now: runner.scan(now)))  # again, traced
            if minute < old_minutes:
                old_t, old = timed(lambda now=now: old_way(engine, now))
                old_s.append(old_t)
                if minute == 0:
                    old_mb = peak_mb(lambda now=now: old_way(engine, now))
                tried.append(len(old))
                with engine.connect() as conn:
                    done = {
                        (r.user_id, r.kind, r.day)
                        for r in conn.execute(
                            select(DeliveryRow.user_id, DeliveryRow.kind, DeliveryRow.day)
                        )
                    }
                expected = [d for d in old if (d.user, d.kind, d.day.isoformat()) not in done]
                assert sorted(expected, key=_key) == sorted(new, key=_key), "old != new"
            claim_and_send(engine, runner, now)
        at = START + timedelta(minutes=minutes)
        if show_plans:
            lines += [f"{kind} plans at {at:%H:%M}:", *explain(engine, runner, at)]
    lines += [
        f"| {kind} | old: opted_in + due_now | {len(old_s)} | {1000 * statistics.median(old_s):,.1f} "
        f"| {1000 * percentile(old_s, 0.99):,.1f} | {old_mb:,.2f} | {statistics.median(tried):,.0f} "
        "due (each then tried a claim) |",
        f"| {kind} | new: next-due range + retries + ledger check | {len(new_s)} "
        f"| {1000 * statistics.median(new_s):,.1f} | {1000 * percentile(new_s, 0.99):,.1f} "
        f"| {new_mb:,.2f} | {statistics.median(found):,.0f} (max {max(found):,}) to claim |",
    ]  # fmt: skip
    return lines


def _key(d: Due) -> tuple[int, str, str]:
    return (d.user, d.kind, d.day.isoformat())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--minutes", type=int, default=20, help="simulated clock, one round a minute"
    )
    parser.add_argument(
        "--old-minutes", type=int, default=None,
        help="rounds the old way is timed for (default: all; it is slow at 1M)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--explain", action="store_true", help="print the new way's plans")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    old_minutes = args.minutes if args.old_minutes is None else args.old_minutes
    print(f"# Due scan, {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")  # fmt: skip
    print(f"# {args.users:,} listeners in {len(ZONES)} zones; clock {START:%H:%M} UTC + "
          f"{args.minutes} min; times in ms per round")  # fmt: skip
    out = []
    for kind in kinds:
        out += bench(kind, args.users, args.minutes, old_minutes, args.seed, args.explain)
    print("\n".join(line for line in out if not line.startswith("|")))
    print("| db | way | rounds | p50 ms | p99 ms | peak MB | per round |")
    print("|---|---|--:|--:|--:|--:|---|")
    print("\n".join(line for line in out if line.startswith("|")))


if __name__ == "__main__":
    main()
