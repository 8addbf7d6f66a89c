"""Ranking metrics for one query: a ranked list of ids against the set that was wanted."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence


def _check(k: int, relevant: Collection[str]) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if not relevant:
        raise ValueError("no relevant items: the metric is undefined")


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """The share of ``relevant`` found in the first ``k`` of ``ranked``."""
    _check(k, relevant)
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Binary-relevance NDCG: discounted hits over the best possible for ``min(k, |relevant|)``."""
    _check(k, relevant)
    wanted = set(relevant)
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in wanted)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(wanted))))
    return dcg / ideal
