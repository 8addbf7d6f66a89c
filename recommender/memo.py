"""One bounded read-through memo for the look-ups the hot path repeats: catalog facts, track
vectors, encoded mood texts.

Each had grown its own copy, and each needed the same fix when composes began to run in
several threads (2026-11-27): one call clearing a full memo could take entries out of
another call's answer. Here the answer is put together from what this call saw and read, so
a clear meanwhile costs a read again later, never a missing answer.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class ReadThrough(Generic[K, V]):
    """Answers by key, misses remembered too (a key ``read`` did not find stays unfound
    until ``clear``); at most ``size`` entries, cleared whole when full (simple, and refilled
    by a handful of reads)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._memo: dict[K, V | None] = {}

    def get_many(
        self,
        keys: Iterable[K],
        read: Callable[[list[K]], Mapping[K, V]],
        *,
        default: V | None = None,
    ) -> dict[K, V]:
        """What the memo knows of ``keys``, and ``read`` called once for the rest; keys
        ``read`` does not find get ``default`` (left out of the answer when None). In the
        order asked, each key once."""
        wanted = list(dict.fromkeys(keys))
        out: dict[K, V] = {}
        missing: list[K] = []
        for key in wanted:
            value = self._memo.get(key, _MISSING)
            if value is _MISSING:
                missing.append(key)
            elif value is not None:
                out[key] = value  # type: ignore[assignment]
        if not missing:
            return out
        found = read(missing)
        for key in missing:
            value = found.get(key, default)
            if len(self._memo) >= self._size:
                self._memo.clear()
            self._memo[key] = value
            if value is not None:
                out[key] = value
        return {key: out[key] for key in wanted if key in out}

    def clear(self) -> None:
        self._memo.clear()

    def __len__(self) -> int:
        return len(self._memo)
