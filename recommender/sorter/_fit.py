"""Per-list scores for every song of a pile from a few labelled ones.

Three scorers share one shape: ``(pile vectors, labelled (row, list) pairs, lists) -> logits``
of shape ``(songs, lists)``, higher meaning "fits that list better":

- ``CENTROID``: cosine to the mean of each list's labelled songs (the baseline).
- ``LOGISTIC``: softmax regression with L2, started from the centroids.
- ``SPREAD``: label spreading (Zhou et al., 2004) over the pile's own k-nearest-neighbour
  graph. With three to ten examples per list a classifier sees too little; the unlabelled
  songs of the pile carry the shape of each list, and spreading follows it.

The pile graph does not depend on the labels, so ``Pile`` builds it once and every refit after
a correction only re-propagates (a few sparse products).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy import sparse

Matrix = npt.NDArray[np.float32]
Labels = Sequence[tuple[int, int]]  # (pile row, list index); a song may carry several lists


class Method(StrEnum):
    CENTROID = "centroid"
    LOGISTIC = "logistic"
    SPREAD = "spread"


@dataclass(frozen=True, slots=True)
class FitOptions:
    neighbours: int = 10  # of the pile graph (SPREAD)
    alpha: float = 0.9  # how far labels spread: 0 = not at all, towards 1 = across the pile
    iterations: int = 30
    l2: float = 1.0  # LOGISTIC weight decay
    steps: int = 150


@dataclass(frozen=True, slots=True, eq=False)
class Pile:
    """The songs to sort: unit rows, and (lazily) their kNN graph."""

    vectors: Matrix
    _graph: dict[int, sparse.csr_matrix] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, vectors: npt.ArrayLike) -> Pile:
        x = np.asarray(vectors, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] < 1:
            raise ValueError(f"a pile needs a 2-d array with at least one row, got {x.shape}")
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        return cls(x / np.maximum(norms, 1e-12))

    @property
    def size(self) -> int:
        return int(self.vectors.shape[0])

    def graph(self, neighbours: int) -> sparse.csr_matrix:
        """The symmetric-normalised kNN affinity ``D^-1/2 W D^-1/2`` (cached per k)."""
        if neighbours not in self._graph:
            self._graph[neighbours] = _knn_graph(self.vectors, neighbours)
        return self._graph[neighbours]


def _knn_graph(x: Matrix, k: int) -> sparse.csr_matrix:
    n = x.shape[0]
    k = min(k, n - 1)
    if k < 1:
        return sparse.csr_matrix((n, n), dtype=np.float32)
    sims = x @ x.T
    np.fill_diagonal(sims, -np.inf)
    near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    rows = np.repeat(np.arange(n), k)
    cols = near.ravel()
    # Only positive similarities link songs; a negative one is no evidence of sameness.
    weights = np.maximum(sims[rows, cols], 0.0).astype(np.float32)
    w = sparse.csr_matrix((weights, (rows, cols)), shape=(n, n))
    w = w.maximum(w.T)
    degree = np.asarray(w.sum(axis=1)).ravel()
    inv = 1.0 / np.sqrt(np.maximum(degree, 1e-12))
    scale = sparse.diags(inv.astype(np.float32))
    return (scale @ w @ scale).tocsr()


def check_labels(labels: Labels, *, size: int, lists: int) -> None:
    if lists < 1:
        raise ValueError(f"lists must be at least 1, got {lists}")
    for row, j in labels:
        if not 0 <= row < size:
            raise ValueError(f"labelled row {row} is outside the pile of {size}")
        if not 0 <= j < lists:
            raise ValueError(f"list index {j} is outside 0..{lists - 1}")


def onehot(labels: Labels, *, size: int, lists: int) -> npt.NDArray[np.float32]:
    y = np.zeros((size, lists), dtype=np.float32)
    for row, j in labels:
        y[row, j] = 1.0
    return y


def centroids(pile: Pile, labels: Labels, lists: int) -> Matrix:
    """Unit mean of each list's labelled songs; a zero row for a list with none."""
    sums = np.zeros((lists, pile.vectors.shape[1]), dtype=np.float32)
    for row, j in labels:  # labels are few; a (songs x lists) product would cost far more
        sums[j] += pile.vectors[row]
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    out: Matrix = (sums / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


def logits(
    pile: Pile, labels: Labels, lists: int, *, method: Method, options: FitOptions
) -> npt.NDArray[np.float64]:
    """``(songs, lists)`` scores; higher fits better. Comparable within a row, not across
    methods (the calibration in ``_sort`` turns them into probabilities)."""
    check_labels(labels, size=pile.size, lists=lists)
    if method is Method.CENTROID:
        return (pile.vectors @ centroids(pile, labels, lists).T).astype(np.float64)
    if method is Method.LOGISTIC:
        return _logistic(pile, labels, lists, options)
    return _spread(pile, labels, lists, options)


def _logistic(
    pile: Pile, labels: Labels, lists: int, options: FitOptions
) -> npt.NDArray[np.float64]:
    rows = np.asarray([r for r, _ in labels], dtype=np.int64)
    x = pile.vectors[rows].astype(np.float64)
    y = np.zeros((len(rows), lists))
    y[np.arange(len(rows)), [j for _, j in labels]] = 1.0
    # Start at the nearest-centroid solution scaled up, so few steps only refine it.
    w = centroids(pile, labels, lists).T.astype(np.float64) * 10.0
    b = np.zeros(lists)
    lr = 0.5
    n = max(len(rows), 1)
    for _ in range(options.steps):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = p - y
        w -= lr * (x.T @ g / n + options.l2 * w / n)
        b -= lr * g.mean(axis=0)
    return pile.vectors.astype(np.float64) @ w + b


def logits_many(
    pile: Pile, label_sets: Sequence[Labels], lists: int, *, method: Method, options: FitOptions
) -> list[npt.NDArray[np.float64]]:
    """``logits`` for several label sets (calibration folds); spreading runs them as one
    multi-column propagation, which costs about as much as one."""
    if method is not Method.SPREAD or not label_sets:
        return [logits(pile, ls, lists, method=method, options=options) for ls in label_sets]
    for ls in label_sets:
        check_labels(ls, size=pile.size, lists=lists)
    return _spread_many(pile, label_sets, lists, options)


def _spread(pile: Pile, labels: Labels, lists: int, options: FitOptions) -> npt.NDArray[np.float64]:
    return _spread_many(pile, [labels], lists, options)[0]


def _spread_many(
    pile: Pile, label_sets: Sequence[Labels], lists: int, options: FitOptions
) -> list[npt.NDArray[np.float64]]:
    s = pile.graph(options.neighbours)
    ys = []
    for labels in label_sets:
        y = onehot(labels, size=pile.size, lists=lists).astype(np.float64)
        # Each list starts with the same mass, so a list with more examples does not swallow
        # the pile.
        ys.append(y / np.maximum(y.sum(axis=0, keepdims=True), 1.0))
    y = np.concatenate(ys, axis=1)
    f = y.copy()
    for _ in range(options.iterations):
        f = options.alpha * (s @ f) + (1 - options.alpha) * y
    out = []
    for i, labels in enumerate(label_sets):
        part = f[:, i * lists : (i + 1) * lists]
        # Songs the graph does not reach (isolated ones) fall back on the centroids.
        cos = pile.vectors @ centroids(pile, labels, lists).T
        total = part.sum(axis=1, keepdims=True)
        share = part / np.maximum(total, 1e-300)
        reached = total[:, 0] > 1e-12
        out.append(np.where(reached[:, None], np.log(share + 1e-4), cos * 10.0).astype(np.float64))
    return out
