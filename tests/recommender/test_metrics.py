from __future__ import annotations

import math

import pytest

from recommender.metrics import ndcg_at_k, recall_at_k


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


@pytest.mark.parametrize("metric", [recall_at_k, ndcg_at_k])
def test_metrics_reject_bad_arguments(metric: object) -> None:
    assert callable(metric)
    with pytest.raises(ValueError, match="k must be at least 1"):
        metric(["a"], {"a"}, 0)
    with pytest.raises(ValueError, match="no relevant items"):
        metric(["a"], set(), 5)
