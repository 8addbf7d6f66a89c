"""Organic playlist matching: human-made playlists by people whose taste is close to yours.

Two steps, after Spotify Buddies (KNN user pairing, then a BPR ranker):

* ``user_knn``: owners (a playlist's maker, or another listener who shares their taste) whose
  vector (the mean of their tracks' unit vectors) is closest by cosine to the listener's;
  their playlists are the candidates;
* ``PairwiseRanker``: a linear BPR ranker over a few readable features of (listener,
  playlist): cosine of the two vectors, the best cosine to any of the listener's taste
  centers, shared artists, how many artists are new, the playlist's artist variety and its
  followers. Shared *tracks* are left out of the score on purpose: in the evaluation's
  construction the positive never shares a track (see ``wavelength.evaluation.buddies``), so
  a learned weight would only learn the construction; they still go into the reason. Trained on triples (listener, the playlist they made, someone else's), so a score
  means "looks like something this person would make".

``cold_start`` orders by followers: what a listener with no signal yet sees.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recommender.vectors import Matrix, Vector, normalize_rows

FEATURES = (
    "cosine",
    "best center cosine",
    "shared artists (log)",
    "share of its artists you know",
    "new artists (log)",
    "artist variety",
    "followers (log)",
)
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Taste:
    """What is known of one listener (or one playlist): track and artist ids, the unit vectors
    of the tracks that have one (``rows``) and their unit mean (None when no track has one)."""

    tracks: frozenset[str]
    artists: frozenset[str]
    vector: npt.NDArray[np.float32] | None
    rows: Matrix | None = None
    centers: Matrix | None = None  # unit rows; listeners only

    @classmethod
    def of(
        cls,
        tracks: Collection[str],
        artists: Collection[str],
        vectors: npt.ArrayLike | None = None,
        *,
        centers: npt.ArrayLike | None = None,
    ) -> Taste:
        mean = rows = None
        if vectors is not None and len(np.asarray(vectors)):
            rows = normalize_rows(vectors)
            rows = rows[np.linalg.norm(rows, axis=1) > 0]
            if len(rows):
                m = normalize_rows(rows.mean(axis=0))[0]
                mean = m if np.linalg.norm(m) > 0 else None
            else:
                rows = None
        c = normalize_rows(centers) if centers is not None and len(np.asarray(centers)) else None
        return cls(frozenset(tracks), frozenset(artists), mean, rows, c)

    @property
    def empty(self) -> bool:
        return not self.tracks and self.vector is None


@dataclass(frozen=True, slots=True)
class Overlap:
    """The why of a match, in numbers a sentence can use."""

    shared_artists: int
    new_artists: int
    shared_tracks: int
    new_tracks: int


def overlap(listener: Taste, playlist: Taste) -> Overlap:
    shared_a = len(listener.artists & playlist.artists)
    shared_t = len(listener.tracks & playlist.tracks)
    return Overlap(
        shared_artists=shared_a,
        new_artists=len(playlist.artists) - shared_a,
        shared_tracks=shared_t,
        new_tracks=len(playlist.tracks) - shared_t,
    )


def features(
    listener: Taste, playlists: Sequence[Taste], followers: Sequence[int | None]
) -> Floats:
    """One row of ``FEATURES`` per playlist."""
    if len(followers) != len(playlists):
        raise ValueError(f"{len(followers)} follower counts for {len(playlists)} playlists")
    out = np.zeros((len(playlists), len(FEATURES)))
    for row, (p, f) in enumerate(zip(playlists, followers, strict=True)):
        o = overlap(listener, p)
        n_artists = max(len(p.artists), 1)
        cos = best = 0.0
        if listener.vector is not None and p.vector is not None:
            cos = float(listener.vector @ p.vector)
            best = cos
            if listener.centers is not None:
                best = float(np.max(listener.centers @ p.vector))
        out[row] = (
            cos,
            best,
            math.log1p(o.shared_artists),
            o.shared_artists / n_artists,
            math.log1p(o.new_artists),
            len(p.artists) / max(len(p.tracks), 1),
            math.log1p(max(f or 0, 0)),
        )
    return out


def user_knn(
    vector: Vector, owners: Matrix, *, n: int = 50, exclude: Collection[int] = ()
) -> tuple[npt.NDArray[np.int64], Floats]:
    """The ``n`` owners (rows of ``owners``, unit vectors) closest to ``vector``, best first."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if owners.ndim != 2 or owners.shape[1] != vector.shape[0]:
        raise ValueError(f"owner vectors of shape {owners.shape} for a {vector.shape} query")
    scores = (owners @ vector).astype(np.float64)
    scores[list(exclude)] = -np.inf
    k = min(n, int(np.isfinite(scores).sum()))
    top = np.argpartition(-scores, k - 1)[:k] if k else np.zeros(0, dtype=np.int64)
    order = top[np.lexsort((top, -scores[top]))]
    return order.astype(np.int64), scores[order]


