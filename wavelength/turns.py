"""One caller at a time per key, for threads: what two threads must not do side by side for
the same station (compose and record its next batch). Keys nobody holds or waits for are
forgotten, so a long-running process does not keep a lock per station it ever served."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Hashable, Iterator
from contextlib import contextmanager


class Turns:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._users: Counter[Hashable] = Counter()

    @contextmanager
    def turn(self, key: Hashable) -> Iterator[None]:
        """Holds ``key`` until the block ends (waits while another thread holds it)."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
            self._users[key] += 1
        try:
            with lock:
                yield
        finally:
            with self._guard:
                self._users[key] -= 1
                if not self._users[key]:
                    del self._users[key], self._locks[key]

    def __len__(self) -> int:
        """Keys held or waited for now."""
        return len(self._locks)
