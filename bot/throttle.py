"""A per-user flood limit: a token bucket with an injected clock (no sleeping, no I/O).

One person pasting fifty moods a second would otherwise queue fifty station compositions
in front of everyone else. The bucket lets a burst through (people do fire three quick
reactions), then about one request a second; the first refusal of a flood gets a friendly
reply and the rest are dropped quietly, so a flood isn't answered with a flood.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class Throttle:
    def __init__(
        self,
        *,
        burst: int = 8,
        per_second: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if burst < 1 or per_second <= 0:
            raise ValueError("burst must be >= 1 and per_second > 0")
        self._burst = float(burst)
        self._rate = per_second
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[Hashable, _Bucket] = {}

    def admit(self, key: Hashable) -> bool | None:
        """True: go ahead. False: over the limit, tell them once. None: over the limit and
        already told; stay quiet."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return True
        if bucket.warned:
            return None
        bucket.warned = True
        return False

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they hold nothing a fresh bucket wouldn't."""
        full = [
            k
            for k, b in self._buckets.items()
            if b.tokens + (now - b.at) * self._rate >= self._burst
        ]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= self._max_keys:  # all busy: forget the oldest half
            for k in list(self._buckets)[: self._max_keys // 2]:
                del self._buckets[k]
