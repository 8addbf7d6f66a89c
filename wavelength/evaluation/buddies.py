"""Organic playlist matching on the MPD sample, by the Spotify Buddies protocol.

The MPD has no user ids, so a "listener" is defined from a held-out playlist: its first half
(distinct tracks, in order) is what the listener is known to like; the second half, presented
as a playlist of its own, is the one positive, a playlist by exactly this person that shares
no track with what we know of them. It is ranked among ``negatives`` second halves of other
held-out playlists (drawn with the seed), so every candidate is built the same way and none
was seen by the collaborative model. Metrics: MRR and Hit@1/5/10 of the positive.

The ranker is fitted on the same construction over ``ranker_size`` training playlists that the
collaborative model never saw; ALS is fitted on the remaining training playlists.
Baselines in the same run: followers (Buddies' cold start), random, and the cosine of the
listener's and the playlist's mean vectors alone (the KNN score without the ranker).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from recommender.mixes._buddies import (
    FEATURES,
    PairwiseRanker,
    Taste,
    features,
    triples,
)
from recommender.mixes._centers import fit_centers
from wavelength.domain import Playlist
from wavelength.evaluation.data import MIN_TEST_TRACKS, distinct
from wavelength.evaluation.measure import Measured
from wavelength.evaluation.space import Space, playlist_halves

ENGINE = "KNN cosine + BPR ranker (7 features)"
COSINE = "cosine of mean vectors only"
FOLLOWERS = "most followed (popularity)"
RANDOM = "random"
HITS = (1, 5, 10)


@dataclass(frozen=True, slots=True)
class BuddiesSetup:
    negatives: int = 49
    ranker_size: int = 500
    ranker_negatives: int = 10


@dataclass(frozen=True, slots=True)
class RankerRow:
    method: str
    mrr: Measured
    hits: tuple[Measured, ...]  # Hit@1, @5, @10


@dataclass(frozen=True, slots=True)
class BuddiesResult:
    setup: BuddiesSetup
    seed: int
    cases: int
    ranker_playlists: int
    als_playlists: int
    rows: tuple[RankerRow, ...]
    ranker: PairwiseRanker
    feature_names: tuple[str, ...]
    seconds: float


def ranker_split(
    train: Sequence[Playlist], *, size: int, seed: int
) -> tuple[list[Playlist], list[Playlist]]:
    """``size`` qualifying training playlists for the ranker; the rest for ALS."""
    qualifying = [i for i, p in enumerate(train) if len(distinct(p)) >= MIN_TEST_TRACKS]
    chosen = set(random.Random(seed).sample(qualifying, min(size, len(qualifying))))
    ranker = [p for i, p in enumerate(train) if i in chosen]
    rest = [p for i, p in enumerate(train) if i not in chosen]
    return ranker, rest


def tastes(playlists: Sequence[Playlist], space: Space) -> tuple[list[Taste], list[Taste]]:
    """Per playlist: the listener (first half, with taste centers) and the candidate (rest)."""
    artist_of = {t.id: t.artist.id for p in playlists for t in p.tracks}
    listeners, candidates = [], []
    rng = random.Random(0)
    for p in playlists:
        first, second = playlist_halves(p)
        vf, hf = space.matrix(first, [artist_of[t] for t in first])
        vs, hs = space.matrix(second, [artist_of[t] for t in second])
        centers = None
        if hf.any():
            fit = fit_centers(vf[hf], np.ones(int(hf.sum())), rng=rng)
            centers = np.asarray([c.vector for c in fit.centers])
        listeners.append(
            Taste.of(
                first, {artist_of[t] for t in first}, vf[hf] if hf.any() else None, centers=centers
            )
        )
        candidates.append(
            Taste.of(second, {artist_of[t] for t in second}, vs[hs] if hs.any() else None)
        )
    return listeners, candidates


def fit_ranker(
    playlists: Sequence[Playlist], space: Space, setup: BuddiesSetup, seed: int
) -> PairwiseRanker:
    """BPR on (listener, own second half, another second half) triples. Half the negatives
    are the listener's nearest other playlists by cosine (what KNN hands the ranker at serving
    time, so what it must tell apart), half are random."""
    listeners, candidates = tastes(playlists, space)
    followers = [p.num_followers for p in playlists]
    rng = random.Random(seed)
    pos, neg = triples(len(playlists), setup.ranker_negatives // 2, rng)
    hard = max(setup.ranker_negatives - setup.ranker_negatives // 2, 0)
    vectors = np.asarray(
        [c.vector if c.vector is not None else np.zeros(space.dim, np.float32) for c in candidates]
    )
    for i, listener in enumerate(listeners):
        if listener.vector is None or not hard:
            continue
        cos = vectors @ listener.vector
        cos[i] = -np.inf
        for j in np.argsort(-cos, kind="stable")[:hard].tolist():
            pos.append(i)
            neg.append(j)
    xp = np.vstack([features(listeners[i], [candidates[i]], [followers[i]]) for i in pos])
    xn = np.vstack(
        [
            features(listeners[i], [candidates[j]], [followers[j]])
            for i, j in zip(pos, neg, strict=True)
        ]
    )
    return PairwiseRanker.fit(xp, xn)


Scorer = Callable[[np.ndarray, Sequence[int | None]], np.ndarray]


def evaluate_buddies(
    test: Sequence[Playlist],
    ranker_playlists: Sequence[Playlist],
    space: Space,
    *,
    seed: int,
    als_playlists: int,
    setup: BuddiesSetup | None = None,
) -> BuddiesResult:
    setup = setup or BuddiesSetup()
    if len(test) <= setup.negatives:
        raise ValueError(f"{len(test)} test playlists cannot give {setup.negatives} negatives")
    started = time.perf_counter()
    ranker = fit_ranker(ranker_playlists, space, setup, seed)
    listeners, candidates = tastes(test, space)
    followers = [p.num_followers for p in test]
    rng = random.Random(seed)
    tie = random.Random(seed + 1)
    scorers: dict[str, Scorer] = {
        ENGINE: lambda x, f: ranker.score(x),
        COSINE: lambda x, f: x[:, FEATURES.index("cosine")],
        FOLLOWERS: lambda x, f: np.asarray([v or 0 for v in f], dtype=np.float64),
        RANDOM: lambda x, f: np.zeros(len(x)),
    }
    ranks: dict[str, list[int]] = {name: [] for name in scorers}
    for i in range(len(test)):
        others = rng.sample([j for j in range(len(test)) if j != i], setup.negatives)
        rows = [i, *others]
        x = features(listeners[i], [candidates[j] for j in rows], [followers[j] for j in rows])
        jitter = np.asarray([tie.random() for _ in rows])  # ties broken at random, fairly
        for name, score in scorers.items():
            s = score(x, [followers[j] for j in rows])
            order = np.lexsort((jitter, -s))
            ranks[name].append(int(np.flatnonzero(order == 0)[0]) + 1)
    out = []
    for name, r in ranks.items():
        mrr = Measured.of(name, [1.0 / k for k in r])
        hits = tuple(Measured.of(name, [float(k <= h) for k in r]) for h in HITS)
        out.append(RankerRow(name, mrr, hits))
    return BuddiesResult(
        setup=setup,
        seed=seed,
        cases=len(test),
        ranker_playlists=len(ranker_playlists),
        als_playlists=als_playlists,
        rows=tuple(out),
        ranker=ranker,
        feature_names=FEATURES,
        seconds=time.perf_counter() - started,
    )
