"""``top_sums`` and ``fuse`` on it: exactly what the Python loops they replaced gave, ties,
exclusions and limits included."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from recommender.station.blend import RRF_K, Candidate, fuse
from recommender.station.reasons import Reason, Why
from recommender.station.sources import Proposal
from recommender.station.sums import top_sums
from wavelength.domain import TrackId


def _by_loop(
    lists: list[tuple[list[TrackId], list[float]]],
    limit: int | None,
    excluded: frozenset[TrackId],
) -> tuple[list[TrackId], list[float], list[int]] | None:
    """The liked source's sum as it was first written, one pair at a time: the reference."""
    total: dict[TrackId, float] = {}
    best: dict[TrackId, tuple[float, int]] = {}
    for i, (ids, parts) in enumerate(lists):
        for track, part in zip(ids, parts, strict=True):
            if track in excluded:
                continue
            total[track] = total.get(track, 0.0) + part
            if track not in best or part > best[track][0]:
                best[track] = (part, i)
    if not total:
        return None
    key = lambda t: (-total[t], t)  # noqa: E731
    ids = heapq.nsmallest(limit, total, key=key) if limit is not None else sorted(total, key=key)
    return ids, [total[t] for t in ids], [best[t][1] for t in ids]


def _lists(rng: np.random.Generator) -> list[tuple[list[TrackId], list[float]]]:
    catalog = [TrackId(f"t{i}") for i in range(int(rng.integers(5, 400)))]
    out = []
    for _ in range(int(rng.integers(1, 7))):
        ids = list(rng.choice(catalog, size=int(rng.integers(0, len(catalog))), replace=False))
        # Coarse parts, as weight x cosine floored at 0: ties in parts and sums are common.
        weight = float(rng.choice([0.35, 0.93, 1.0, 2.0]))
        out.append(
            (ids, [weight * max(c, 0.0) for c in np.round(rng.uniform(-0.3, 1, len(ids)), 1)])
        )
    return out


@pytest.mark.parametrize("seed", range(40))
def test_sums_are_exactly_what_a_loop_over_the_pairs_gives(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lists = _lists(rng)
    everything = sorted({t for ids, _ in lists for t in ids})
    excluded = (
        frozenset(rng.choice(everything, size=len(everything) // 3, replace=False))
        if everything
        else frozenset()
    )
    limit = None if seed % 5 == 0 else int(rng.integers(1, 200))
    arrays = [(ids, np.asarray(parts, dtype=np.float64)) for ids, parts in lists]
    assert top_sums(arrays, limit, excluded=excluded) == _by_loop(lists, limit, excluded)


def test_nothing_left_is_none() -> None:
    only = [(["a", "b"], np.array([1.0, 2.0]))]
    assert top_sums([]) is None
    assert top_sums(only, excluded=frozenset({"a", "b"})) is None
    assert top_sums(only, 1) == (["b"], [2.0], [0])


def _fuse_by_loop(proposals: list[Proposal], limit: int | None) -> list[Candidate]:
    """``fuse`` as it was written before ``top_sums``: the reference."""
    total: dict[TrackId, float] = {}
    best: dict[TrackId, tuple[float, Proposal]] = {}
    for proposal in proposals:
        if proposal.weight <= 0:
            continue
        for rank, track in enumerate(proposal.ids):
            part = proposal.weight / (RRF_K + rank + 1)
            total[track] = total.get(track, 0.0) + part
            if track not in best or part > best[track][0]:
                best[track] = (part, proposal)
    key = lambda t: (-total[t], t)  # noqa: E731
    if limit is not None and limit < len(total):
        ordered = heapq.nsmallest(limit, total, key=key)
    else:
        ordered = sorted(total, key=key)
    out = []
    for t in ordered:
        p = best[t][1]
        out.append(Candidate(t, total[t], p.source, p.reasons.get(t, p.reason)))
    return out


@pytest.mark.parametrize("seed", range(30))
def test_fuse_is_exactly_the_loop_it_replaced(seed: int) -> None:
    rng = np.random.default_rng(seed)
    catalog = [TrackId(f"t{i}") for i in range(int(rng.integers(5, 300)))]
    proposals = []
    for n, source in enumerate(("mood", "genre", "playlists", "seed", "liked")):
        ids = list(rng.choice(catalog, size=int(rng.integers(0, len(catalog))), replace=False))
        weight = float(rng.choice([0.0, 0.5, 1.0, 1.0, 2.5, -1.0]))  # equal weights tie
        own = {t: Reason(Why.LIKED, t) for t in ids[::3]}  # some tracks carry their own
        proposals.append(
            Proposal(source, ids, [0.0] * len(ids), weight, Reason(Why.MOOD, f"m{n}"), own)
        )
    limit = None if seed % 4 == 0 else int(rng.integers(1, 150))
    assert fuse(proposals, limit=limit) == _fuse_by_loop(proposals, limit)
