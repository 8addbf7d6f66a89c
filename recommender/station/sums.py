"""Summing ranked lists' scores per track, in numpy: the liked source over its neighbour lists,
``fuse`` over the sources' proposals. Both had been Python loops over some 1,000 (track, part)
pairs per batch, a fifth of a batch's time under load (py-spy, 2026-11-27)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

K = TypeVar("K", bound=str)


def top_sums(
    lists: Sequence[tuple[Sequence[K], np.ndarray]],
    limit: int | None = None,
    *,
    excluded: frozenset[K] | frozenset[str] = frozenset(),
) -> tuple[list[K], list[float], list[int]] | None:
    """Each key's summed parts over ``lists`` (keys and their float64 parts), less
    ``excluded``: the best ``limit`` keys (all when None) by sum, ties by key; their sums; and
    for each, the index of the list that gave it its largest part (the first on a tie).
    None when no key is left.

    Exactly what the loop ``total[k] = total.get(k, 0.0) + part`` over the lists in order
    gives, float for float: ``np.bincount`` adds in input order, in float64.
    """
    index: dict[K, int] = {}
    codes = np.fromiter(
        (index.setdefault(k, len(index)) for keys, _ in lists for k in keys),
        dtype=np.int64,
        count=sum(len(keys) for keys, _ in lists),
    )
    if not index:
        return None
    names = list(index)
    parts = np.concatenate([np.asarray(p, dtype=np.float64) for _, p in lists])
    which = np.concatenate([np.full(len(keys), i) for i, (keys, _) in enumerate(lists)])
    if excluded:
        allowed = np.fromiter((k not in excluded for k in names), dtype=bool, count=len(names))
        keep = allowed[codes]
        codes, parts, which = codes[keep], parts[keep], which[keep]
        if codes.size == 0:
            return None
    totals = np.bincount(codes, weights=parts, minlength=len(names))
    # The list that gave each key the most: sorted by key, then part (largest first), then
    # position (first first), the head of each key's run.
    order = np.lexsort((np.arange(codes.size), -parts, codes))
    heads = order[np.r_[True, codes[order][1:] != codes[order][:-1]]]
    best_list = np.empty(len(names), dtype=np.int64)
    best_list[codes[heads]] = which[heads]
    present = np.unique(codes)
    if limit is not None and present.size > limit:
        # The limit's worst sum; every key tied with it goes to the exact sort below.
        floor = np.partition(totals[present], present.size - limit)[present.size - limit]
        present = present[totals[present] >= floor]
    sums = totals.tolist()
    best = sorted(present.tolist(), key=lambda c: (-sums[c], names[c]))[:limit]
    return [names[c] for c in best], [sums[c] for c in best], [int(best_list[c]) for c in best]
