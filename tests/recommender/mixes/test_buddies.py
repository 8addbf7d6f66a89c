"""Organic playlist matching: cold start by followers, then personal once there is taste."""

from __future__ import annotations

import random

import numpy as np
import pytest

from recommender.mixes import (
    DEFAULT_RANKER,
    PairwiseRanker,
    Taste,
    cold_start,
    overlap,
    playlist_features,
    user_knn,
)
from recommender.mixes._buddies import FEATURES, triples

JAZZ = np.array([1.0, 0.0, 0.0], dtype=np.float32)
METAL = np.array([0.0, 1.0, 0.0], dtype=np.float32)


def taste(prefix: str, n: int, vector: np.ndarray, *, artists: int = 5) -> Taste:
    return Taste.of(
        [f"{prefix}{i}" for i in range(n)],
        {f"{prefix}-artist{i % artists}" for i in range(n)},
        np.tile(vector, (n, 1)),
    )


def test_cold_start_is_most_followed_first() -> None:
    assert cold_start([10, None, 500, 40, 500]).tolist() == [2, 4, 3, 0, 1]


def test_personal_ranking_puts_the_matching_taste_first() -> None:
    me = taste("jazz", 20, JAZZ)
    # The metal playlist is far more followed: popularity alone would pick it.
    candidates = [taste("metal", 20, METAL), taste("jazz", 30, JAZZ, artists=8)]
    x = playlist_features(me, candidates, [100_000, 12])
    order, _ = DEFAULT_RANKER.rank(x)
    assert order[0] == 1
    assert cold_start([100_000, 12])[0] == 0


def test_the_reason_counts_shared_and_new_artists() -> None:
    me = Taste.of(["a", "b", "c"], {"A", "B"}, None)
    theirs = Taste.of(["c", "d", "e", "f"], {"B", "C", "D"}, None)
    o = overlap(me, theirs)
    assert (o.shared_artists, o.new_artists, o.shared_tracks, o.new_tracks) == (1, 2, 1, 3)


def test_features_have_one_column_each_and_cosines() -> None:
    me = taste("jazz", 4, JAZZ)
    x = playlist_features(me, [taste("jazz", 4, JAZZ), taste("m", 4, METAL)], [None, 9])
    assert x.shape == (2, len(FEATURES))
    assert x[0, FEATURES.index("cosine")] == pytest.approx(1.0)
    assert x[1, FEATURES.index("cosine")] == pytest.approx(0.0)
    assert x[1, FEATURES.index("followers (log)")] == pytest.approx(np.log1p(9))


def test_bpr_learns_which_feature_separates_positives() -> None:
    rng = np.random.default_rng(0)
    pos = rng.normal(size=(200, 3))
    neg = rng.normal(size=(200, 3))
    pos[:, 1] += 2.0  # only the middle feature tells them apart
    ranker = PairwiseRanker.fit(pos, neg)
    assert int(np.argmax(np.abs(ranker.weights))) == 1 and ranker.weights[1] > 0
    assert (ranker.score(pos) > ranker.score(neg)).mean() > 0.85
    match = ranker.match(np.vstack([pos[:1], neg[:1]]))
    assert ((match >= 0) & (match <= 100)).all()


def test_user_knn_finds_the_nearest_owners() -> None:
    owners = np.array([[0, 1, 0], [1, 0, 0], [0.8, 0.6, 0]], dtype=np.float32)
    idx, scores = user_knn(JAZZ, owners, n=2)
    assert idx.tolist() == [1, 2] and scores[0] == pytest.approx(1.0)
    idx, _ = user_knn(JAZZ, owners, n=5, exclude=[1])
    assert idx.tolist() == [2, 0]


def test_triples_pair_every_listener_with_someone_else() -> None:
    pos, neg = triples(5, 3, random.Random(0))
    assert len(pos) == 15 and all(p != n for p, n in zip(pos, neg, strict=True))


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="follower counts"):
        playlist_features(taste("a", 2, JAZZ), [taste("b", 2, JAZZ)], [])
    with pytest.raises(ValueError, match="non-empty"):
        PairwiseRanker.fit(np.zeros((0, 3)), np.zeros((0, 3)))
