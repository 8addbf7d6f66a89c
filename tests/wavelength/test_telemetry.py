from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recommender.encoder import Vectors
from wavelength.telemetry import ENCODER_BUCKETS, Telemetry, TimedEncoder


class Encoder:
    model_name = "fake"
    dim = 4

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        return np.zeros((len(texts), self.dim), dtype=np.float32)


def test_encoder_batches_and_spotify_429s_are_counted() -> None:
    t = Telemetry()
    timed = TimedEncoder(Encoder(), t)
    assert (timed.model_name, timed.dim) == ("fake", 4)
    assert timed.encode(["a", "b"]).shape == (2, 4)
    timed.encode([])
    t.rate_limited()
    t.encoded(ENCODER_BUCKETS[-1] + 1)  # slower than every bucket: counted in +Inf
    limited, counts, total = t.snapshot()
    assert limited == 1 and sum(counts) == 3 and counts[-1] == 1
    assert total >= ENCODER_BUCKETS[-1] + 1
