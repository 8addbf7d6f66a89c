"""What gets scored: the station engine and the baselines, behind one small interface.

A ``Query`` is what a listener gives a station: a title (the mood) and, for playlist
continuation, the tracks already on the playlist. Every ranker answers ``recommend(query,
n=...)`` with ranked ``(ids, scores)`` and never returns a seed track.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from recommender.station import StationComposer, StationContext
from wavelength.domain import Mood, Reaction, Station, StationId, TrackId, Tuning, UserId

if TYPE_CHECKING:
    from recommender.interactions import Interactions

# Neighbours kept per item by the item-kNN baseline: the best K on a validation split of the
# MPD sample (benchmarks/eval_cf.py, 2026-11-22).
KNN_NEIGHBOURS = 500


@dataclass(frozen=True, slots=True)
class Query:
    title: str = ""
    seed: tuple[TrackId, ...] = ()


class Ranker(Protocol):
    def recommend(self, query: Query, *, n: int) -> tuple[list[TrackId], np.ndarray]: ...


def _check_n(n: int) -> None:
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")


def title_station(title: str, *, tuning: Tuning | None = None) -> Station:
    """The station a listener gets by typing ``title``, as ``StationService.from_playlist``
    makes one: the title, unparsed, is the mood."""
    return Station(
        id=StationId(0), owner=UserId(0), name=title, mood=Mood(original=title, text=title),
        tuning=tuning or Tuning(),
    )  # fmt: skip


def seeded_context(station: Station, seed: Sequence[TrackId]) -> StationContext:
    """The station with ``seed`` liked, oldest first, and never offered again."""
    ctx = StationContext.build(station, played=seed)
    for track in seed:
        ctx = ctx.with_feedback(track, Reaction.LIKE)
    return ctx


class StationRanker:
    """The station engine's deterministic ranking (``StationComposer.rank``)."""

    def __init__(self, composer: StationComposer) -> None:
        self.composer = composer

    def recommend(self, query: Query, *, n: int) -> tuple[list[TrackId], np.ndarray]:
        _check_n(n)
        ctx = seeded_context(title_station(query.title), query.seed)
        return self.composer.rank(ctx, n=n)


class Popularity:
    """The tracks on the most training playlists, first seen first among equals."""

    def __init__(self, train: Interactions) -> None:
        support = train.item_support()
        order = np.argsort(-support, kind="stable")
        self._ids = [TrackId(train.item_ids[i]) for i in order.tolist()]
        self._counts = support[order].astype(np.float32)

    def recommend(self, query: Query, *, n: int) -> tuple[list[TrackId], np.ndarray]:
        _check_n(n)
        banned = set(query.seed)
        ids: list[TrackId] = []
        counts: list[float] = []
        for track, count in zip(self._ids, self._counts.tolist(), strict=True):
            if track in banned:
                continue
            ids.append(track)
            counts.append(count)
            if len(ids) == n:
                break
        return ids, np.array(counts, dtype=np.float32)


class ItemKnn:
    """Item-item cosine over training co-occurrence (implicit's ``ItemItemRecommender`` on
    unit-length item columns), scored from the seed tracks. Only tracks with a co-occurring
    neighbour score; ``fill`` (popularity) tops the list up when they run short."""

    def __init__(
        self, train: Interactions, *, k: int = KNN_NEIGHBOURS, fill: Popularity | None = None
    ) -> None:
        import scipy.sparse as sp
        from implicit.nearest_neighbours import ItemItemRecommender

        self._train = train
        self._fill = fill
        # XᵀX of unit-length columns is the cosine matrix; handing implicit CSR directly avoids
        # its own COO detour (and the "expects CSR" warning it raises on it).
        scale = sp.diags(1.0 / np.sqrt(np.maximum(train.item_support(), 1)))
        self._model: Any = ItemItemRecommender(K=k)
        self._model.fit(sp.csr_matrix(train.matrix @ scale, dtype=np.float64), show_progress=False)

    def recommend(self, query: Query, *, n: int) -> tuple[list[TrackId], np.ndarray]:
        _check_n(n)
        row = self._train.rows_of([query.seed])
        ids: list[TrackId] = []
        scores: list[float] = []
        if row.nnz:
            found, values = self._model.recommend(0, row, N=n, filter_already_liked_items=True)
            for i, s in zip(found.tolist(), values.tolist(), strict=True):
                if s > 0:  # a zero score is no neighbour at all, not a weak one
                    ids.append(TrackId(self._train.item_ids[i]))
                    scores.append(float(s))
        if len(ids) < n and self._fill is not None:
            have = set(ids)
            extra, _ = self._fill.recommend(query, n=n + len(ids))
            more = [t for t in extra if t not in have][: n - len(ids)]
            ids += more
            scores += [0.0] * len(more)
        return ids, np.array(scores, dtype=np.float32)
