"""From per-list scores to a split: calibration on held-out labelled songs, then the four
mutual/complete combinations.

Everything that turns scores into decisions is calibrated on the user's own examples, held
out fold by fold (each fold hides at most one example per list and refits without it):

- a temperature, so the probabilities mean what they say (held-out log-likelihood);
- per-list thresholds for non-mutual sorting (held-out F1 per list, the middle of the best
  range), capped below one half so a song between two lists can belong to both;
- the void threshold: a song whose cosine to its best list's centroid is below the
  ``void_quantile`` of the held-out examples' cosines to their own list fits nowhere well.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recommender.sorter._fit import (
    FitOptions,
    Labels,
    Method,
    Pile,
    centroids,
    check_labels,
    logits,
    logits_many,
)

DEFAULT_METHOD = Method.SPREAD
TEMPERATURES = (0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0, 2.0, 5.0, 10.0)
MAX_THRESHOLD = 0.3  # a list holding a third of a song's probability may have it too
DEFAULT_THRESHOLD = 0.35
DEFAULT_VOID = 0.0  # cosine; used when there is nothing held out to calibrate on
TOLERANCE = 0.02  # nats per held-out song
GRID = np.linspace(0.05, 0.95, 19)


@dataclass(frozen=True, slots=True)
class SortOptions:
    mutual: bool = True  # each song in at most one list
    complete: bool = True  # every song placed (else a void for songs that fit nowhere)
    void_quantile: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 <= self.void_quantile < 1.0:
            raise ValueError(f"void_quantile must be in [0, 1), got {self.void_quantile}")


@dataclass(frozen=True, slots=True)
class Calibration:
    temperature: float
    thresholds: tuple[float, ...]  # per list, on probabilities (non-mutual)
    void: float  # cosine to the best list's centroid below which a song is left out
    held_out: int  # labelled songs the numbers were calibrated on


@dataclass(frozen=True, slots=True)
class Placement:
    row: int
    lists: tuple[int, ...]  # empty: the void
    confidence: float  # probability of the best list (0..1)
    labelled: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class Sorting:
    placements: tuple[Placement, ...]  # one per pile row, in row order
    probabilities: npt.NDArray[np.float64]  # (songs, lists)
    fit: npt.NDArray[np.float64]  # cosine of each song to its best list's centroid
    calibration: Calibration
    method: Method

    @property
    def lists(self) -> int:
        return int(self.probabilities.shape[1])

    def members(self, j: int) -> tuple[Placement, ...]:
        """List ``j``'s songs, labelled ones first, then the surest."""
        inside = [p for p in self.placements if j in p.lists]
        return tuple(sorted(inside, key=lambda p: (not p.labelled, -p.confidence, p.row)))

    @property
    def void(self) -> tuple[int, ...]:
        return tuple(p.row for p in self.placements if not p.lists)


def softmax(z: npt.NDArray[np.float64], temperature: float) -> npt.NDArray[np.float64]:
    s = z / temperature
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    out: npt.NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


def sort_pile(
    pile: Pile,
    labels: Labels,
    *,
    lists: int,
    options: SortOptions = SortOptions(),
    method: Method = DEFAULT_METHOD,
    fit_options: FitOptions = FitOptions(),  # noqa: B008 - frozen, shared safely
) -> Sorting:
    """Place every song of ``pile`` given the labelled ``(row, list)`` pairs."""
    check_labels(labels, size=pile.size, lists=lists)
    labels = list(dict.fromkeys(labels))
    if not labels:
        raise ValueError("label at least one song before sorting")
    calibration = calibrate(
        pile,
        labels,
        lists,
        method=method,
        fit_options=fit_options,
        void_quantile=options.void_quantile,
    )
    z = logits(pile, labels, lists, method=method, options=fit_options)
    probs = softmax(z, calibration.temperature)
    cos = pile.vectors @ centroids(pile, labels, lists).T
    best = probs.argmax(axis=1)
    fit = cos[np.arange(pile.size), best].astype(np.float64)
    given: dict[int, list[int]] = {}
    for row, j in labels:
        given.setdefault(row, []).append(j)
    thresholds = np.asarray(calibration.thresholds)
    placements = []
    for row in range(pile.size):
        if row in given:
            placements.append(Placement(row, tuple(sorted(given[row])), 1.0, labelled=True))
            continue
        top = int(best[row])
        confidence = float(probs[row, top])
        if not options.complete and fit[row] < calibration.void:
            placements.append(Placement(row, (), confidence))
            continue
        chosen = {top}
        if not options.mutual:
            chosen |= {int(j) for j in np.flatnonzero(probs[row] >= thresholds)}
        placements.append(Placement(row, tuple(sorted(chosen)), confidence))
    return Sorting(tuple(placements), probs, fit, calibration, method)


