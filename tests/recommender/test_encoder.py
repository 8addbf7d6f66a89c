"""TextEncoder contract (the real model and the fake), the device plan and the cache wrapper."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from recommender.encoder import (
    CachedEncoder,
    EncoderError,
    SentenceEncoder,
    TextEncoder,
    cache_key,
    plan_device,
)
from tests.support.fakes import DictEmbeddingCache, HashingEncoder

_REAL: dict[str, SentenceEncoder] = {}


def real_encoder() -> SentenceEncoder:
    # One load per worker: the model takes seconds to load on CPU.
    if "minilm" not in _REAL:
        _REAL["minilm"] = SentenceEncoder("all-MiniLM-L6-v2", device="cpu")
    return _REAL["minilm"]


@pytest.fixture(params=["sentence-transformers", "fake"])
def encoder(request: pytest.FixtureRequest) -> Iterator[TextEncoder]:
    yield real_encoder() if request.param == "sentence-transformers" else HashingEncoder()


def test_rows_are_unit_length_float32_in_input_order(encoder: TextEncoder) -> None:
    texts = ["calm piano for sleeping", "loud angry metal", "calm piano for sleeping"]
    vectors = encoder.encode(texts)
    assert vectors.shape == (3, encoder.dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-3)
    np.testing.assert_allclose(vectors[0], vectors[2], atol=1e-5)


def test_related_texts_are_closer_than_unrelated(encoder: TextEncoder) -> None:
    a, b, c = encoder.encode(
        ["calm acoustic piano for sleeping", "quiet acoustic piano for sleeping", "loud metal"]
    )
    assert float(a @ b) > float(a @ c) + 0.2


def test_empty_input_gives_an_empty_matrix(encoder: TextEncoder) -> None:
    assert encoder.encode([]).shape == (0, encoder.dim)


def test_the_bundled_model_is_384_dimensional_and_understands_moods() -> None:
    enc = real_encoder()
    assert enc.dim == 384
    query, jazz, metal = enc.encode(
        [
            "rainy sunday jazz for reading",
            "Blue in Green by Miles Davis. Genres: cool jazz. Calm, mellow, acoustic.",
            "Angel of Death by Slayer. Genres: thrash metal. Energetic, intense, loud.",
        ]
    )
    assert float(query @ jazz) > float(query @ metal)


def test_an_unknown_model_is_a_clear_error_not_a_download(tmp_path: object) -> None:
    with pytest.raises(EncoderError, match="WAVELENGTH_ENCODER_MODEL"):
        SentenceEncoder("no-such-org/no-such-model-xyz", device="cpu")


def test_cpu_plan_uses_small_batches_and_fp32() -> None:
    plan = plan_device("cpu", None)
    assert (plan.device, plan.half, plan.batch_size) == ("cpu", False, 32)
    assert plan_device("cuda:0", None).half is True
    assert plan_device("cuda", None).batch_size == 1024
    assert plan_device("cpu", 8).batch_size == 8


def test_cache_keys_depend_on_model_and_text() -> None:
    assert cache_key("m", "a") == cache_key("m", "a")
    assert cache_key("m", "a") != cache_key("n", "a")
    assert cache_key("m", "a") != cache_key("m", "b")


def test_cached_encoder_encodes_each_new_text_once() -> None:
    inner, cache = HashingEncoder(), DictEmbeddingCache()
    cached = CachedEncoder(inner, cache, chunk_size=2)

    first = cached.encode(["a b", "c d", "a b", "e f", "g h"])
    assert sum(inner.calls) == 4  # the duplicate encodes once
    assert inner.calls == [2, 2]  # in chunks
    assert (cached.stats.encoded, cached.stats.hits) == (4, 1)

    second = cached.encode(["e f", "new text", "a b"])
    assert sum(inner.calls) == 5  # only "new text"
    np.testing.assert_array_equal(second[0], first[3])
    np.testing.assert_array_equal(second[2], first[0])
    assert len(cache.data) == 5


def test_cached_vectors_equal_fresh_ones() -> None:
    inner = HashingEncoder()
    cached = CachedEncoder(inner, DictEmbeddingCache())
    texts = ["x y z", "one two"]
    np.testing.assert_array_equal(cached.encode(texts), inner.encode(texts))
    np.testing.assert_array_equal(cached.encode(texts), inner.encode(texts))


class _Crash(RuntimeError):
    pass


class _CrashingEncoder(HashingEncoder):
    def encode(self, texts, *, progress=False):  # type: ignore[no-untyped-def]
        if len(self.calls) == 1:
            raise _Crash
        return super().encode(texts, progress=progress)


def test_a_crash_keeps_the_chunks_encoded_before_it() -> None:
    cache = DictEmbeddingCache()
    with pytest.raises(_Crash):
        CachedEncoder(_CrashingEncoder(), cache, chunk_size=2).encode(["a", "b", "c", "d"])
    assert len(cache.data) == 2
