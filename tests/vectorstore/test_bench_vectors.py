"""The vector benchmark's data and its workers, at a tiny size."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks import bench_vectors as bench
from tests.vectorstore.conftest import ram_folder


def test_random_vectors_are_seeded_unit_rows() -> None:
    source = bench.Source(None, queries=5, seed=1)
    rows = source.chunk(0, 300)
    assert rows.shape == (300, bench.RANDOM_DIM) and rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(rows, bench.Source(None, queries=5, seed=1).chunk(0, 300))
    assert "random" in source.describe(300)


def test_real_vectors_hold_out_queries_and_grow_with_noisy_copies(tmp_path: Path) -> None:
    real = np.random.default_rng(0).standard_normal((200, 16)).astype(np.float32)
    np.save(tmp_path / "real.npy", real)
    source = bench.Source(tmp_path / "real.npy", queries=50, seed=3)

    assert source.base_rows == 180  # a tenth held out as queries, the rest topped up
    assert source.queries.shape == (50, 16)
    rows = source.chunk(0, 500)
    unit = real / np.linalg.norm(real, axis=1, keepdims=True)
    np.testing.assert_allclose(rows[:180], unit[:180], atol=1e-6)  # real rows as they are
    copies = np.sum(rows[180:] * unit[np.arange(180, 500) % 180], axis=1)
    assert copies.min() > 0.9 and copies.max() < 0.9999  # near their originals, not equal
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert "noisy copies" in source.describe(500) and "320" in source.describe(500)


def test_workers_measure_both_backends_and_the_table_compares_them() -> None:
    results = []
    with ram_folder() as folder:
        for backend in ("edge", "local"):
            flags = "--points 600 --queries 12 --recall-queries 6 --ef-values 16 64"
            args = bench.parse_args(["--worker", backend, "--workdir", str(folder), *flags.split()])
            results.append(bench.worker(args))
    edge, local = results
    assert edge["search"]["none"]["queries"] == 12
    assert local["peak_rss_mb"] >= local["rss_before_mb"] > 0
    assert [row["ef"] for row in edge["recall"]] == [16, 64]
    assert all(0.9 <= row["recall_none"] <= 1.0 for row in edge["recall"])  # 600 points: exact

    text = bench.markdown(results, "random", bench.parse_args([]))
    assert "| qdrant-client local (baseline) | 600 | none | 12 |" in text
    assert "1.0x" in text and "NOTE: random vectors" in text
    assert "| 600 | 64 |" in text
