from __future__ import annotations

import math

import pytest

from recommender.metrics import (
    challenge_ndcg,
    ndcg_at_k,
    r_precision,
    recall_at_k,
    songs_clicks,
)

# Tracks a1, a2 by artist A; b1 by B; c1 by C; x1, x2 by X (never wanted).
ARTIST = {"a1": "A", "a2": "A", "b1": "B", "c1": "C", "x1": "X", "x2": "X"}


def test_recall_counts_hits_in_the_first_k_over_all_relevant() -> None:
    ranked = ["a", "x", "b", "y", "c"]
    assert recall_at_k(ranked, {"a", "b", "c", "d"}, 3) == 0.5
    assert recall_at_k(ranked, {"a", "b", "c", "d"}, 10) == 0.75
    assert recall_at_k([], {"a"}, 10) == 0.0


def test_ndcg_is_one_for_a_perfect_ranking_and_discounts_late_hits() -> None:
    assert ndcg_at_k(["a", "b", "x"], {"a", "b"}, 10) == pytest.approx(1.0)
    late = ndcg_at_k(["x", "a"], {"a"}, 10)
    assert late == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["x", "y"], {"a"}, 2) == 0.0


def test_r_precision_reads_the_first_g_and_gives_artists_a_quarter() -> None:
    wanted = {"a1", "b1", "c1"}
    # The first |G| = 3: a1 (track and artist A), x1 (nothing), a2 (artist A again: counted once).
    # b1 at rank 4 is past |G| and earns nothing.
    assert r_precision(["a1", "x1", "a2", "b1"], wanted, artist_of=ARTIST) == pytest.approx(
        (1 + 0.25 * 1) / 3
    )
    # Only artist matches: a2 for A, no track.
    assert r_precision(["a2", "x1", "x2"], wanted, artist_of=ARTIST) == pytest.approx(0.25 / 3)
    # As published, a perfect list also earns every artist: (3 + 0.25 * 3) / 3.
    assert r_precision(["c1", "b1", "a1"], wanted, artist_of=ARTIST) == pytest.approx(1.25)
    # Tracks with no known artist still count as tracks.
    assert r_precision(["q", "z"], {"q", "r"}, artist_of={}) == pytest.approx(0.5)
    assert r_precision([], wanted, artist_of=ARTIST) == 0.0


def test_challenge_ndcg_does_not_discount_rank_two_and_normalises_by_the_hits_found() -> None:
    assert challenge_ndcg(["a1", "b1"], {"a1", "b1", "c1"}) == pytest.approx(1.0)
    # Hits at ranks 2 and 3: (1/log2 2 + 1/log2 3) / (1 + 1/log2 2).
    assert challenge_ndcg(["x1", "a1", "b1"], {"a1", "b1"}) == pytest.approx(
        (1 + 1 / math.log2(3)) / 2
    )
    # One hit, anywhere: the ideal list holds that one hit first.
    assert challenge_ndcg(["x1", "x2", "x3", "a1"], {"a1", "b1"}) == pytest.approx(0.5)
    assert challenge_ndcg(["x1", "x2"], {"a1"}) == 0.0


def test_songs_clicks_counts_refreshes_of_ten_and_scales_the_miss_to_the_list() -> None:
    wanted = {"hit"}
    assert songs_clicks(["hit", *"abc"], wanted, k=500) == 0
    assert songs_clicks([*(f"m{i}" for i in range(9)), "hit"], wanted, k=500) == 0  # rank 10
    assert songs_clicks([*(f"m{i}" for i in range(10)), "hit"], wanted, k=500) == 1  # rank 11
    assert songs_clicks(["m"], wanted, k=500) == 51  # the challenge's value for a miss
    assert songs_clicks(["m"], wanted, k=100) == 11
    # Ranks past k are not read.
    assert songs_clicks([*(f"m{i}" for i in range(100)), "hit"], wanted, k=100) == 11


@pytest.mark.parametrize("metric", [recall_at_k, ndcg_at_k])
def test_metrics_reject_bad_arguments(metric: object) -> None:
    assert callable(metric)
    with pytest.raises(ValueError, match="k must be at least 1"):
        metric(["a"], {"a"}, 0)
    with pytest.raises(ValueError, match="no relevant items"):
        metric(["a"], set(), 5)


def test_challenge_metrics_reject_an_empty_ground_truth() -> None:
    with pytest.raises(ValueError, match="no relevant items"):
        r_precision(["a"], set(), artist_of={})
    with pytest.raises(ValueError, match="no relevant items"):
        challenge_ndcg(["a"], set())
    with pytest.raises(ValueError, match="k must be at least 1"):
        songs_clicks(["a"], {"a"}, k=0)
    with pytest.raises(ValueError, match="page must be at least 1"):
        songs_clicks(["a"], {"a"}, k=10, page=0)
