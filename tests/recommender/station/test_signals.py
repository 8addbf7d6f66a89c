"""``VectorMemo``: vectors are read from the store once, misses included."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recommender.station.signals import VectorMemo
from vectorstore.base import CollectionName, Vector, VectorName


class ReadCountingStore:
    def __init__(self) -> None:
        self.reads: list[list[str]] = []

    def vectors(
        self, name: CollectionName, ids: Sequence[str], *, using: VectorName
    ) -> dict[str, Vector]:
        self.reads.append(list(ids))
        return {i: np.full(4, float(i[1:]), dtype=np.float32) for i in ids if i != "t0"}


def test_vectors_are_read_once_and_misses_are_remembered() -> None:
    store = ReadCountingStore()
    memo = VectorMemo()
    got = memo.vectors(store, CollectionName.TRACKS, ["t1", "t0", "t2"], VectorName.TEXT)  # type: ignore[arg-type]
    assert set(got) == {"t1", "t2"} and float(got["t2"][0]) == 2.0
    again = memo.vectors(store, CollectionName.TRACKS, ["t2", "t0", "t3"], VectorName.TEXT)  # type: ignore[arg-type]
    assert store.reads == [["t1", "t0", "t2"], ["t3"]]
    assert set(again) == {"t2", "t3"}
    memo.vectors(store, CollectionName.TRACKS, ["t1"], VectorName.CF)  # type: ignore[arg-type]
    assert store.reads[-1] == ["t1"], "another space is another vector"
    memo.clear()
    memo.vectors(store, CollectionName.TRACKS, ["t1"], VectorName.TEXT)  # type: ignore[arg-type]
    assert store.reads[-1] == ["t1"]


def test_a_full_memo_starts_over_instead_of_growing() -> None:
    store = ReadCountingStore()
    memo = VectorMemo(size=3)
    memo.vectors(store, CollectionName.TRACKS, ["t1", "t2", "t3"], VectorName.TEXT)  # type: ignore[arg-type]
    memo.vectors(store, CollectionName.TRACKS, ["t4"], VectorName.TEXT)  # type: ignore[arg-type]
    memo.vectors(store, CollectionName.TRACKS, ["t1"], VectorName.TEXT)  # type: ignore[arg-type]
    assert store.reads[-1] == ["t1"]
    assert len(memo._memo) <= 3
