"""The CF fit benchmark's synthetic corpus and its worker, at a tiny size."""

from __future__ import annotations

import numpy as np

from benchmarks import bench_cf


def test_synthetic_playlists_follow_the_mpd_shape_and_the_seed() -> None:
    lengths, ranks = bench_cf.synthetic_playlists(3000, seed=7)
    assert len(lengths) == 3000
    assert lengths.min() >= 5 and lengths.max() <= 250
    assert 40 <= np.median(lengths) <= 60  # the MPD's median is ~49
    assert len(ranks) == lengths.sum()
    assert ranks.min() >= 0
    again = bench_cf.synthetic_playlists(3000, seed=7)
    assert np.array_equal(again[1], ranks)
    # Zipf-Mandelbrot: the top rank is drawn far more often than the median one.
    counts = np.bincount(ranks)
    assert counts[0] > 10 * np.median(counts[counts > 0])


def test_the_numpy_matrix_equals_what_build_interactions_makes() -> None:
    lengths, ranks = bench_cf.synthetic_playlists(500, seed=3)
    direct = bench_cf._interactions(lengths, ranks.copy())  # it sorts ranks in place
    from recommender.interactions import build_interactions

    built = build_interactions(bench_cf._pairs(lengths, ranks))
    assert direct.nnz == built.nnz
    assert direct.row_ids == built.row_ids
    assert sorted(direct.item_ids) == sorted(built.item_ids)
    assert direct.item_support().sum() == built.item_support().sum()


def test_worker_reports_time_memory_and_extrapolation() -> None:
    result = bench_cf.worker("als", 500, seed=1, iterations=1, factors=16)
    assert result["iterations"] == 1 and result["default_iterations"] == 15
    assert result["full_fit_s"] == result["seconds"] * 15
    assert result["peak_rss_mb"] >= result["rss_before_mb"] > 0
    assert result["vectors"] == [result["items"], 16]
    assert result["model"].startswith("als f16 ")
    text = bench_cf.markdown([result], seed=1)
    assert "extrapolated x15" in text
