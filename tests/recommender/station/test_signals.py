"""``VectorMemo``: vectors are read from the store once, misses included."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recommender.station.signals import TextMemo, VectorMemo
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
    assert len(memo) <= 3


def test_a_clear_by_another_thread_meanwhile_takes_nothing_out_of_an_answer() -> None:
    memo = VectorMemo()
    store = ReadCountingStore()
    memo.vectors(store, CollectionName.TRACKS, ["t1"], VectorName.TEXT)  # type: ignore[arg-type]

    class ClearingStore(ReadCountingStore):
        def vectors(
            self, name: CollectionName, ids: Sequence[str], *, using: VectorName
        ) -> dict[str, Vector]:
            memo.clear()  # as another thread would, finding the memo full
            return super().vectors(name, ids, using=using)

    got = memo.vectors(ClearingStore(), CollectionName.TRACKS, ["t1", "t2"], VectorName.TEXT)  # type: ignore[arg-type]
    assert set(got) == {"t1", "t2"}


def test_text_memo_answers_even_when_another_thread_clears_it_meanwhile() -> None:
    class ClearingEncoder:
        dim = 4

        def __init__(self) -> None:
            self.memo: TextMemo | None = None
            self.calls: list[list[str]] = []

        def encode(self, texts: Sequence[str]) -> list[Vector]:
            self.calls.append(list(texts))
            if self.memo is not None:
                self.memo.clear()  # as another thread would, finding the memo full
            return [np.full(4, float(len(t)), dtype=np.float32) for t in texts]

    encoder = ClearingEncoder()
    memo = TextMemo(encoder)  # type: ignore[arg-type]
    encoder.memo = memo
    memo.encode(["jazz"])
    got = memo.encode(["jazz", "rainy sunday", "jazz"])
    assert [float(v[0]) for v in got] == [4.0, 12.0, 4.0]
    assert encoder.calls == [["jazz"], ["rainy sunday"]], "jazz was remembered, not encoded again"
