"""Fit benchmark for the collaborative item vectors on MPD-shaped interactions.

The interactions are drawn in memory (no JSON) from the distributions of
``make_mpd_corpus.py``: lognormal playlist lengths (median ~49, mean ~66, 5..250), Zipf-
Mandelbrot track popularity over a pool that grows like the MPD's (2.26M tracks at 1M
playlists). numpy draws them, so the values differ from the JSON generator's for the same
seed but the shape is the same; a track drawn twice for one playlist counts once, which
removes ~1% of the rows.

Each case runs in its own subprocess so its peak RSS (``ru_maxrss``) is its own:

* ``pairs``  iterate the ``(playlist, track)`` string pairs only (the cost of feeding build)
* ``build``  ``build_interactions`` over those pairs
* ``als``    ``AlsEmbedder().fit`` (64 factors) on the matrix, built directly with numpy
* ``bpr``    ``BprEmbedder().fit`` (64 factors) likewise

Slow fits can run fewer iterations than the model's default (``--als-iterations``,
``--bpr-iterations``); the table then extrapolates linearly to the default, and says so.

    python benchmarks/bench_cf.py --quick                 # 20k playlists, under a minute
    python benchmarks/bench_cf.py                         # 100k and 1M playlists
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
RESULT_MARK = "BENCH-RESULT "
CASES = ("pairs", "build", "als", "bpr")
QUICK_PLAYLISTS = 20_000
BASELINE = ("als", 100_000)  # every ratio is against this case's (full-iteration) fit time


# --------------------------------------------------------------------------- worker side


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def synthetic_playlists(
    playlists: int, seed: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(lengths, track ranks): playlist ``i`` holds the next ``lengths[i]`` ranks."""
    sys.path.insert(0, str(HERE))
    import make_mpd_corpus as mpd

    rng = np.random.default_rng(seed)
    size = mpd.pool_size(playlists)
    cum = np.cumsum(1.0 / (np.arange(size) + mpd.ZIPF_Q) ** mpd.ZIPF_S)
    lengths = np.clip(
        np.rint(rng.lognormal(mpd.LEN_MU, mpd.LEN_SIGMA, playlists)), mpd.LEN_MIN, mpd.LEN_MAX
    ).astype(np.int64)
    ranks = np.empty(int(lengths.sum()), dtype=np.int32)
    chunk = 1 << 22  # bounded temporaries: 32 MB of uniforms at a time
    for start in range(0, len(ranks), chunk):
        u = rng.random(min(chunk, len(ranks) - start)) * cum[-1]
        ranks[start : start + len(u)] = np.searchsorted(cum, u, side="right")
    return lengths, ranks


def _interactions(lengths: np.ndarray[Any, Any], ranks: np.ndarray[Any, Any]) -> Any:
    """The binary Interactions matrix straight from numpy (what build_interactions returns).

    Takes ``ranks`` over: scipy sorts and compacts it in place, so callers pass a copy if they
    still need it (the worker does not; at 1M playlists a copy is another 260 MB).
    """
    import scipy.sparse as sp

    from recommender.interactions import Interactions

    indptr = np.concatenate([[0], np.cumsum(lengths)])
    data = np.ones(len(ranks), dtype=np.float32)
    n_cols = int(ranks.max()) + 1
    matrix = sp.csr_matrix((data, ranks, indptr), shape=(len(lengths), n_cols))
    matrix.sum_duplicates()  # a rank drawn twice for one playlist counts once
    matrix.data[:] = 1.0
    used = np.flatnonzero(np.bincount(matrix.indices, minlength=n_cols))
    remap = np.full(n_cols, -1, dtype=np.int32)
    remap[used] = np.arange(len(used), dtype=np.int32)
    # Drop the pool's never-drawn tracks: renumber the columns without copying the data.
    matrix = sp.csr_matrix(
        (matrix.data, remap[matrix.indices], matrix.indptr), shape=(len(lengths), len(used))
    )
    return Interactions(
        matrix,
        tuple(f"p{i}" for i in range(len(lengths))),
        tuple(f"spotify:track:{r:022d}" for r in used.tolist()),
    )


def _pairs(lengths: np.ndarray[Any, Any], ranks: np.ndarray[Any, Any]) -> Any:
    names = [f"spotify:track:{r:022d}" for r in range(int(ranks.max()) + 1)]
    start = 0
    for i, n in enumerate(lengths.tolist()):
        pid = f"p{i}"
        for r in ranks[start : start + n].tolist():
            yield pid, names[r]
        start += n


