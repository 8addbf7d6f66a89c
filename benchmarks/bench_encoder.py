"""Text encoder throughput: real track descriptions from the bundled demo catalog.

Cases (each in its own subprocess, so peak RSS is per case):

* ``fp32 b32``     sentence-transformers defaults (batch 32): the named baseline
* ``fp32 b64``     our CPU default
* ``fp32 b256``    bigger batches
* ``int8 b64``     torch dynamic int8 quantisation of the Linear layers (CPU only)
* ``fp16 b1024``   our GPU default (only where CUDA is present); on the GPU also
                   ``fp16 b256`` and ``cuda-fp32 b1024`` (no half precision)
* ``cache hit``    CachedEncoder re-encoding texts it has seen (SQLite cache on disk)

    python benchmarks/bench_encoder.py --quick     # 2,000 sentences
    python benchmarks/bench_encoder.py             # 20,000 sentences (--n to change)

On a machine without the project's dependencies (a lent GPU box), pass the texts and the
model folder instead of reading the demo catalog and the bundled model package:

    python benchmarks/bench_encoder.py --texts texts.json --model path/to/model
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULT = "BENCH-RESULT "
TRAIN_CHUNK = 4096  # descriptions per encode call in wavelength/training.py


def descriptions(n: int) -> list[str]:
    from ingest.demo import demo_catalog_path
    from ingest.problems import ProblemLog
    from ingest.tracks_csv import read_tracks
    from recommender.describe import describe_track

    texts: list[str] = []
    for track in read_tracks(demo_catalog_path(), ProblemLog()):
        genres = tuple(g for g in (track.genre or "").split(", ") if g)
        texts.append(describe_track(track, genres=genres))
        if len(texts) >= n:
            break
    return texts


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def worker(case: str, n: int, model_name: str, texts_file: str | None) -> dict[str, Any]:
    import numpy as np
    import torch

    from recommender.encoder import CachedEncoder, SentenceEncoder
    from storage.embedding_cache import SqliteEmbeddingCache

    texts = json.loads(Path(texts_file).read_text())[:n] if texts_file else descriptions(n)
    precision, _, batch = case.partition(" b")
    device = "cuda" if precision in ("fp16", "cuda-fp32") else "cpu"
    encoder = SentenceEncoder(model_name, device=device, batch_size=int(batch or 64))
    if precision == "cuda-fp32":
        encoder._model.float()  # benchmark-only: the GPU without half precision
    if precision == "int8":
        model: Any = encoder._model  # benchmark-only peek: quantise the loaded model in place
        encoder._model = torch.ao.quantization.quantize_dynamic(
            model, {torch.nn.Linear}, dtype=torch.qint8
        )
    # Warm-up: the first call pays for lazy init (on a GPU, for each new batch shape too).
    encoder.encode(texts[: TRAIN_CHUNK if device == "cuda" else 64])
    batch_seconds: list[float] = []
    if case == "cache hit":
        with tempfile.TemporaryDirectory() as tmp:
            cached = CachedEncoder(encoder, SqliteEmbeddingCache(Path(tmp) / "c.sqlite"))
            cached.encode(texts)
            start = time.perf_counter()
            for i in range(0, len(texts), 1024):
                t0 = time.perf_counter()
                cached.encode(texts[i : i + 1024])
                batch_seconds.append(time.perf_counter() - t0)
            wall = time.perf_counter() - start
            assert cached.stats.encoded == len(set(texts))
        size = 1024
    else:
        size = encoder.plan.batch_size
        # On a GPU each call hands over what ``wavelength train`` does (4,096 descriptions), so
        # the tokenizer threads can work ahead of the model; on a CPU one batch per call.
        call = max(size, TRAIN_CHUNK) if device == "cuda" else size
        start = time.perf_counter()
        outputs = []
        for i in range(0, len(texts), call):
            t0 = time.perf_counter()
            outputs.append(encoder.encode(texts[i : i + call]))
            batch_seconds.append(time.perf_counter() - t0)
        wall = time.perf_counter() - start
        vectors = np.concatenate(outputs)
        assert vectors.shape == (len(texts), 384)
    agreement = None
    if precision in ("int8", "fp16"):
        reference = SentenceEncoder(model_name, device="cpu").encode(texts[:500])
        quantised = encoder.encode(texts[:500])
        agreement = float(np.mean(np.sum(reference * quantised, axis=1)))
    return {
        "case": case,
        "sentences": len(texts),
        "wall": wall,
        "per_s": len(texts) / wall,
        "batch": size,
        "p50": _percentile(batch_seconds, 0.5) * 1000,
        "p99": _percentile(batch_seconds, 0.99) * 1000,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cos_vs_fp32": agreement,
        "threads": torch.get_num_threads(),
    }


def run_case(case: str, n: int, extra: list[str]) -> dict[str, Any] | None:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", case, "--n", str(n), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT) :])  # type: ignore[no-any-return]
    print(f"-- {case}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20_000, help="sentences (default 20000)")
    parser.add_argument("--quick", action="store_true", help="2,000 sentences")
    parser.add_argument("--model", default="all-MiniLM-L6-v2", help="model name or folder")
    parser.add_argument("--texts", help="a JSON list of texts instead of the demo catalog's")
    parser.add_argument("--cases", help="comma-separated cases to run (default: all that apply)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = 2000 if args.quick else args.n
    if args.worker:
        print(RESULT + json.dumps(worker(args.worker, n, args.model, args.texts)))
        return 0
    extra = ["--model", args.model, *(["--texts", args.texts] if args.texts else [])]

    import torch

    cases = ["fp32 b32", "fp32 b64", "fp32 b256", "int8 b64", "cache hit"]
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    if gpu:
        cases[:0] = ["fp16 b1024", "fp16 b256", "cuda-fp32 b1024"]
    if args.cases:
        cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    results = []
    for case in cases:
        print(f"-- {case}: running ...", file=sys.stderr)
        result = run_case(case, n, extra)
        if result:
            results.append(result)
    base = next((r for r in results if r["case"] == "fp32 b32"), None)
    print(
        f"Machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch "
        f"threads, GPU: {gpu or 'none'}; torch {torch.__version__}, Python {platform.python_version()}."
    )
    print(
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Model all-MiniLM-L6-v2 (384-d); "
        f"texts: {n:,} real track descriptions from the demo catalog.\n"
    )
    print(
        "| case | batch | sentences/s | call p50 ms | call p99 ms | peak RSS MB | cos vs fp32 "
        "| ratio vs fp32 b32 |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    for r in results:
        ratio = r["per_s"] / base["per_s"] if base else float("nan")
        cos = f"{r['cos_vs_fp32']:.4f}" if r["cos_vs_fp32"] is not None else "–"
        print(
            f"| {r['case']} | {r['batch']} | {r['per_s']:,.0f} | {r['p50']:,.1f} | {r['p99']:,.1f} "
            f"| {r['rss']:,.0f} | {cos} | {ratio:.2f} |"
        )
    if base:
        per_s = max(r["per_s"] for r in results if r["case"] != "cache hit")
        print(
            f"\nRe-embedding 1M tracks on this machine at the best encoder rate: {1e6 / per_s / 60:.0f} min "
            "(a re-run with an unchanged catalog only reads the cache)."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
