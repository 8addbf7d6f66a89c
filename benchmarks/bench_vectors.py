"""Search benchmark of the vector store: qdrant-edge against qdrant-client's local mode.

For each scale and backend, in its own subprocess (so ``ru_maxrss`` is that case's own):
load the points through ``VectorStore.upsert``, build the index (``finish_bulk_load``), then
time ``VectorStore.search`` one query at a time, without a filter and with the app's most
common one (a year range and ``explicit=False``). qdrant-client's local mode is the named
baseline: pure numpy, exact, and the store the tests use. It filters in Python, so its
queries are capped by a time budget and the table says how many ran.

For qdrant-edge it then measures HNSW recall@10 against the same shard searched exactly, for
a few ``hnsw_ef`` values (other ``EdgeStore`` objects on the same folder share the open
shard, so the sweep costs no reload).

Vectors: ``--vectors FILE.npy`` (float32, N x d, real embeddings). The last rows are held out
as queries. Scales larger than the file are filled with noisy copies of real vectors
(Gaussian noise of norm ~0.25, re-normalised), and the output says so. Without a file the
points are seeded random unit vectors, whose recall numbers mean little.

    python benchmarks/bench_vectors.py --quick                      # 20k points, < 1 minute
    python benchmarks/bench_vectors.py --vectors text-384.npy       # 100k and 1M points
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
RESULT_MARK = "BENCH-RESULT "
BACKENDS = ("edge", "edge-nolinks", "local")  # edge-nolinks: no payload-aware HNSW links
NAMES = {
    "edge": "qdrant-edge",
    "edge-nolinks": "qdrant-edge, no payload links",
    "local": "qdrant-client local (baseline)",
}
BASELINE = "local"
QUICK_POINTS = 20_000
CHUNK = 10_000  # points are made (and seeded) in fixed chunks, so any process can remake them
NOISE_NORM = 0.25
RANDOM_DIM = 384
EF_VALUES = (16, 32, 64, 128, 256)
YEARS = (1950, 2025)
FILTER_NAME = "year 1990-2010, explicit=False"


# --------------------------------------------------------------------------- data


class Source:
    """Base vectors (real or random), grown to any size, plus held-out queries."""

    def __init__(self, path: Path | None, queries: int, seed: int) -> None:
        self.seed = seed
        self.path = path
        if path is None:
            self.real: np.ndarray[Any, Any] | None = None
            self.dim = RANDOM_DIM
            self.base_rows = 0
            rng = np.random.default_rng([seed, 1])
            self.queries = _normalised(rng.standard_normal((queries, self.dim)))
            return
        data = np.load(path, mmap_mode="r")
        if data.ndim != 2 or len(data) < 2:
            raise SystemExit(f"{path}: expected an N x d matrix, got shape {data.shape}")
        held = min(queries, len(data) // 10)
        self.real = data
        self.dim = int(data.shape[1])
        self.base_rows = len(data) - held
        picked = np.asarray(data[self.base_rows :], dtype=np.float32)
        if held < queries:  # too few real rows to spare: noisy copies make up the rest
            rng = np.random.default_rng([seed, 2])
            extra = data[rng.integers(0, self.base_rows, queries - held)]
            picked = np.vstack([picked, self._noisy(np.asarray(extra, np.float32), rng)])
        self.queries = _normalised(picked)

    def describe(self, points: int) -> str:
        if self.real is None:
            return f"seeded random unit vectors, d={self.dim}"
        text = (
            f"{self.path.name if self.path else ''}: {self.base_rows:,} real vectors, d={self.dim}"
        )
        if points > self.base_rows:
            text += (
                f"; beyond that, noisy copies of real vectors (Gaussian noise of norm "
                f"~{NOISE_NORM}, re-normalised) fill {points - self.base_rows:,} points"
            )
        return text + f"; {len(self.queries)} held-out real rows as queries"

    def _noisy(self, rows: np.ndarray[Any, Any], rng: np.random.Generator) -> np.ndarray[Any, Any]:
        noise = rng.standard_normal(rows.shape).astype(np.float32)
        return rows + noise * (NOISE_NORM / np.sqrt(self.dim))

    def chunk(self, start: int, end: int) -> np.ndarray[Any, Any]:
        """Rows ``start..end`` of the grown collection (``start`` is a multiple of CHUNK)."""
        rng = np.random.default_rng([self.seed, 3, start])
        if self.real is None:
            return _normalised(rng.standard_normal((end - start, self.dim)))
        index = np.arange(start, end)
        rows = np.asarray(self.real[index % self.base_rows], dtype=np.float32)
        grown = index >= self.base_rows
        if grown.any():
            rows[grown] = self._noisy(rows[grown], rng)
        return _normalised(rows)


def _normalised(rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def payloads(start: int, end: int, seed: int) -> Iterator[Any]:
    """Seeded payloads: year (5% unknown), explicit (20% yes, 20% unknown), popularity."""
    from vectorstore import Payload

    rng = np.random.default_rng([seed, 4, start])
    n = end - start
    years = rng.integers(YEARS[0], YEARS[1], n)
    unknown_year = rng.random(n) < 0.05
    explicit = rng.choice(np.array([1, 0, 2]), size=n, p=[0.2, 0.6, 0.2])
    popularity = rng.integers(0, 100, n)
    artists = rng.integers(0, 50_000, n)
    genres = rng.integers(0, 40, (n, 2))
    for i in range(n):
        yield Payload(
            artist_id=f"artist:{artists[i]}",
            genres=(f"g{genres[i, 0]}", f"g{genres[i, 1]}"),
            year=None if unknown_year[i] else int(years[i]),
            explicit={1: True, 0: False, 2: None}[int(explicit[i])],
            popularity=int(popularity[i]),
        )


def points(source: Source, total: int) -> Iterator[list[Any]]:
    from vectorstore import Point, VectorName

    for start in range(0, total, CHUNK):
        end = min(start + CHUNK, total)
        vectors = source.chunk(start, end)
        yield [
            Point(f"track:{start + i}", {VectorName.TEXT: vectors[i]}, payload)
            for i, payload in enumerate(payloads(start, end, source.seed))
        ]


# --------------------------------------------------------------------------- worker side


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _folder_mb(path: Path) -> float:
    """Disk blocks in use (qdrant-edge preallocates sparse files, so sizes would overstate)."""
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file()) / 2**20


def time_queries(
    store: Any, queries: np.ndarray[Any, Any], where: Any, budget_s: float, n: int = 10
) -> dict[str, Any]:
    """Sequential single-query latency; stops early (after at least 5) past the budget."""
    from vectorstore import CollectionName, VectorName

    for query in queries[:3]:  # warm caches and lazy paths
        store.search(CollectionName.TRACKS, using=VectorName.TEXT, vector=query, n=n, where=where)
    latencies = []
    started = time.perf_counter()
    for query in queries:
        t = time.perf_counter()
        store.search(CollectionName.TRACKS, using=VectorName.TEXT, vector=query, n=n, where=where)
        latencies.append(time.perf_counter() - t)
        if len(latencies) >= 5 and time.perf_counter() - started > budget_s:
            break
    ms = np.array(latencies) * 1000
    return {
        "queries": len(ms),
        "capped": len(ms) < len(queries),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "qps": len(ms) / (ms.sum() / 1000),
    }


def recall_sweep(
    root: Path, queries: np.ndarray[Any, Any], where: Any, ef_values: tuple[int, ...]
) -> list[dict[str, Any]]:
    from vectorstore import NO_FILTER, CollectionName, VectorName
    from vectorstore.edge import EdgeStore, EdgeTuning

    def top10(store: EdgeStore, query: np.ndarray[Any, Any], flt: Any) -> list[str]:
        hits = store.search(CollectionName.TRACKS, using=VectorName.TEXT, vector=query, where=flt)
        return [h.id for h in hits]

    exact = EdgeStore(root, tuning=EdgeTuning(exact=True))
    truth = {
        name: [top10(exact, q, flt) for q in queries]
        for name, flt in (("none", NO_FILTER), ("filter", where))
    }
    exact.close()
    rows = []
    for ef in ef_values:
        store = EdgeStore(root, tuning=EdgeTuning(hnsw_ef=ef))
        row: dict[str, Any] = {"ef": ef}
        for name, flt in (("none", NO_FILTER), ("filter", where)):
            found, latencies = 0, []
            for query, want in zip(queries, truth[name], strict=True):
                t = time.perf_counter()
                got = top10(store, query, flt)
                latencies.append(time.perf_counter() - t)
                found += len(set(got) & set(want))
            row[f"recall_{name}"] = found / sum(len(w) for w in truth[name])
            row[f"p50_ms_{name}"] = float(np.percentile(latencies, 50) * 1000)
        store.close()
        rows.append(row)
    return rows


def worker(args: argparse.Namespace) -> dict[str, Any]:
    import warnings

    with warnings.catch_warnings():
        # Local mode warns that it is not meant for large collections; that is the point here.
        warnings.simplefilter("ignore", UserWarning)
        return _measure(args)


def _measure(args: argparse.Namespace) -> dict[str, Any]:
    from vectorstore import NO_FILTER, CollectionName, Filter, VectorName

    source = Source(args.vectors, args.queries, args.seed)
    where = Filter(year_min=1990, year_max=2010, explicit=False)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)  # a fresh folder is fine to name
    workdir = Path(tempfile.mkdtemp(prefix="bench-vectors-", dir=args.workdir))
    result: dict[str, Any] = {"backend": args.worker, "points": args.points, "dim": source.dim}
    result["load_avg_start"] = os.getloadavg()[0]
    try:
        edge = args.worker.startswith("edge")
        if edge:
            from vectorstore.edge import EdgeStore, EdgeTuning

            links = args.worker != "edge-nolinks"
            tuning = EdgeTuning(hnsw_ef=args.ef, payload_hnsw=links)
            store: Any = EdgeStore(workdir, tuning=tuning)
            result["hnsw_ef"] = args.ef
        else:
            from vectorstore.server import QdrantServerStore

            store = QdrantServerStore.local()
        result["rss_before_mb"] = _rss_mb()
        store.ensure_collection(CollectionName.TRACKS, dims={VectorName.TEXT: source.dim})
        load_s = 0.0
        for batch in points(source, args.points):
            t = time.perf_counter()
            store.upsert(CollectionName.TRACKS, batch)
            load_s += time.perf_counter() - t
        t = time.perf_counter()
        store.finish_bulk_load(CollectionName.TRACKS)
        result["index_s"] = time.perf_counter() - t
        result["load_s"] = load_s
        if edge:
            result["indexed_vectors"] = store.indexed_vectors(CollectionName.TRACKS)
        result["search"] = {
            "none": time_queries(store, source.queries, NO_FILTER, args.budget_s),
            "filter": time_queries(store, source.queries, where, args.budget_s),
        }
        result["peak_rss_mb"] = _peak_rss_mb()
        if edge:
            result["disk_mb"] = _folder_mb(workdir)
            recall_queries = source.queries[: args.recall_queries]
            result["recall"] = recall_sweep(workdir, recall_queries, where, tuple(args.ef_values))
            result["recall_queries"] = len(recall_queries)
        store.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["load_avg_end"] = os.getloadavg()[0]
    result["when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return result


# --------------------------------------------------------------------------- parent side


def run_case(backend: str, points_n: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        backend,
        "--points",
        str(points_n),
        "--queries",
        str(args.queries),
        "--recall-queries",
        str(args.recall_queries),
        "--budget-s",
        str(args.local_budget_s if backend == "local" else args.budget_s),
        "--seed",
        str(args.seed),
        "--ef",
        str(args.ef),
        "--ef-values",
        *map(str, args.ef_values),
    ]
    if args.vectors:
        command += ["--vectors", str(args.vectors)]
    if args.workdir:
        command += ["--workdir", str(args.workdir)]
    print(f"-- {backend} @ {points_n:,}: running ...", file=sys.stderr, flush=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.run(
        command,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=args.timeout,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_MARK)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"{backend} @ {points_n} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_MARK))
    print(
        f"-- {backend} @ {points_n:,}: load {result['load_s']:.1f} s, index {result['index_s']:.1f} s, "
        f"p50 {result['search']['none']['p50_ms']:.2f} ms, peak RSS {result['peak_rss_mb']:,.0f} MB",
        file=sys.stderr,
        flush=True,
    )
    return result


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def machine() -> str:
    from importlib.metadata import version

    return (
        f"{_cpu_model()}, {os.cpu_count()} cores, {_ram_gb():.0f} GB RAM, "
        f"Python {platform.python_version()}, qdrant-edge-py {version('qdrant-edge-py')}, "
        f"qdrant-client {version('qdrant-client')}"
    )


def markdown(results: list[dict[str, Any]], source_text: str, args: argparse.Namespace) -> str:
    from vectorstore._common import HNSW_EF_CONSTRUCT, HNSW_M

    stamps = sorted(r["when"] for r in results)
    lines = [
        f"## Vector search benchmark ({stamps[0]} .. {stamps[-1]})",
        "",
        f"Machine: {machine()}.",
        f"Vectors: {source_text}.",
        *(
            [
                "",
                "> **NOTE: random vectors.** Recall and latency on random unit vectors are not "
                "meaningful for real embeddings (no neighbourhood structure, so HNSW is at its "
                "worst and filters cut uniformly). Rerun with `--vectors FILE.npy`.",
                "",
            ]
            if args.vectors is None
            else []
        ),
        f"Searches go through `VectorStore.search` (n=10), one at a time. Filter: {FILTER_NAME}. "
        f"HNSW m={HNSW_M}, ef_construct={HNSW_EF_CONSTRUCT}; qdrant-edge searched with "
        f"hnsw_ef={args.ef}. Baseline: qdrant-client local mode (exact, numpy; filters in "
        f"Python, so its queries stop after a {args.local_budget_s:g} s budget: see `queries`). "
        "Speed-up: baseline p50 / this p50 at the same scale and filter.",
        "1-minute load average at the start / end of each case (well above 1 with few cores "
        "means other work shared the CPU): "
        + ", ".join(
            f"{NAMES[r['backend']]} {r['points']:,}: {r.get('load_avg_start', float('nan')):.1f}"
            f"/{r.get('load_avg_end', float('nan')):.1f}"
            for r in results
        )
        + ".",
        "",
        "| backend | points | filter | queries | p50 ms | p99 ms | QPS | speed-up vs local "
        "| load s | index s | peak RSS MB | RSS before MB |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = {
        (r["points"], f): r["search"][f]["p50_ms"]
        for r in results
        if r["backend"] == BASELINE
        for f in ("none", "filter")
    }
    for r in results:
        name = NAMES[r["backend"]]
        for f in ("none", "filter"):
            s = r["search"][f]
            ref = base.get((r["points"], f))
            speed = f"{ref / s['p50_ms']:,.1f}x" if ref else "n/a"
            queries = f"{s['queries']}{' (capped)' if s['capped'] else ''}"
            lines.append(
                f"| {name} | {r['points']:,} | {'none' if f == 'none' else 'year+clean'} "
                f"| {queries} | {s['p50_ms']:,.2f} | {s['p99_ms']:,.2f} | {s['qps']:,.0f} "
                f"| {speed} | {r['load_s']:,.1f} | {r['index_s']:,.1f} "
                f"| {r['peak_rss_mb']:,.0f} | {r['rss_before_mb']:,.0f} |"
            )
    edge = [r for r in results if r["backend"] != BASELINE]
    if edge:
        lines += [
            "",
            "### qdrant-edge HNSW recall@10 against exact search on the same shard",
            "",
            "| backend | points | hnsw_ef | recall@10 | recall@10 year+clean | p50 ms "
            "| p50 ms year+clean |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in edge:
            for row in r["recall"]:
                lines.append(
                    f"| {NAMES[r['backend']]} | {r['points']:,} | {row['ef']} "
                    f"| {row['recall_none']:.4f} "
                    f"| {row['recall_filter']:.4f} | {row['p50_ms_none']:.2f} "
                    f"| {row['p50_ms_filter']:.2f} |"
                )
        lines.append("")
        lines.append(
            "Recall over "
            + ", ".join(f"{r['recall_queries']} queries at {r['points']:,}" for r in edge)
            + ". Indexed vectors / shard on disk: "
            + "; ".join(
                f"{NAMES[r['backend']]} at {r['points']:,}: {r['indexed_vectors']:,}, "
                f"{r['disk_mb']:,.0f} MB"
                for r in edge
            )
            + "."
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Search latency, memory and recall of the stores.")
    parser.add_argument("--vectors", type=Path, help="float32 N x d .npy of real embeddings")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_POINTS:,} points, 200 queries (local mode: 3 s a phase)",
    )
    parser.add_argument("--points", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=["edge", "local"])
    parser.add_argument("--queries", type=int, default=1000, help="timed queries per case")
    parser.add_argument("--recall-queries", type=int, default=200)
    parser.add_argument("--ef", type=int, default=None, help="hnsw_ef of the timed edge runs")
    parser.add_argument("--ef-values", type=int, nargs="+", default=list(EF_VALUES))
    parser.add_argument("--budget-s", type=float, default=120.0, help="per timed phase")
    parser.add_argument(
        "--local-budget-s", type=float, default=60.0, help="per timed phase of local mode"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="where shards are built (default: /tmp)")
    parser.add_argument("--timeout", type=float, default=7200, help="seconds per case")
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ef is None:
        from vectorstore._common import DEFAULT_HNSW_EF

        args.ef = DEFAULT_HNSW_EF
    if args.worker:
        args.points = args.points[0]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(RESULT_MARK + json.dumps(worker(args)), flush=True)
        return 0
    if args.quick:
        args.points, args.queries, args.recall_queries = [QUICK_POINTS], 200, 50
        args.budget_s, args.local_budget_s = min(args.budget_s, 10.0), min(args.local_budget_s, 3.0)
    if args.vectors is None:
        print(
            "NOTE: no --vectors given: seeded random unit vectors; recall numbers on them are "
            "NOT meaningful.",
            file=sys.stderr,
        )
    results = [run_case(b, n, args) for n in args.points for b in args.backends]
    source = Source(args.vectors, args.queries, args.seed)
    text = markdown(results, source.describe(max(args.points)), args)
    print(text)
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    name = f"vectors-{'-'.join(map(str, args.points))}-{stamp}"
    (OUT / f"{name}.md").write_text(text, encoding="utf-8")
    (OUT / f"{name}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
