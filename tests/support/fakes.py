"""Honest in-memory fakes of the interfaces the core depends on (checked by contract tests)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from wavelength.domain import CatalogCounts


class FakeCatalogStats:
    """A catalog whose counts are whatever the test says they are."""

    def __init__(self, counts: CatalogCounts | None = None) -> None:
        self._counts = counts or CatalogCounts(0, 0, 0, 0, 0, 0, 0)

    def set(self, counts: CatalogCounts) -> None:
        self._counts = counts

    def counts(self) -> CatalogCounts:
        return self._counts


class HashingEncoder:
    """A text encoder without a model: hashed bag of words, L2-normalised. Texts that share
    words are close, unrelated texts are near-orthogonal, which is all the contract asks."""

    model_name = "fake-hashing"

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim
        self.calls: list[int] = []  # batch sizes seen, so tests can check what was encoded

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> npt.NDArray[np.float32]:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.casefold()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self._dim] += 1.0
            norm = np.linalg.norm(out[row])
            if norm == 0:
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return out


class DictEmbeddingCache:
    """The embedding cache in memory."""

    def __init__(self) -> None:
        self.data: dict[bytes, npt.NDArray[np.float32]] = {}

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, npt.NDArray[np.float32]]:
        return {k: self.data[k] for k in keys if k in self.data}

    def put_many(self, items: Mapping[bytes, npt.NDArray[np.float32]]) -> None:
        self.data.update(items)