def calibrate(
    pile: Pile,
    labels: Labels,
    lists: int,
    *,
    method: Method,
    fit_options: FitOptions,
    void_quantile: float,
) -> Calibration:
    rows, truth, z, cos = _held_out(pile, list(labels), lists, method, fit_options)
    if not rows:
        return Calibration(
            1.0 if method is Method.SPREAD else 0.1,
            (DEFAULT_THRESHOLD,) * lists,
            DEFAULT_VOID,
            0,
        )
    zs = np.asarray(z)
    truth_a = np.asarray(truth)
    fits = [
        float(np.log(softmax(zs, t)[np.arange(len(truth_a)), truth_a] + 1e-9).mean())
        for t in TEMPERATURES
    ]
    # The least confident temperature that explains the held-out songs about as well as the
    # best: on easy examples every sharp one fits, and the sharpest would saturate every
    # probability (no margins for active labelling, no song between two lists).
    temperature = max(
        t for t, f in zip(TEMPERATURES, fits, strict=True) if f >= max(fits) - TOLERANCE
    )
    probs = softmax(zs, temperature)
    thresholds = tuple(_threshold(probs[:, j], truth_a == j) for j in range(lists))
    void = float(np.quantile(np.asarray(cos), void_quantile)) if void_quantile > 0 else -1.0
    return Calibration(temperature, thresholds, void, len(rows))


def _held_out(
    pile: Pile, labels: list[tuple[int, int]], lists: int, method: Method, fit_options: FitOptions
) -> tuple[list[int], list[int], list[npt.NDArray[np.float64]], list[float]]:
    """Scores of labelled songs from fits that did not see them (a list's only example is
    never held out: without it the list would vanish)."""
    per_list: dict[int, list[tuple[int, int]]] = {}
    for pair in labels:
        per_list.setdefault(pair[1], []).append(pair)
    folds = max((len(v) for v in per_list.values()), default=0)
    folds = min(folds, 5)
    rows: list[int] = []
    truth: list[int] = []
    z: list[npt.NDArray[np.float64]] = []
    cos: list[float] = []
    folds_hidden: list[list[tuple[int, int]]] = []
    folds_kept: list[list[tuple[int, int]]] = []
    for f in range(folds):
        hidden = [v[i] for v in per_list.values() if len(v) > 1 for i in range(f, len(v), folds)]
        hidden_rows = {r for r, _ in hidden}
        kept = [pair for pair in labels if pair[0] not in hidden_rows]
        if hidden and len({j for _, j in kept}) == len(per_list):
            folds_hidden.append(hidden)
            folds_kept.append(kept)
    fitted = logits_many(pile, folds_kept, lists, method=method, options=fit_options)
    for hidden, kept, scores in zip(folds_hidden, folds_kept, fitted, strict=True):
        cents = centroids(pile, kept, lists)
        for r, j in hidden:
            rows.append(r)
            truth.append(j)
            z.append(scores[r])
            cos.append(float(pile.vectors[r] @ cents[j]))
    return rows, truth, z, cos


def _threshold(p: npt.NDArray[np.float64], positive: npt.NDArray[np.bool_]) -> float:
    if not positive.any():
        return DEFAULT_THRESHOLD
    f1 = []
    for t in GRID:
        predicted = p >= t
        tp = float((predicted & positive).sum())
        f1.append(2 * tp / max(float(predicted.sum() + positive.sum()), 1.0))
    scores = np.asarray(f1)
    best = GRID[scores >= scores.max() - 1e-9]
    return float(min(np.median(best), MAX_THRESHOLD))
