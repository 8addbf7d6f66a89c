"""The vector store: the only package that talks to Qdrant.

``open_store`` picks the backend: a Qdrant server when a URL is configured, otherwise the
embedded qdrant-edge engine in the data folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from vectorstore.base import (
    NO_FILTER,
    CollectionInfo,
    CollectionName,
    Filter,
    Hit,
    Payload,
    Point,
    Vector,
    VectorName,
    VectorStore,
    VectorStoreError,
    payload_dict,
)

if TYPE_CHECKING:
    from vectorstore.edge import EdgeStore, EdgeTuning
    from vectorstore.server import QdrantServerStore

__all__ = [
    "NO_FILTER",
    "CollectionInfo",
    "CollectionName",
    "EdgeStore",
    "EdgeTuning",
    "Filter",
    "Hit",
    "Payload",
    "Point",
    "QdrantServerStore",
    "Vector",
    "VectorName",
    "VectorStore",
    "VectorStoreError",
    "open_store",
    "payload_dict",
]

# The backends import their engines, which is slow; load them on first use.
_LAZY = {
    "EdgeStore": "vectorstore.edge",
    "EdgeTuning": "vectorstore.edge",
    "QdrantServerStore": "vectorstore.server",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(*, url: str | None, api_key: str | None, path: Path) -> VectorStore:
    """A Qdrant server store when ``url`` is set, else the embedded store under ``path``."""
    if url:
        from vectorstore.server import QdrantServerStore

        return QdrantServerStore.connect(url, api_key=api_key)
    from vectorstore.edge import EdgeStore

    return EdgeStore(path)
