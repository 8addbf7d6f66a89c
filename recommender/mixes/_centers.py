"""Taste centers: a few directions in the collaborative space that sum up what someone plays.

Weighted spherical k-means over unit track vectors (a dot product is a cosine), with three
additions that a daily mix needs:

* recency: ``recency_weights`` halves a play's weight every ``half_life_days``, so last week
  counts more than last year;
* size: centers holding less than ``min_share`` of the weight are dissolved into the others,
  and centers closer than ``merge_cosine`` are merged, so a one-genre listener gets one center
  rather than ``max_centers`` slices of the same thing;
* stability: yesterday's centers seed today's fit and pass their ids on (a matching by cosine),
  so "Daily Mix 2" is still the same taste tomorrow unless the listening really moved.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from recommender.vectors import Matrix, Vector, normalize_rows

DAY_SECONDS = 86_400.0


@dataclass(frozen=True, slots=True, eq=False)
class TasteCenter:
    """One center: a unit vector, the weight of listening nearest to it and its share of all."""

    id: int  # stable from one fit to the next while the center stays put
    vector: Vector
    weight: float
    share: float


@dataclass(frozen=True, slots=True, eq=False)
class CenterFit:
    """Centers, heaviest first, and for every input row the index of its center there."""

    centers: tuple[TasteCenter, ...]
    labels: npt.NDArray[np.int64]

    def members(self, index: int) -> npt.NDArray[np.int64]:
        """Rows assigned to ``centers[index]``."""
        return np.flatnonzero(self.labels == index)


def recency_weights(
    ages_days: npt.ArrayLike, *, half_life_days: float = 30.0
) -> npt.NDArray[np.float64]:
    """``0.5 ** (age / half_life)``: a play a half-life old counts half. Negative ages count 1."""
    if half_life_days <= 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days}")
    ages = np.maximum(np.asarray(ages_days, dtype=np.float64), 0.0)
    out: npt.NDArray[np.float64] = np.power(0.5, ages / half_life_days)
    return out


def fit_centers(
    vectors: npt.ArrayLike,
    weights: npt.ArrayLike,
    *,
    previous: Sequence[TasteCenter] = (),
    max_centers: int = 5,
    min_share: float = 0.1,
    min_members: int = 1,
    merge_cosine: float = 0.8,
    keep_id_cosine: float = 0.5,
    iterations: int = 25,
    rng: random.Random,
) -> CenterFit:
    """Cluster weighted unit vectors into at most ``max_centers`` taste centers.

    A center needs ``min_share`` of the weight and ``min_members`` rows (a mix needs a few
    tracks to draw on), or it is dissolved into the others.
    ``previous`` (yesterday's centers) are the first seeds; the rest come from weighted
    k-means++ drawn with ``rng``. A final center within ``keep_id_cosine`` of a previous one
    (matched one to one, best total cosine first) keeps its id; the others get fresh ids.
    """
    x = normalize_rows(vectors)
    w = np.asarray(weights, dtype=np.float64)
    _check(x, w, max_centers, min_share, merge_cosine, iterations)
    if min_members < 1:
        raise ValueError(f"min_members must be at least 1, got {min_members}")
    live = (w > 0) & (np.linalg.norm(x, axis=1) > 0)
    if not live.any():
        return CenterFit((), np.full(len(w), -1, dtype=np.int64))
    seeds = _seeds(x[live], w[live], previous, max_centers, rng)
    centers = _kmeans(x[live], w[live], seeds, iterations)
    centers = _simplify(x[live], w[live], centers, min_share, min_members, merge_cosine, iterations)
    labels_live = np.argmax(x[live] @ centers.T, axis=1)
    mass = np.bincount(labels_live, weights=w[live], minlength=len(centers))
    order = np.argsort(-mass, kind="stable")
    centers, mass = centers[order], mass[order]
    remap = np.empty(len(order), dtype=np.int64)
    remap[order] = np.arange(len(order))
    labels = np.full(len(w), -1, dtype=np.int64)
    labels[live] = remap[labels_live]
    ids = _stable_ids(centers, previous, keep_id_cosine)
    total = float(mass.sum())
    out = tuple(
        TasteCenter(id=i, vector=c, weight=float(m), share=float(m) / total)
        for i, c, m in zip(ids, centers, mass, strict=True)
    )
    return CenterFit(out, labels)


def _check(
    x: Matrix,
    w: npt.NDArray[np.float64],
    max_centers: int,
    min_share: float,
    merge_cosine: float,
    iterations: int,
) -> None:
    if x.ndim != 2 or w.shape != (x.shape[0],):
        raise ValueError(f"{w.shape} weights for vectors of shape {x.shape}: need one per row")
    if not np.all(np.isfinite(x)) or not np.all(np.isfinite(w)) or (w < 0).any():
        raise ValueError("vectors and weights must be finite, weights not negative")
    if max_centers < 1:
        raise ValueError(f"max_centers must be at least 1, got {max_centers}")
    if not 0 <= min_share < 1:
        raise ValueError(f"min_share must be in [0, 1), got {min_share}")
    if not -1 <= merge_cosine <= 1:
        raise ValueError(f"merge_cosine must be a cosine in [-1, 1], got {merge_cosine}")
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")


def _seeds(
    x: Matrix,
    w: npt.NDArray[np.float64],
    previous: Sequence[TasteCenter],
    k: int,
    rng: random.Random,
) -> Matrix:
    dim = x.shape[1]
    seeds = [c.vector for c in previous if c.vector.shape == (dim,)][:k]
    distinct = len(np.unique(x.round(6), axis=0))
    want = min(k, max(distinct, len(seeds)))
    # Weighted k-means++: the next seed is drawn in proportion to weight x distance².
    while len(seeds) < want:
        if seeds:
            sims = x @ np.asarray(seeds, dtype=np.float32).T
            dist = np.clip(1.0 - sims.max(axis=1), 0.0, None)
        else:
            dist = np.ones(len(w))
        p = w * dist**2
        if p.sum() <= 1e-12:
            break
        target = rng.random() * float(p.sum())
        seeds.append(x[min(int(np.searchsorted(np.cumsum(p), target)), len(p) - 1)])
    return normalize_rows(np.asarray(seeds, dtype=np.float32))


def _kmeans(x: Matrix, w: npt.NDArray[np.float64], centers: Matrix, iterations: int) -> Matrix:
    for _ in range(iterations):
        labels = np.argmax(x @ centers.T, axis=1)
        sums = np.zeros((len(centers), x.shape[1]), dtype=np.float64)
        np.add.at(sums, labels, x * w[:, None])
        mass = np.bincount(labels, weights=w, minlength=len(centers))
        moved = normalize_rows(sums[mass > 0])
        if moved.shape == centers.shape and np.allclose(moved, centers, atol=1e-6):
            return moved
        centers = moved  # a center that lost every row is dropped
    return centers


def _simplify(
    x: Matrix,
    w: npt.NDArray[np.float64],
    centers: Matrix,
    min_share: float,
    min_members: int,
    merge_cosine: float,
    iterations: int,
) -> Matrix:
    """Merge the closest pair above ``merge_cosine``, or dissolve the smallest center below
    ``min_members`` rows or the lightest below ``min_share``, one at a time, re-fitting after
    each, until none applies."""
    while len(centers) > 1:
        labels = np.argmax(x @ centers.T, axis=1)
        share = np.bincount(labels, weights=w, minlength=len(centers)) / w.sum()
        members = np.bincount(labels, minlength=len(centers))
        sims = centers @ centers.T
        np.fill_diagonal(sims, -np.inf)
        i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
        if sims[i, j] > merge_cosine:
            merged = normalize_rows(centers[i] * share[i] + centers[j] * share[j])
            rest = np.delete(centers, [i, j], axis=0)
            centers = _kmeans(x, w, np.vstack([rest, merged]), iterations)
        elif members.min() < min_members:
            smallest = int(np.argmin(members))
            centers = _kmeans(x, w, np.delete(centers, smallest, axis=0), iterations)
        elif share.min() < min_share:
            centers = _kmeans(x, w, np.delete(centers, int(np.argmin(share)), axis=0), iterations)
        else:
            break
    return centers


def _stable_ids(centers: Matrix, previous: Sequence[TasteCenter], keep: float) -> list[int]:
    ids = [-1] * len(centers)
    usable = [c for c in previous if c.vector.shape == (centers.shape[1],)]
    if usable:
        sims = centers @ np.asarray([c.vector for c in usable], dtype=np.float32).T
        rows, cols = linear_sum_assignment(-sims)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            if sims[r, c] >= keep:
                ids[r] = usable[c].id
    taken = {c.id for c in previous}
    fresh = max(taken, default=0) + 1
    for n, value in enumerate(ids):
        if value < 0:
            ids[n] = fresh
            fresh += 1
    return ids
