"""The vector store: the only package that talks to Qdrant.

``open_store`` picks the backend: a Qdrant server when a URL is configured, otherwise the
embedded qdrant-edge engine in the data folder, and opens its live generation (see
``vectorstore.live``); ``open_live`` wraps that in a ``LiveStore`` that a model refresh can
switch to a new generation while the app serves.
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
from vectorstore.live import Generations, LiveStore, generation_of

if TYPE_CHECKING:
    from vectorstore.edge import EdgeStore, EdgeTuning
    from vectorstore.edge_generations import EdgeGenerations
    from vectorstore.server import QdrantServerStore
    from vectorstore.server_generations import ServerGenerations

__all__ = [
    "NO_FILTER",
    "CollectionInfo",
    "CollectionName",
    "EdgeGenerations",
    "EdgeStore",
    "EdgeTuning",
    "Filter",
    "Generations",
    "Hit",
    "LiveStore",
    "Payload",
    "Point",
    "QdrantServerStore",
    "ServerGenerations",
    "Vector",
    "VectorName",
    "VectorStore",
    "VectorStoreError",
    "generation_of",
    "open_generations",
    "open_live",
    "open_store",
    "payload_dict",
]

# The backends import their engines, which is slow; load them on first use.
_LAZY = {
    "EdgeGenerations": "vectorstore.edge_generations",
    "EdgeStore": "vectorstore.edge",
    "EdgeTuning": "vectorstore.edge",
    "QdrantServerStore": "vectorstore.server",
    "ServerGenerations": "vectorstore.server_generations",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_generations(*, url: str | None, api_key: str | None, path: Path) -> Generations:
    """The generations on the Qdrant server at ``url`` when set, else embedded under ``path``."""
    if url:
        from vectorstore.server_generations import ServerGenerations

        return ServerGenerations.connect(url, api_key=api_key)
    from vectorstore.edge_generations import EdgeGenerations

    return EdgeGenerations(path)


def open_store(*, url: str | None, api_key: str | None, path: Path) -> VectorStore:
    """The live generation: on the Qdrant server when ``url`` is set, else the embedded store
    in ``path`` (or in the folder its pointer file names, after a model refresh)."""
    if url:
        from vectorstore.server import QdrantServerStore

        return QdrantServerStore.connect(url, api_key=api_key)
    from vectorstore.edge_generations import EdgeGenerations

    return EdgeGenerations(path).open_live()


# How soon a process notices a generation another process made live on a shared server.
FOLLOW_EVERY_S = 60.0


def open_live(*, url: str | None, api_key: str | None, path: Path) -> LiveStore:
    """``open_store``'s live generation in a ``LiveStore`` that can move to a new one. On a
    server, which other processes may refresh, it looks for a new one every minute; the
    embedded store is one process's alone."""
    generations = open_generations(url=url, api_key=api_key, path=path)
    return LiveStore(generations, follow_every_s=FOLLOW_EVERY_S if url else None)
