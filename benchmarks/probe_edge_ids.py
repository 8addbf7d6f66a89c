"""What a qdrant-edge id filter costs to build, by the type of the ids handed to it.

A station's searches leave out every track it has played; the filter holding those ids is
built again whenever the set changes (every batch). qdrant-edge 0.9 converts each id from
Python as it builds ``HasIdCondition``; this measures that conversion for string UUIDs (what
the store used to pass), ``uuid.UUID`` objects (what it passes now) and plain integers (what
a shard with integer point ids could take), against strings as the baseline.

    python benchmarks/probe_edge_ids.py --ids 500
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable

import qdrant_edge as qe


def timed(build: Callable[[], object], reps: int) -> list[float]:
    build()
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        build()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ids", type=int, default=500, help="ids in the filter")
    parser.add_argument("--reps", type=int, default=300)
    args = parser.parse_args()
    strings = [str(uuid.uuid4()) for _ in range(args.ids)]
    objects = [uuid.UUID(s) for s in strings]
    ints = list(range(args.ids))
    cases = {
        "str UUIDs (before)": lambda: qe.HasIdCondition(set(strings)),
        "uuid.UUID objects (now)": lambda: qe.HasIdCondition(set(objects)),
        "ints": lambda: qe.HasIdCondition(set(ints)),
    }
    print(f"HasIdCondition of {args.ids} ids, {args.reps} builds each")
    print(f"{'ids as':<26}{'p50 us':>9}{'p99 us':>9}{'us per id':>11}{'vs str':>8}")
    base = None
    for name, build in cases.items():
        got = sorted(timed(build, args.reps))
        p50 = statistics.median(got) * 1e6
        p99 = got[min(len(got) - 1, int(0.99 * len(got)))] * 1e6
        base = base or p50
        print(f"{name:<26}{p50:>9.0f}{p99:>9.0f}{p50 / args.ids:>11.2f}{base / p50:>7.1f}x")


if __name__ == "__main__":
    main()
