"""What a station costs when its requests move between processes, against staying in one.

With ``WAVELENGTH_API_PROCESSES=2`` the kernel hands each new connection to either process,
and a client's pooled connections carry any station's requests, so a station's batches are
composed by both processes in turn. Each process keeps its own memos (a liked track's
neighbours, the last mood search, the catalog facts, the vectors it read), so a hop composes
from colder memos than a station that stays. This measures that, without HTTP, in one thread
and one process (so the two cases see the same machine at the same moment):

* ``baseline: one service``   8 stations, each round a reaction (like, skip or love on a card
                              of the last batch, as ``load_api.py`` sends) and the next batch,
                              all on one ``StationService``
* ``hopping: two services``   the same, each call on one of two services chosen at random:
                              the main runtime's and one built as an API process builds its own
                              (``wavelength.process_parts.build_parts``: own database pool,
                              composer, memos and copy of the vectors), each liked track's
                              neighbours kept by each service alone (as before 2026-11-28)
* ``hopping: shared liked``   the same two services as ``WAVELENGTH_API_PROCESSES=2`` builds
                              them: liked tracks' neighbours shared through the data home's
                              ``cache/neighbours.sqlite`` (``storage.neighbour_cache``)

The two cases alternate in blocks of rounds, on separate copies of the data home, so a drift
in the machine's speed reaches both. Reports CPU per round, latency of the next batch, and
vector searches per round (every search the store answered, all sources).

    WAVELENGTH_DATA_HOME=/tmp/wl-demo python benchmarks/bench_station_hops.py [--blocks 6]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_api import MOODS, copy_home, percentile

STATIONS = 8
CASES = ("baseline: one service", "hopping: two services", "hopping: shared liked")


class _Searches:
    """Counts the store's searches (every source's, in either service), and by kind: a
    genre-filtered search is the genre source's; one that leaves nothing played out is a liked
    track's neighbours (kept per track, so they may skip the station's plays) or the seed
    source's; the rest are the mood source's (or the playlists source's, on the playlists)."""

    def __init__(self) -> None:
        from vectorstore.edge import EdgeStore

        self.n = 0
        self.kinds: dict[str, int] = defaultdict(int)
        self.counting = False
        original = EdgeStore.search

        def counted(store: Any, *args: Any, **kwargs: Any) -> Any:
            self.n += 1
            if self.counting:
                where = kwargs.get("where")
                kind = (
                    "genre" if where is not None and where.genres_any
                    else "liked/seed" if where is None or not where.exclude_ids
                    else "mood"
                )  # fmt: skip
                self.kinds[kind] += 1
            return original(store, *args, **kwargs)

        EdgeStore.search = counted  # type: ignore[method-assign]


class _Case:
    """One case's stations and the services its calls go to."""

    def __init__(self, apis: list[Any], seed: int) -> None:
        self.apis = apis
        self.rng = random.Random(seed)
        self.stations: list[list[Any]] = []
        self.cpu: list[float] = []
        self.next_s: list[float] = []
        self.searches = 0
        self.kinds: dict[str, int] = defaultdict(int)
        self.rounds = 0

    def api(self) -> Any:
        return self.rng.choice(self.apis)

    def start(self, make_user: Any) -> None:
        for i in range(STATIONS):
            who = make_user(f"hops-{i}")
            batch = self.api().create(who, MOODS[i % len(MOODS)], None)
            self.stations.append([who, batch.station.id, batch, random.Random(i)])

    def play(self, rounds: int, searches: _Searches, *, measure: bool) -> None:
        from wavelength.domain import Reaction, StationId, TrackId

        searches.kinds.clear()
        searches.counting = measure

        for _ in range(rounds):
            for entry in self.stations:
                who, sid, batch, rng = entry
                cpu, before = time.process_time(), searches.n
                card = rng.choice(batch.cards)
                reaction = rng.choice((Reaction.LIKE, Reaction.SKIP, Reaction.LOVE))
                self.api().feedback(who, StationId(sid), TrackId(card.track.id), reaction)
                start = time.perf_counter()
                entry[2] = self.api().next(who, StationId(sid))
                if measure:
                    self.next_s.append(time.perf_counter() - start)
                    self.cpu.append(time.process_time() - cpu)
                    self.searches += searches.n - before
                    self.rounds += 1
        for kind, n in searches.kinds.items():
            self.kinds[kind] += n


async def measure(source: Path, blocks: int, rounds: int, warm: int) -> dict[str, _Case]:
    """Both cases built side by side, then measured in alternating blocks."""
    from wavelength.app import runtime
    from wavelength.process_parts import build_parts
    from wavelength.settings import Settings
    from web.stations import StationsApi

    searches = _Searches()
    cases: dict[str, _Case] = {}
    async with AsyncExitStack() as stack:
        for seed, name in enumerate(CASES):
            home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wl-hops-")))
            copy_home(source, home)
            # Two API processes' settings share the liked tracks' neighbours (nothing here
            # starts processes: the runtime and ``build_parts`` are all in this one).
            processes = 2 if name == CASES[2] else 1
            settings = Settings(data_home=home, demo_catalog=False, api_processes=processes)
            rt = await stack.enter_async_context(
                runtime(settings, echo=lambda _: None, progress=False)
            )
            apis = [StationsApi(service=rt.stations)]
            if name != CASES[0]:
                parts = build_parts(settings, home / "scratch")
                stack.callback(parts.close)
                apis.append(StationsApi(service=parts.service))
            case = _Case(apis, seed)
            case.start(lambda who, rt=rt: rt.stations.user("bench", who))
            case.play(warm, searches, measure=False)
            cases[name] = case
        for block in range(blocks):
            order = CASES if block % 2 == 0 else CASES[::-1]
            for name in order:
                cases[name].play(rounds, searches, measure=True)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--blocks", type=int, default=6, help="alternating blocks per case")
    parser.add_argument("--rounds", type=int, default=8, help="rounds of all 8 stations a block")
    parser.add_argument("--warm", type=int, default=10, help="unmeasured rounds first")
    args = parser.parse_args()
    if "WAVELENGTH_DATA_HOME" not in os.environ:
        parser.error("set WAVELENGTH_DATA_HOME to a trained data home (it is copied, not changed)")
    cases = asyncio.run(
        measure(Path(os.environ["WAVELENGTH_DATA_HOME"]), args.blocks, args.rounds, args.warm)
    )
    print(
        f"\n{STATIONS} stations, reaction + next batch per round, {args.blocks} alternating "
        f"blocks of {args.rounds} rounds per case after {args.warm} warm rounds; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(
        f"{'case':<24}{'rounds':>7}{'CPU ms/round':>14}{'next p50 ms':>13}{'next p99 ms':>13}"
        f"{'searches/round':>16}{'rounds/s/core':>15}"
    )
    per_round: dict[str, float] = defaultdict(float)
    for name in CASES:
        case = cases[name]
        per_round[name] = sum(case.cpu) / case.rounds
        print(
            f"{name:<24}{case.rounds:>7}{per_round[name] * 1000:>14.2f}"
            f"{percentile(case.next_s, 0.5) * 1000:>13.2f}"
            f"{percentile(case.next_s, 0.99) * 1000:>13.2f}"
            f"{case.searches / case.rounds:>16.2f}{1 / per_round[name]:>15.0f}"
        )
    kinds = sorted({k for c in cases.values() for k in c.kinds})
    for name in CASES:
        case = cases[name]
        counts = ", ".join(f"{k} {case.kinds[k] / case.rounds:.2f}" for k in kinds)
        print(f"searches per round by kind, {name.split(':')[0]}: {counts}")
    for name in CASES[1:]:
        ratio = per_round[name] / per_round[CASES[0]]
        print(f"ratio ({name.split(': ')[1]} / baseline CPU per round): {ratio:.2f}")


if __name__ == "__main__":
    main()