def cold_start(followers: Sequence[int | None]) -> npt.NDArray[np.int64]:
    """Playlist rows, most followed first (ties by row): the order before any signal."""
    f = np.asarray([x or 0 for x in followers], dtype=np.int64)
    return np.lexsort((np.arange(len(f)), -f)).astype(np.int64)


@dataclass(frozen=True, slots=True, eq=False)
class PairwiseRanker:
    """A linear scorer ``w · standardised(features)`` trained with the BPR loss,
    ``-log sigmoid(s(pos) - s(neg))``, by full-batch gradient descent (deterministic)."""

    weights: Floats
    mean: Floats
    scale: Floats

    @classmethod
    def fit(
        cls,
        positives: Floats,
        negatives: Floats,
        *,
        epochs: int = 300,
        learning_rate: float = 0.5,
        l2: float = 1e-3,
    ) -> PairwiseRanker:
        """``positives`` has one row per triple; ``negatives`` one row per triple too (the
        negative paired with that positive)."""
        if positives.shape != negatives.shape or positives.ndim != 2 or not len(positives):
            raise ValueError(
                f"need matching non-empty feature rows, got {positives.shape} and {negatives.shape}"
            )
        both = np.vstack([positives, negatives])
        mean, scale = both.mean(axis=0), both.std(axis=0) + 1e-9
        diff = (positives - negatives) / scale
        w = np.zeros(diff.shape[1])
        for _ in range(epochs):
            margin = np.clip(diff @ w, -30, 30)
            grad = -(diff * (1.0 / (1.0 + np.exp(margin)))[:, None]).mean(axis=0) + l2 * w
            w -= learning_rate * grad
        return cls(w, mean, scale)

    def score(self, rows: Floats) -> Floats:
        out: Floats = ((rows - self.mean) / self.scale) @ self.weights
        return out

    def rank(self, rows: Floats) -> tuple[npt.NDArray[np.int64], Floats]:
        """Row indices best first, and their scores."""
        s = self.score(rows)
        order = np.lexsort((np.arange(len(s)), -s)).astype(np.int64)
        return order, s[order]

    def match(self, rows: Floats) -> Floats:
        """Scores as a 0-100 match: the logistic of the score (how sure the ranker is that
        the listener prefers this playlist to an average one)."""
        return 100.0 / (1.0 + np.exp(-np.clip(self.score(rows), -30, 30)))


def triples(count: int, negatives: int, rng: random.Random) -> tuple[list[int], list[int]]:
    """For ``count`` listeners whose own playlist has the same index, ``negatives`` random
    other indices each: parallel lists (positive index, negative index)."""
    if count < 2:
        raise ValueError("need at least two playlists to draw negatives from")
    pos, neg = [], []
    for i in range(count):
        others = rng.sample(range(count - 1), min(negatives, count - 1))
        for j in others:
            pos.append(i)
            neg.append(j if j < i else j + 1)
    return pos, neg


# Fitted by ``wavelength eval-mixes --holdout-seed 7`` on the 5,271-playlist MPD sample (its
# 500 ranker playlists, never in the test set; docs/evaluation.md). The service uses it until
# it is handed a fit of its own.
DEFAULT_RANKER = PairwiseRanker(
    weights=np.array([1.6691, -0.4417, 1.8526, -0.5073, -1.2039, 0.2495, 0.0341]),
    mean=np.array([0.667, 0.6473, 1.2168, 0.1422, 3.128, 0.7051, 3.1642]),
    scale=np.array([0.2796, 0.2663, 1.0289, 0.1563, 0.8103, 0.2269, 1.0162]),
)
