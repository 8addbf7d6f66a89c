"""The docker-compose configuration, run without Docker.

There is no Docker engine here, so the containers themselves never start. What the compose
file gives the `wavelength` service - production mode, PostgreSQL through DATABASE_URL, a Qdrant
server through QDRANT_URL, the API and listen settings - is read from docker-compose.yml
into the real Settings, and the real composition root (wavelength.app.runtime) runs on it
against the real PostgreSQL on 127.0.0.1:5432, with the real text encoder, and composes a
station through the chat engine. Two substitutions, both forced by the machine: the database
host is the local server instead of ``postgres``, and the vector store is qdrant-client's
local mode - the same QdrantServerStore class and qdrant-client API as a server, minus the
HTTP transport - because no Qdrant server runs here.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.chat import Where, Who
from storage import catalog
from storage import feedback as fb
from storage.db import open_database
from tests.ops.compose import interpolated, load_compose
from tests.support.world import world_playlists, world_tracks
from vectorstore import VectorStoreError
from vectorstore.server import QdrantServerStore
from wavelength import app as composition
from wavelength.components import make_embedder, make_encoder, open_vector_store
from wavelength.domain import Reaction
from wavelength.settings import Environment, Settings
from wavelength.stations import Batch
from wavelength.training import train
from wavelength.warmup import mark_trained

pytestmark = pytest.mark.postgres


def _fresh_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def compose_settings(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings built the way the container builds them: the compose file's environment for
    the wavelength service, then what an operator puts in .env."""
    environment = load_compose()["services"]["wavelength"]["environment"]
    for name, value in environment.items():
        monkeypatch.setenv(name, interpolated(str(value), {"POSTGRES_PASSWORD": "pw"}))
    compose_db = environment["DATABASE_URL"]
    # The same driver; only the host (and the credentials) differ from the compose network.
    assert compose_db.split("://")[0] == postgres_url.split("://")[0] == "postgresql+psycopg"
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    monkeypatch.setenv("WAVELENGTH_DATA_HOME", str(tmp_path / "data"))  # /data in the image
    # What .env adds: the secret key, and a small collaborative model for this small world
    # (the demo catalog takes minutes to train on a CPU, so it is off here).
    monkeypatch.setenv("WAVELENGTH_SECRET_KEY", secrets.token_urlsafe(48))
    monkeypatch.setenv("WAVELENGTH_DEMO_CATALOG", "false")
    monkeypatch.setenv("WAVELENGTH_CF_FACTORS", "8")
    monkeypatch.setenv("WAVELENGTH_CF_ITERATIONS", "10")
    _fresh_schema(postgres_url)
    yield Settings()
    _fresh_schema(postgres_url)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_the_compose_settings_pick_postgres_and_the_qdrant_server_path(
    compose_settings: Settings, postgres_url: str
) -> None:
    settings = compose_settings
    assert settings.environment is Environment.PRODUCTION
    assert settings.qdrant_url == "http://qdrant:6333"
    assert settings.database_url == postgres_url
    assert settings.api_enabled and settings.api_host == "0.0.0.0"  # noqa: S104 - in a container
    # QDRANT_URL routes to the server store; with nothing listening it fails at once, in a line.
    dead = settings.model_copy(update={"qdrant_url": f"http://127.0.0.1:{_free_port()}"})
    with pytest.raises(VectorStoreError, match=r"^cannot reach Qdrant at http://127\.0\.0\.1"):
        open_vector_store(dead)


def test_the_runtime_composes_a_station_on_postgres_and_the_qdrant_client_path(
    compose_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = compose_settings
    # A small known-answer catalog in PostgreSQL, trained with the configured (real) encoder
    # and CF model into qdrant-client - what `wavelength ingest` and `train` do in production.
    database = open_database(settings.database_url)
    tracks = world_tracks()
    with database.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=tracks)
        catalog.insert_playlists(conn=conn, playlists=world_playlists(tracks))
    store = QdrantServerStore.local()
    encoder = make_encoder(settings)
    report = train(database, store, encoder, make_embedder(settings), echo=lambda _m: None)
    mark_trained(database, settings, report)
    database.dispose()
    assert report.tracks == len(tracks)

    opened: list[str | None] = []

    def the_trained_store(given: Settings) -> QdrantServerStore:
        opened.append(given.qdrant_url)
        return store

    # The one substitution: the store the runtime opens for QDRANT_URL (no server here).
    monkeypatch.setattr(composition, "open_vector_store", the_trained_store)
    known = {t.id for t in tracks}
    ana = Who("telegram", "4242", "Ana")

    async def scenario() -> tuple[Batch, Batch, str]:
        async with composition.runtime(settings, echo=lambda _m: None, progress=False) as rt:
            assert rt.warmup.status() is None  # trained: no background warm-up
            [first] = await rt.chat.handle(ana, "/radio cool jazz")
            assert first.batch is not None, first.text
            cards = first.batch.cards
            wheres = [Where("telegram", "chat-1", str(100 + c.position)) for c in cards]
            await rt.chat.posted(ana, first.batch, list(zip(wheres, cards, strict=True)))
            reacted = await rt.chat.react(ana, wheres[0], Reaction.LIKE)
            assert reacted is not None and "Liked" in reacted.text, reacted
            [second] = await rt.chat.handle(ana, "/next")
            assert second.batch is not None, second.text
            return first.batch, second.batch, cards[0].track.id

    first, second, liked = asyncio.run(scenario())
    assert opened == ["http://qdrant:6333"]
    assert "jazz" in first.station.name.lower()
    played = [c.track.id for c in first.cards]
    assert len(set(played)) == len(played) == settings.station_batch_size
    assert set(played) <= known
    # The next batch goes on from the first: nothing played is played again.
    assert second.number == first.number + 1
    assert not {c.track.id for c in second.cards} & set(played)
    # The reaction was written to PostgreSQL before it was answered; it outlives the runtime.
    check = create_engine(settings.database_url)
    try:
        with check.connect() as conn:
            saved = fb.feedback_for_station(conn=conn, station=first.station.id)
    finally:
        check.dispose()
    assert [(f.track, f.reaction) for f in saved] == [(liked, Reaction.LIKE)]
