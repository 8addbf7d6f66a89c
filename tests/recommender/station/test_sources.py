"""``RecentSearches``: a station's last search stands in for the next while its query has
barely moved, ranked by the new query, never with a track that may not play, and never for
long."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from recommender.station.signals import VectorMemo
from recommender.station.sources import (
    REUSE_COSINE,
    REUSE_MAX,
    REUSE_SPARE,
    Lookup,
    RecentSearches,
    Reuse,
)
from vectorstore.base import CollectionName, Filter, Hit, VectorName
from wavelength.domain import TrackId

DIM = 8


@dataclass
class CountingStore:
    """Exact search over random unit vectors, counting searches and their depths."""

    points: dict[str, np.ndarray]
    depths: list[int] = field(default_factory=list)

    def search(
        self, name: CollectionName, *, using: VectorName, vector: Any, n: int, where: Filter
    ) -> list[Hit]:
        self.depths.append(n)
        q = vector / np.linalg.norm(vector)
        scored = [
            Hit(id=i, score=float(v @ q))
            for i, v in self.points.items()
            if i not in where.exclude_ids
        ]
        return sorted(scored, key=lambda h: -h.score)[:n]

    def vectors(self, name: CollectionName, ids: Any, *, using: VectorName) -> dict[str, Any]:
        self.reads += 1
        return {i: self.points[i] for i in ids if i in self.points}

    reads: int = 0

    def exact(self, vector: Any, n: int, where: Filter) -> list[str]:
        return [h.id for h in self.search(
            CollectionName.TRACKS, using=VectorName.TEXT, vector=vector, n=n, where=where
        )]  # fmt: skip


def make_store(count: int = 400) -> CountingStore:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((count, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return CountingStore({f"t{i}": v for i, v in enumerate(vectors)})


NONE = Filter()


def look(store: CountingStore, where: Filter = NONE, pool: int = 20) -> Lookup:
    return Lookup(store=store, catalog=None, where=where, pool=pool, vectors=VectorMemo())  # type: ignore[arg-type]


def nudge(vector: np.ndarray, by: float) -> np.ndarray:
    """``vector`` turned slightly: cosine to it about 1 - by**2 / 2."""
    other = np.roll(vector, 1)
    return vector + by * other


KEY = ("mood", 1, "rainy jazz")
Q = np.arange(1, DIM + 1, dtype=np.float32)  # not symmetric: np.roll turns it


def test_a_query_that_barely_moved_reuses_the_last_search_minus_what_was_played() -> None:
    store = make_store()
    recent = RecentSearches()
    first, _ = recent.search(KEY, look(store), VectorName.TEXT, Q, Filter())
    assert store.depths == [20 + REUSE_SPARE]  # searched deeper, for the batches to come
    assert len(first) == 20
    played = Filter(exclude_ids=tuple(first[:5]))
    near = nudge(Q, 0.05)
    again, scores = recent.search(KEY, look(store, played), VectorName.TEXT, near, played)
    assert len(store.depths) == 1, "a query this close must not search again"
    assert not set(again) & set(first[:5])
    # Ranked by the new query: here, where the deeper list holds its whole top, exactly what
    # a search would answer.
    assert again == store.exact(near, 20, played)
    assert again != first[5:] + again[15:], "the new query reorders the kept tracks"
    assert len(again) == 20 and scores == sorted(scores, reverse=True)


def test_a_query_that_moved_searches_afresh() -> None:
    store = make_store()
    recent = RecentSearches()
    recent.search(KEY, look(store), VectorName.TEXT, Q, Filter())
    moved = nudge(Q, 1.5)
    assert np.dot(moved, Q) / np.linalg.norm(moved) / np.linalg.norm(Q) < REUSE_COSINE
    fresh, _ = recent.search(KEY, look(store), VectorName.TEXT, moved, Filter())
    assert len(store.depths) == 2
    assert fresh == store.exact(moved, 20, Filter())


def test_reuse_stops_after_a_few_in_a_row_so_drift_never_accumulates() -> None:
    store = make_store()
    recent = RecentSearches()
    for _ in range(REUSE_MAX + 1):
        recent.search(KEY, look(store), VectorName.TEXT, Q, Filter())
    assert len(store.depths) == 1
    recent.search(KEY, look(store), VectorName.TEXT, Q, Filter())
    assert len(store.depths) == 2


def test_stations_limits_and_bans_each_get_their_own_search() -> None:
    store = make_store()
    recent = RecentSearches()
    recent.search(KEY, look(store), VectorName.TEXT, Q, Filter())
    recent.search(("mood", 2, "rainy jazz"), look(store), VectorName.TEXT, Q, Filter())
    decade = Filter(year_min=1990, year_max=1999)
    recent.search(KEY, look(store, decade), VectorName.TEXT, Q, decade)
    banned = Filter(exclude_artist_ids=("a1",))
    recent.search(KEY, look(store, banned), VectorName.TEXT, Q, banned)
    assert len(store.depths) == 4


def test_too_few_left_after_exclusions_searches_again() -> None:
    store = make_store()
    recent = RecentSearches()
    recent.search(KEY, look(store), VectorName.TEXT, Q, Filter())
    deep, _ = recent.search(KEY, look(store, pool=20 + REUSE_SPARE), VectorName.TEXT, Q, Filter())
    assert len(store.depths) == 2  # a deeper pool is another slot
    gone = Filter(exclude_ids=tuple(TrackId(t) for t in deep[: REUSE_SPARE + 1]))
    refilled, _ = recent.search(KEY, look(store, gone), VectorName.TEXT, Q, gone)
    assert len(store.depths) == 3, "fewer than a pool left: a real search"
    assert len(refilled) == 20 and not set(refilled) & set(gone.exclude_ids)


def test_vectors_come_from_the_shared_memo_and_without_them_it_searches() -> None:
    store = make_store()
    recent = RecentSearches()
    memo = VectorMemo()
    shared = Lookup(store=store, catalog=None, where=Filter(), pool=20, vectors=memo)  # type: ignore[arg-type]
    for _ in range(3):
        recent.search(KEY, shared, VectorName.TEXT, Q, Filter())
    assert (len(store.depths), store.reads) == (1, 1), "one search, its vectors read once"
    blind = Lookup(store=store, catalog=None, where=Filter(), pool=20)  # type: ignore[arg-type]
    other = RecentSearches()
    other.search(KEY, blind, VectorName.TEXT, Q, Filter())
    other.search(KEY, blind, VectorName.TEXT, Q, Filter())
    assert len(store.depths) == 3, "no vectors to rank by: a real search"


def test_a_station_that_ran_out_stays_out_without_searching() -> None:
    store = make_store(count=30)
    recent = RecentSearches()
    everything = Filter(exclude_ids=tuple(f"t{i}" for i in range(30)))
    assert recent.search(KEY, look(store, everything), VectorName.TEXT, Q, everything) == ([], [])
    assert recent.search(KEY, look(store, everything), VectorName.TEXT, Q, everything) == ([], [])
    assert len(store.depths) == 1


def test_stacked_vectors_are_kept_for_the_newest_searches_only_and_answers_stay_the_same() -> None:
    """A reuse ranks the same tracks again, so their vectors are kept stacked, but only for
    the newest few searches (400 KB each); the others read them from the shared memo again
    and must answer exactly the same."""
    answers = []
    for with_rows in (64, 1):
        store = make_store()
        recent = RecentSearches(with_rows=with_rows)
        memo = VectorMemo()
        got = []
        for turn in range(3):
            for station in (1, 2):  # two stations taking turns: with one slot, each evicts
                shared = Lookup(store=store, catalog=None, where=Filter(), pool=20, vectors=memo)  # type: ignore[arg-type]
                key = ("mood", station, "rainy jazz")
                got.append(
                    recent.search(key, shared, VectorName.TEXT, nudge(Q, 0.01 * turn), Filter())
                )
        assert len(store.depths) == 2, "two stations, one search each"
        stacked = [e for e in recent._memo.values() if e.rows is not None]
        assert len(stacked) == min(with_rows, 2)
        answers.append(got)
    assert answers[0] == answers[1]


def test_the_reuse_setting_decides_how_close_and_how_often() -> None:
    store = make_store()
    loose = RecentSearches(reuse=Reuse(cosine=0.9, max_uses=2))
    loose.search(KEY, look(store), VectorName.TEXT, Q, Filter())
    moved = nudge(Q, 1.5)  # cosine about 0.95: too far for the default, near enough here
    cosine = float(np.dot(moved, Q) / np.linalg.norm(moved) / np.linalg.norm(Q))
    assert 0.9 < cosine < REUSE_COSINE
    for _ in range(2):
        loose.search(KEY, look(store), VectorName.TEXT, moved, Filter())
    assert len(store.depths) == 1
    loose.search(KEY, look(store), VectorName.TEXT, moved, Filter())  # a third: searched
    assert len(store.depths) == 2
    never = RecentSearches(reuse=Reuse(max_uses=0))
    for _ in range(3):
        never.search(KEY, look(store), VectorName.TEXT, Q, Filter())
    assert len(store.depths) == 5


def test_a_reuse_setting_out_of_range_is_refused() -> None:
    for cosine, uses in ((1.5, 4), (0.99, -1)):
        with pytest.raises(ValueError, match="reuse needs"):
            Reuse(cosine, uses)
