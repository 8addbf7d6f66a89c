"""Process-wide counters the HTTP metrics endpoint exports: Spotify 429s and encoder batch
latency. Plain numbers behind a lock, so the adapters that feed them need no metrics library
and every process (bots, API, scheduler) keeps its own, as Prometheus expects."""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

from recommender.encoder import TextEncoder, Vectors

# Encoding one mood takes milliseconds; a first-start training batch takes seconds.
ENCODER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Telemetry:
    spotify_429: int = 0
    encoder_counts: list[int] = field(default_factory=lambda: [0] * (len(ENCODER_BUCKETS) + 1))
    encoder_sum: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def rate_limited(self) -> None:
        with self._lock:
            self.spotify_429 += 1

    def encoded(self, seconds: float) -> None:
        with self._lock:
            self.encoder_counts[bisect_left(ENCODER_BUCKETS, seconds)] += 1
            self.encoder_sum += seconds

    def snapshot(self) -> tuple[int, list[int], float]:
        with self._lock:
            return self.spotify_429, list(self.encoder_counts), self.encoder_sum


TELEMETRY = Telemetry()


class TimedEncoder:
    """A text encoder that reports each batch's latency (wraps the real one at the root)."""

    def __init__(self, inner: TextEncoder, telemetry: Telemetry = TELEMETRY) -> None:
        self._inner = inner
        self._telemetry = telemetry

    @property
    def model_name(self) -> str:
        return self._inner.model_name

    @property
    def dim(self) -> int:
        return self._inner.dim

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        start = time.perf_counter()
        try:
            return self._inner.encode(texts, progress=progress)
        finally:
            self._telemetry.encoded(time.perf_counter() - start)
