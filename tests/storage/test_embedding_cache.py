from __future__ import annotations

from pathlib import Path

import numpy as np

from storage.embedding_cache import SqliteEmbeddingCache


def test_vectors_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "embeddings.sqlite"
    cache = SqliteEmbeddingCache(path)
    vectors = {i.to_bytes(16, "big"): np.full(4, i, dtype=np.float32) for i in range(1200)}
    cache.put_many(vectors)
    cache.close()

    reopened = SqliteEmbeddingCache(path)
    found = reopened.get_many([*vectors, b"missing"])  # more keys than one IN list holds
    assert len(reopened) == 1200
    assert set(found) == set(vectors)
    np.testing.assert_array_equal(found[(7).to_bytes(16, "big")], np.full(4, 7, dtype=np.float32))
    reopened.close()


def test_put_replaces(tmp_path: Path) -> None:
    cache = SqliteEmbeddingCache(tmp_path / "c.sqlite")
    cache.put_many({b"k": np.zeros(3, dtype=np.float32)})
    cache.put_many({b"k": np.ones(3, dtype=np.float32)})
    np.testing.assert_array_equal(cache.get_many([b"k"])[b"k"], np.ones(3, dtype=np.float32))
    assert len(cache) == 1
    cache.close()
