"""What each station has played each listener, kept between batches.

A station's context needs every track it played the listener (none repeats), and reading
them all back costs a row per track, so a long-running station paid more for every batch
(300 rows after an hour of listening; a tenth of the API's CPU under load). The set only
grows, one batch at a time, and each batch has a number, so an entry is known complete
exactly while the newest batch number in the database is the one it was taken at. A batch
recorded by another process (a compose worker, an API process, the chat beside the API)
leaves the entry behind, and only the batches since are read to catch up
(``StationsCore._played_up_to``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from wavelength.domain import StationId, TrackId, UserId

Key = tuple[StationId, UserId]


class PlayedMemo:
    def __init__(self, *, size: int = 10_000, most: int = 2000) -> None:
        """``most``: the plays a context reads back at most (``storage.feedback.played``'s
        limit); past that the database's answer, the newest ``most``, is the one to use."""
        self._memo: dict[Key, tuple[int, frozenset[TrackId]]] = {}
        self._lock = threading.Lock()
        self._size = size
        self._most = most

    def get(self, key: Key, batch: int) -> frozenset[TrackId] | None:
        """The plays up to batch number ``batch`` (the newest there is), if known."""
        with self._lock:
            hit = self._memo.get(key)
        return hit[1] if hit is not None and hit[0] == batch else None

    def known(self, key: Key) -> tuple[int, frozenset[TrackId]] | None:
        """The newest entry for ``key``: the batch number it is complete up to, and the
        plays (None when nothing is known)."""
        with self._lock:
            return self._memo.get(key)

    @property
    def most(self) -> int:
        return self._most

    def newest(self, key: Key) -> int | None:
        """The newest batch number known here for ``key`` (None when nothing is)."""
        with self._lock:
            hit = self._memo.get(key)
        return hit[0] if hit is not None else None

    def put(self, key: Key, batch: int, played: Iterable[TrackId]) -> None:
        with self._lock:
            hit = self._memo.get(key)
            if hit is not None and hit[0] > batch:
                return  # read before another thread recorded a newer batch: keep that one
            if len(self._memo) >= self._size:
                self._memo.clear()
            self._memo[key] = (batch, frozenset(played))

    def recorded(self, key: Key, batch: int, tracks: Iterable[TrackId]) -> None:
        """Batch number ``batch`` was just recorded with ``tracks``: an entry complete up to
        the one before grows by them; any other entry is left to go stale."""
        with self._lock:
            hit = self._memo.get(key)
            if hit is None or hit[0] != batch - 1:
                return
            grown = hit[1] | frozenset(tracks)
            if len(grown) > self._most:
                del self._memo[key]
            else:
                self._memo[key] = (batch, grown)

    def forget(self, station: StationId) -> None:
        with self._lock:
            for key in [k for k in self._memo if k[0] == station]:
                del self._memo[key]
