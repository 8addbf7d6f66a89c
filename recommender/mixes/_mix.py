"""From a taste center to a mix: mostly familiar tracks near it, a share of new ones.

A mix is a list, not a stream, so the rules are hard: nothing excluded (disliked, played in the
last weeks), at most ``per_artist`` tracks by one artist, and new tracks spread evenly through
the familiar ones rather than bunched at the end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recommender.vectors import Matrix, Vector, normalize_rows


@dataclass(frozen=True, slots=True)
class MixItem:
    track: str
    artist: str
    score: float
    familiar: bool  # the listener has played or liked it before


@dataclass(frozen=True, slots=True, eq=False)
class Pool:
    """Candidates for a mix: ids, their artists, unit vectors and an affinity (how much the
    listener cares for each: recency-weighted plays and likes; 1.0 for tracks they never had)."""

    ids: tuple[str, ...]
    artists: tuple[str, ...]
    vectors: Matrix
    affinity: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(self.artists) != n or self.affinity.shape != (n,):
            raise ValueError(f"a pool needs one artist and one affinity per id ({n} ids)")
        if self.vectors.ndim != 2 or self.vectors.shape[0] != n:
            raise ValueError(f"vectors must have {n} rows, got shape {self.vectors.shape}")

    @classmethod
    def of(
        cls,
        ids: Sequence[str],
        artists: Sequence[str],
        vectors: npt.ArrayLike,
        affinity: npt.ArrayLike | None = None,
    ) -> Pool:
        matrix = normalize_rows(vectors) if len(ids) else np.zeros((0, 1), np.float32)
        aff = np.ones(len(ids)) if affinity is None else np.asarray(affinity, dtype=np.float64)
        return cls(tuple(ids), tuple(artists), matrix, aff)

    def __len__(self) -> int:
        return len(self.ids)


EMPTY_POOL = Pool((), (), np.zeros((0, 1), np.float32), np.zeros(0))


def rank_pool(
    center: Vector, pool: Pool, *, sharpness: float = 1.0
) -> tuple[list[int], npt.NDArray[np.float64]]:
    """Pool rows best first: ``affinity * max(cosine, 0) ** sharpness`` (ties by id, so runs
    repeat). A higher ``sharpness`` keeps a mix closer to its center."""
    if not len(pool):
        return [], np.zeros(0)
    if pool.vectors.shape[1] != center.shape[0]:
        raise ValueError(f"center has dim {center.shape[0]}, pool vectors {pool.vectors.shape[1]}")
    scores = pool.affinity * np.clip(pool.vectors @ center, 0.0, None) ** sharpness
    order = sorted(range(len(pool)), key=lambda i: (-scores[i], pool.ids[i]))
    return order, scores


def compose_mix(
    center: Vector,
    *,
    familiar: Pool,
    fresh: Pool = EMPTY_POOL,
    n: int = 25,
    new_share: float = 0.2,
    per_artist: int = 2,
    exclude: Collection[str] = (),
    sharpness: float = 1.0,
    fresh_floor: float | None = None,
) -> tuple[MixItem, ...]:
    """``n`` tracks near ``center``: about ``1 - new_share`` from ``familiar``, the rest from
    ``fresh`` (either side fills in when the other runs short). Nothing in ``exclude``, at most
    ``per_artist`` per artist, a track never twice.

    ``fresh_floor``: new tracks must be at least this close (cosine) to the center. Left None,
    it is the cosine of the least central tenth of the familiar pool, so a new track is never
    further out than the listener's own tracks around this center go."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 <= new_share <= 1:
        raise ValueError(f"new_share must be in [0, 1], got {new_share}")
    if per_artist < 1:
        raise ValueError(f"per_artist must be at least 1, got {per_artist}")
    banned = set(exclude)
    per: Counter[str] = Counter()
    taken: set[str] = set()

    def take(pool: Pool, want: int, is_familiar: bool) -> list[MixItem]:
        out: list[MixItem] = []
        order, scores = rank_pool(center, pool, sharpness=sharpness)
        for i in order:
            if len(out) >= want:
                break
            track, artist = pool.ids[i], pool.artists[i]
            if track in banned or track in taken or per[artist] >= per_artist or scores[i] <= 0:
                continue
            taken.add(track)
            per[artist] += 1
            out.append(MixItem(track, artist, float(scores[i]), is_familiar))
        return out

    want_new = round(n * new_share)
    old = take(familiar, n - want_new, True)
    if fresh_floor is None and len(familiar):
        fresh_floor = float(np.quantile(familiar.vectors @ center, 0.1))
    if fresh_floor is not None and len(fresh):
        near = np.flatnonzero(fresh.vectors @ center >= fresh_floor)
        fresh = Pool(
            tuple(fresh.ids[i] for i in near),
            tuple(fresh.artists[i] for i in near),
            fresh.vectors[near],
            fresh.affinity[near],
        )
    new = take(fresh, n - len(old), False)
    if len(old) + len(new) < n:
        old += take(familiar, n - len(old) - len(new), True)
    return _interleave(old, new)


def _interleave(old: list[MixItem], new: list[MixItem]) -> tuple[MixItem, ...]:
    """New tracks at even spacing among the familiar ones, never first."""
    if not new or not old:
        return tuple(old or new)
    total = len(old) + len(new)
    # Steps of total / (len(new) + 1) >= 1 apart, so the slots are distinct and never 0.
    slots: list[MixItem | None] = [None] * total
    for k, item in enumerate(new):
        slots[(k + 1) * total // (len(new) + 1)] = item
    rest = iter(old)
    return tuple(item if item is not None else next(rest) for item in slots)


def top_artists(artists: Sequence[str], weights: npt.ArrayLike, *, n: int = 3) -> tuple[str, ...]:
    """The ``n`` artists with the most weight, heaviest first: the label of a center or a mix
    (listeners recognise their artists; invented genre names they do not)."""
    total: Counter[str] = Counter()
    for artist, weight in zip(artists, np.asarray(weights, dtype=np.float64).tolist(), strict=True):
        total[artist] += weight
    return tuple(a for a, _ in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:n])
