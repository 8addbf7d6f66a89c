"""The API served by uvicorn on an ephemeral loopback port, over the known-answer world."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from storage import api_keys
from storage.names import SqlNameIndex
from tests.support.world import World
from vectorstore.base import CollectionName
from wavelength.settings import Settings
from wavelength.stations import StationService
from web import build_api, run_api

ADMIN_KEY = "admin-key-for-tests-0123456789abcdef"
_people = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Served:
    url: str
    world: World

    def key(self, name: str | None = None) -> str:
        """A fresh API user's key (or ``name``'s)."""
        with self.world.engine.begin() as conn:
            user = api_keys.user_named(conn=conn, name=name or f"api-person-{next(_people)}")
            return api_keys.create_key(
                conn=conn, user=user, label="tests", now=datetime.now(UTC)
            ).key

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10.0)


def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with ``run_api`` in a thread with its own event loop; yields its base URL."""
    settings = Settings(api_host="127.0.0.1", api_port=0)
    ports: list[int] = []
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def bound(port: int) -> None:
        ports.append(port)
        ready.set()

    def main() -> None:
        try:
            loop.run_until_complete(run_api(settings, app, stop=stop, bound=bound))
        finally:
            ready.set()
            loop.close()

    thread = threading.Thread(target=main, name="api-under-test")
    thread.start()
    assert ready.wait(10) and ports, "the API did not start"
    try:
        yield f"http://127.0.0.1:{ports[0]}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
        assert not thread.is_alive(), "the API did not stop"


def app_over(world: World, service: StationService, **overrides: object) -> FastAPI:
    options: dict[str, object] = {
        "stations": service,
        "database": world.engine,
        "composer": world.composer(),
        "names": SqlNameIndex.load(world.engine),
        "store_ready": lambda: world.store.info(CollectionName.TRACKS) is not None,
        "admin_key": ADMIN_KEY,
    }
    options.update(overrides)
    return build_api(**options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def api(world: World, service: StationService) -> Iterator[Served]:
    for url in serve(app_over(world, service)):
        yield Served(url, world)


@pytest.fixture
def key(api: Served) -> str:
    return api.key()


@pytest.fixture
def client(api: Served, key: str) -> Iterator[httpx.Client]:
    with api.client(key) as c:
        yield c
