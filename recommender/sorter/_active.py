"""Which songs to ask the user about next.

Until every list has an example, the most different songs (farthest from anything labelled,
starting at the pile's most typical song) so each list can be found. After that, the songs the
current sorting is least sure about (smallest margin between the two best lists), skipping
near-duplicates of songs already picked so one question does not get asked twice.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from recommender.sorter._fit import Pile
from recommender.sorter._sort import Sorting

NEAR_DUPLICATE = 0.95  # cosine


def propose_to_label(
    pile: Pile,
    sorting: Sorting | None,
    labelled: Collection[int],
    *,
    n: int = 5,
    max_similarity: float = NEAR_DUPLICATE,
) -> tuple[int, ...]:
    """Up to ``n`` unlabelled pile rows to label next, most informative first."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    free = np.asarray([r for r in range(pile.size) if r not in set(labelled)], dtype=np.int64)
    if free.size == 0:
        return ()
    x = pile.vectors
    if sorting is None:
        return _diverse(pile, free, list(labelled), n)
    probs = np.sort(sorting.probabilities[free], axis=1)
    margin = probs[:, -1] - (probs[:, -2] if probs.shape[1] > 1 else 0.0)
    picked: list[int] = []
    for i in np.argsort(margin, kind="stable"):
        row = int(free[i])
        if picked and float((x[picked] @ x[row]).max()) > max_similarity:
            continue
        picked.append(row)
        if len(picked) == n:
            break
    return tuple(picked)


def _diverse(pile: Pile, free: np.ndarray, labelled: list[int], n: int) -> tuple[int, ...]:
    x = pile.vectors
    chosen = list(labelled)
    picked: list[int] = []
    if not chosen:
        mean = x.mean(axis=0)
        first = int(free[int(np.argmax(x[free] @ mean))])
        picked.append(first)
        chosen.append(first)
    closest = (x[free] @ x[chosen].T).max(axis=1)
    while len(picked) < n and len(picked) < free.size:
        i = int(np.argmin(closest))
        row = int(free[i])
        if row in picked:
            break
        picked.append(row)
        closest = np.maximum(closest, x[free] @ x[row])
    return tuple(picked[:n])
