"""Does qdrant-edge let other Python threads run while it searches? Another thread sleeps
0.2 ms in a loop and the time each sleep really takes is measured: beside work that releases
the GIL it stays near 0.2 ms; beside work that holds it, it waits for the interpreter's switch
interval (5 ms). Works on a copy of a trained data home's track vectors (a shard has one
opener, so never the live one):

    python benchmarks/probe_edge_gil.py /tmp/copy-of-home/vectors

2026-11-27, qdrant-edge-py 0.9.0: a search holds the GIL (``docs/benchmarks.md``).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qdrant_edge as qe

from vectorstore.base import CollectionName, VectorName
from vectorstore.edge import EdgeStore


def sleeps_beside(work: Callable[[], object] | None, seconds: float = 1.0) -> list[float]:
    """How long each 0.2 ms sleep of this thread took while ``work`` ran in a loop beside it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            work()  # type: ignore[misc]

    other = threading.Thread(target=loop) if work is not None else None
    if other is not None:
        other.start()
    took: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        time.sleep(0.0002)
        took.append(time.perf_counter() - start)
    stop.set()
    if other is not None:
        other.join()
    return sorted(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vectors", type=Path, help="a copy of a data home's vectors folder")
    args = parser.parse_args()
    store = EdgeStore(args.vectors)
    try:
        shard = store._get(CollectionName.TRACKS).engine
        probe = np.random.default_rng(0).standard_normal(384).astype(np.float32)
        hits = store.search(CollectionName.TRACKS, using=VectorName.TEXT, vector=probe, n=1)
        if not hits:
            parser.error("no track vectors in that folder")
        real = store.vectors(CollectionName.TRACKS, [hits[0].id], using=VectorName.TEXT)
        query = qe.QueryRequest(
            limit=200,
            query=qe.Query.Nearest(real[hits[0].id].tolist(), using=VectorName.TEXT.value),
            params=qe.SearchParams(hnsw_ef=200),
            with_payload=False,
            with_vector=False,
        )
        matrix = np.random.default_rng(1).random((400, 400))
        cases: list[tuple[str, Callable[[], object] | None]] = [
            ("nothing (baseline)", None),
            ("numpy matmul (releases the GIL)", lambda: matrix @ matrix),
            ("a Python loop (holds the GIL)", lambda: sum(range(1000))),
            ("qdrant-edge query, 200 results", lambda: shard.query(query)),
        ]
        print(f"{'beside':<36}{'p50 ms':>9}{'p99 ms':>9}{'ratio p50':>11}")
        base = None
        for label, work in cases:
            took = sleeps_beside(work)
            p50, p99 = took[len(took) // 2], took[int(0.99 * len(took))]
            base = base or p50
            print(f"{label:<36}{p50 * 1000:>9.2f}{p99 * 1000:>9.2f}{p50 / base:>11.1f}")
    finally:
        store.close()


if __name__ == "__main__":
    main()
