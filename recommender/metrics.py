"""Ranking metrics for one query: a ranked list of ids against the set that was wanted.

``recall_at_k`` and ``ndcg_at_k`` are the textbook forms. ``r_precision``, ``challenge_ndcg``
and ``songs_clicks`` are the three metrics of the RecSys Challenge 2018 (Spotify's Million
Playlist Dataset challenge; Zamani et al., "An Analysis of Approaches Taken in the ACM RecSys
Challenge 2018 for Automatic Music Playlist Continuation", ACM TIST 2019), written exactly as
defined there so numbers here can be set beside the challenge's, quirks included.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import TypeVar

_Id = TypeVar("_Id", bound=str)  # a track id; artists are keyed by the same type

# The challenge gave an artist match a quarter of a track match.
ARTIST_CREDIT = 0.25
# Spotify's "Recommended Songs" shows ten tracks per refresh.
CLICK_PAGE = 10


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


def r_precision(
    ranked: Sequence[_Id], relevant: Collection[_Id], *, artist_of: Mapping[_Id, str]
) -> float:
    """The challenge's R-precision with artist partial credit.

    ``(|S_T ∩ G_T| + 0.25 · |S_A ∩ G_A|) / |G_T|``, where ``G_T`` is the relevant tracks,
    ``S_T`` the distinct tracks among the first ``|G_T|`` ranked, and ``S_A``, ``G_A`` the
    distinct artists of each (``artist_of``; a track it lacks brings no artist). As published,
    an exact match's artist counts as well, so a perfect list scores a little above 1.
    """
    _check(1, relevant)
    wanted = set(relevant)
    head = set(ranked[: len(wanted)])
    tracks = len(head & wanted)
    head_artists = {artist_of[t] for t in head if t in artist_of}
    wanted_artists = {artist_of[t] for t in wanted if t in artist_of}
    return (tracks + ARTIST_CREDIT * len(head_artists & wanted_artists)) / len(wanted)


def challenge_ndcg(ranked: Sequence[str], relevant: Collection[str]) -> float:
    """The challenge's NDCG over the whole of ``ranked`` (truncate it to score "at K").

    ``DCG = rel_1 + Σ_{i≥2} rel_i / log2(i)`` with binary relevance, and the ideal DCG counts
    only the ``|G ∩ R|`` hits the list holds (``1 + Σ_{i=2}^{|G∩R|} 1/log2(i)``), so this
    measures how early the hits come, not how many there are; 0 when there is none.
    """
    _check(1, relevant)
    wanted = set(relevant)
    gains = [i for i, item in enumerate(dict.fromkeys(ranked), 1) if item in wanted]
    if not gains:
        return 0.0
    dcg = sum(1.0 if i == 1 else 1.0 / math.log2(i) for i in gains)
    ideal = 1.0 + sum(1.0 / math.log2(i) for i in range(2, len(gains) + 1))
    return dcg / ideal


def songs_clicks(
    ranked: Sequence[str], relevant: Collection[str], *, k: int, page: int = CLICK_PAGE
) -> int:
    """The challenge's "recommended songs clicks": refreshes of a ``page``-track list before
    the first relevant track shows, ``⌊(rank - 1) / page⌋``, reading the first ``k`` ranked.

    With none there it is one more than the most possible, ``⌈k / page⌉ + 1``: the
    challenge's 51 for its 500-track lists, 11 for a list of 100.
    """
    _check(k, relevant)
    if page < 1:
        raise ValueError(f"page must be at least 1, got {page}")
    wanted = set(relevant)
    for rank, item in enumerate(ranked[:k], 1):
        if item in wanted:
            return (rank - 1) // page
    return math.ceil(k / page) + 1