def worker(
    case: str, playlists: int, seed: int, iterations: int | None, factors: int | None = None
) -> dict[str, Any]:
    started = time.perf_counter()
    lengths, ranks = synthetic_playlists(playlists, seed)
    result: dict[str, Any] = {"case": case, "playlists": playlists, "draws": len(ranks)}
    if case in ("pairs", "build"):
        pairs = _pairs(lengths, ranks)
        del lengths, ranks
        result["gen_s"] = time.perf_counter() - started
        result["rss_before_mb"] = _rss_mb()
        t0 = time.perf_counter()
        if case == "pairs":
            result["nnz"] = sum(1 for _ in pairs)
        else:
            from recommender.interactions import build_interactions

            data = build_interactions(pairs)
            result.update(nnz=data.nnz, items=data.n_items)
        result["seconds"] = time.perf_counter() - t0
    else:
        from recommender.cf import AlsEmbedder, BprEmbedder

        data = _interactions(lengths, ranks)
        del lengths, ranks
        result.update(nnz=data.nnz, items=data.n_items, gen_s=time.perf_counter() - started)
        kind: Any = AlsEmbedder if case == "als" else BprEmbedder
        full = kind().iterations
        params = {"iterations": iterations, "factors": factors}
        model = kind(**{k: v for k, v in params.items() if v is not None})
        result.update(iterations=model.iterations, default_iterations=full, model=model.name)
        result["rss_before_mb"] = _rss_mb()
        t0 = time.perf_counter()
        vectors = model.fit(data)
        result["seconds"] = time.perf_counter() - t0
        result["vectors"] = list(vectors.vectors.shape)
        result["full_fit_s"] = result["seconds"] * full / model.iterations
    result["peak_rss_mb"] = _peak_rss_mb()
    result["when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return result


# --------------------------------------------------------------------------- parent side


def run_case(
    case: str,
    playlists: int,
    seed: int,
    iterations: int | None,
    factors: int | None,
    timeout: float,
) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        case,
        "--playlists",
        str(playlists),
        "--seed",
        str(seed),
    ]
    if iterations is not None:
        command += ["--worker-iterations", str(iterations)]
    if factors is not None:
        command += ["--factors", str(factors)]
    print(f"-- {case} @ {playlists:,}: running ...", file=sys.stderr, flush=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_MARK)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"case {case!r} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_MARK))
    print(
        f"-- {case} @ {playlists:,}: {result['seconds']:.1f} s, "
        f"peak RSS {result['peak_rss_mb']:,.0f} MB",
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
    import implicit
    import implicit.gpu

    return (
        f"{_cpu_model()}, {os.cpu_count()} cores, {_ram_gb():.0f} GB RAM, "
        f"Python {platform.python_version()}, implicit {implicit.__version__} "
        f"({'CUDA' if implicit.gpu.HAS_CUDA else 'CPU'})"
    )


def markdown(results: list[dict[str, Any]], seed: int) -> str:
    base = next(
        (r for r in results if (r["case"], r["playlists"]) == BASELINE),
        next((r for r in results if r["case"] == "als"), None),
    )
    base_s = base["full_fit_s"] if base else None
    stamps = sorted(r["when"] for r in results if "when" in r)
    when = f"{stamps[0]} .. {stamps[-1]}" if stamps else datetime.now(UTC).strftime("%Y-%m-%d")
    base_name = f"ALS at {base['playlists']:,} playlists" if base else "none"
    lines = [
        f"## CF fit benchmark ({when})",
        "",
        f"Synthetic MPD-shaped interactions, seed {seed}. Machine: {machine()}.",
        f"Ratio: estimated full fit time over the baseline ({base_name}).",
        "",
        "| case | playlists | rows (nnz) | tracks | iterations run | seconds | "
        "s / iteration | est. full fit s | vs baseline | peak RSS MB | RSS before MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        its = r.get("iterations")
        full = r.get("full_fit_s")
        name = f"{r['case']} ({r['model']})" if "model" in r else r["case"]
        per_it = f"{r['seconds'] / its:,.2f}" if its else ""
        if full is None:
            est = ""
        elif its != r["default_iterations"]:
            est = f"{full:,.0f} (extrapolated x{r['default_iterations'] / its:g})"
        else:
            est = f"{full:,.1f}"
        ratio = f"{full / base_s:.2f}" if full is not None and base_s else ""
        tracks = f"{r['items']:,}" if "items" in r else ""
        lines.append(
            f"| {name} | {r['playlists']:,} | {r['nnz']:,} | {tracks} "
            f"| {its or ''} | {r['seconds']:,.1f} | {per_it} | {est} | {ratio} "
            f"| {r['peak_rss_mb']:,.0f} | {r['rss_before_mb']:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fit time and memory of ALS and BPR item vectors.")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PLAYLISTS:,} playlists")
    parser.add_argument(
        "--playlists", type=int, nargs="+", default=[100_000, 1_000_000], help="corpus sizes"
    )
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--als-iterations",
        type=int,
        nargs="+",
        default=None,
        help="ALS iterations per size (default: the model's own); extrapolated to the default",
    )
    parser.add_argument("--bpr-iterations", type=int, nargs="+", default=None)
    parser.add_argument("--factors", type=int, default=None, help="override both models' factors")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per case")
    parser.add_argument(
        "--report", type=Path, nargs="+", help="only print the table of earlier cf-*.json results"
    )
    parser.add_argument("--worker", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--worker-iterations", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = worker(
            args.worker, args.playlists[0], args.seed, args.worker_iterations, args.factors
        )
        print(RESULT_MARK + json.dumps(result), flush=True)
        return 0
    if args.report:
        merged = [r for path in args.report for r in json.loads(path.read_text(encoding="utf-8"))]
        print(markdown(merged, args.seed))
        return 0
    sizes = [QUICK_PLAYLISTS] if args.quick else args.playlists
    results = []
    for i, size in enumerate(sizes):
        for case in args.cases:
            chosen = args.als_iterations if case == "als" else args.bpr_iterations
            its = chosen[min(i, len(chosen) - 1)] if chosen and case in ("als", "bpr") else None
            if args.quick and case in ("als", "bpr") and its is None:
                its = 3 if case == "als" else 10
            factors = args.factors if case in ("als", "bpr") else None
            results.append(run_case(case, size, args.seed, its, factors, args.timeout))
    text = markdown(results, args.seed)
    print(text)
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (OUT / f"cf-{'-'.join(map(str, sizes))}-{stamp}.md").write_text(text, encoding="utf-8")
    (OUT / f"cf-{'-'.join(map(str, sizes))}-{stamp}.json").write_text(
        json.dumps(results, indent=2), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
