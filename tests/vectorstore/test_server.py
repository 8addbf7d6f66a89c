"""What only the server store promises: clear one-line errors, prefixed names, local mode."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from tests.vectorstore.catalog import CATALOG, DIMS, TRACKS, axis
from vectorstore import VectorName, VectorStoreError
from vectorstore.server import QdrantServerStore


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def answering(request: pytest.FixtureRequest) -> Iterator[str]:
    """A local HTTP server that answers every request with the status in ``request.param``."""
    status: int = request.param

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"status": {"error": "nope"}}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_dead_url_fails_at_connect_with_one_clear_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(VectorStoreError) as caught:
        QdrantServerStore.connect(url, timeout=2)

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"cannot reach Qdrant at {url}")
    assert "QDRANT_URL" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("url", ["ftp://qdrant", "not a url"])
def test_a_malformed_url_says_what_is_expected(url: str) -> None:
    with pytest.raises(VectorStoreError, match=r"is not a usable Qdrant URL .*http://localhost"):
        QdrantServerStore.connect(url)


@pytest.mark.parametrize("answering", [401], indirect=True)
def test_a_refused_api_key_says_so(answering: str) -> None:
    with pytest.raises(VectorStoreError, match=r"refused the API key \(HTTP 401\).*QDRANT_API_KEY"):
        QdrantServerStore.connect(answering, timeout=2)


@pytest.mark.parametrize("answering", [503], indirect=True)
def test_a_failing_server_reports_its_status(answering: str) -> None:
    with pytest.raises(
        VectorStoreError, match=r"answered HTTP 503 while trying to list collections"
    ):
        QdrantServerStore.connect(answering, timeout=2)


def test_collections_carry_the_prefix() -> None:
    client = QdrantClient(location=":memory:")
    store = QdrantServerStore(client, prefix="radio_")
    try:
        store.ensure_collection(TRACKS, dims=DIMS)
        assert client.collection_exists("radio_tracks")
        assert not client.collection_exists("tracks")
        with pytest.raises(
            ValueError, match=r"'artists' does not exist on :memory: as 'radio_artists'"
        ):
            store.count("artists")  # type: ignore[arg-type]
    finally:
        store.close()


def test_local_mode_on_disk_survives_reopen(tmp_path: Path) -> None:
    store = QdrantServerStore.local(tmp_path)
    store.ensure_collection(TRACKS, dims=DIMS)
    store.upsert(TRACKS, CATALOG)
    store.close()

    reopened = QdrantServerStore.local(tmp_path)
    try:
        assert reopened.count(TRACKS) == len(CATALOG)
        hits = reopened.search(TRACKS, using=VectorName.TEXT, vector=axis(0), n=1)
        assert hits[0].id == "jazz:1"
    finally:
        reopened.close()
