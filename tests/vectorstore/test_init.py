"""The package face: open_store picks the backend, public names resolve."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import vectorstore
from vectorstore import CollectionName, VectorStoreError, open_store
from vectorstore.edge import EdgeStore


def test_without_a_url_the_store_is_embedded_in_the_folder(tmp_path: Path) -> None:
    store = open_store(url=None, api_key=None, path=tmp_path / "vectors")
    try:
        assert isinstance(store, EdgeStore)
        assert store.root == tmp_path / "vectors"
        assert store.info(CollectionName.TRACKS) is None
    finally:
        store.close()


def test_with_a_url_the_server_is_used_and_must_answer(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(VectorStoreError, match=f"cannot reach Qdrant at http://127.0.0.1:{port}"):
        open_store(url=f"http://127.0.0.1:{port}", api_key=None, path=tmp_path)
    assert not any(tmp_path.iterdir())  # the embedded store was not touched


def test_every_public_name_resolves() -> None:
    for name in vectorstore.__all__:
        assert getattr(vectorstore, name) is not None
    assert vectorstore.EdgeStore is EdgeStore
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = vectorstore.Nope
