"""Every backend behind one fixture, so the contract tests prove them interchangeable."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.vectorstore.catalog import CATALOG, DIMS, TRACKS
from vectorstore import VectorStore
from vectorstore.edge import EdgeStore
from vectorstore.server import QdrantServerStore


@contextmanager
def memory_store() -> Iterator[VectorStore]:
    """The lightest honest store: qdrant-client's local mode in memory (exact search)."""
    store = QdrantServerStore.local()
    try:
        yield store
    finally:
        store.close()


@contextmanager
def ram_folder() -> Iterator[Path]:
    """A scratch folder in RAM where the OS has one: on disk every new shard spends about a
    second in fsync, which would dominate these tests. Files, locks and reopening are real."""
    shm = Path("/dev/shm")  # noqa: S108 - mkdtemp below makes a private folder in it
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        with tempfile.TemporaryDirectory(prefix="wavelength-test-") as folder:
            yield Path(folder)
        return
    with tempfile.TemporaryDirectory(prefix="wavelength-test-", dir=shm) as folder:
        yield Path(folder)


@pytest.fixture
def shard_root() -> Iterator[Path]:
    with ram_folder() as folder:
        yield folder


def make_store(kind: str, root: Path) -> VectorStore:
    if kind == "edge":
        return EdgeStore(root / "vectors")
    return QdrantServerStore.local()


@pytest.fixture(params=["edge", "local"])
def empty_store(request: pytest.FixtureRequest, shard_root: Path) -> Iterator[VectorStore]:
    store = make_store(request.param, shard_root)
    try:
        yield store
    finally:
        store.close()


def load_catalog(store: VectorStore) -> VectorStore:
    store.ensure_collection(TRACKS, dims=DIMS)
    assert store.upsert(TRACKS, CATALOG, batch_size=7) == len(CATALOG)
    return store


@pytest.fixture
def store(empty_store: VectorStore) -> VectorStore:
    """A backend holding the known-answer catalog in ``tracks``, for tests that write."""
    return load_catalog(empty_store)


@pytest.fixture(scope="module", params=["edge", "local"])
def catalog(request: pytest.FixtureRequest) -> Iterator[VectorStore]:
    """The same, shared by a module's read-only tests."""
    with ram_folder() as folder:
        store = make_store(request.param, folder)
        try:
            yield load_catalog(store)
        finally:
            store.close()
