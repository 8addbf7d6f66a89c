"""The HTTP API served by several processes on one port (``wavelength.api_processes``): real
spawned processes, each with the real MiniLM encoder and its own copy of a real qdrant-edge
store, writing to the same SQLite file or PostgreSQL database, as `wavelength serve` starts
them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from storage.db import open_database
from storage.models import StationPlayRow
from tests.conftest import _reset_postgres
from tests.support.homes import api_key_for, free_port, trained_home
from wavelength.api_processes import make_processes, scratch_for
from wavelength.settings import Settings

# Spawns processes: one xdist worker runs these, beside the compose pool's.
pytestmark = pytest.mark.xdist_group("compose_pool")


def test_settings_pick_the_processes(tmp_path: Path) -> None:
    assert Settings(data_home=tmp_path).api_processes == 1
    assert make_processes(Settings(data_home=tmp_path)) is None
    with pytest.raises(ValidationError, match="not both"):
        Settings(data_home=tmp_path, api_processes=2, compose_workers=1)
    with pytest.raises(ValidationError):
        Settings(data_home=tmp_path, api_processes=0)


@pytest.fixture
def metrics_kept_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serving with several processes shares this process's metrics from then on (as the
    server it would be); the tests after this one get their own again."""
    from prometheus_client import values

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "unset")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)


def _healthz_count(text: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "wavelength_http_request_duration_seconds_count"
                and sample.labels.get("route") == "/healthz"
            ):
                return sample.value
    return 0.0


@asynccontextmanager
async def _serving(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[httpx.AsyncClient]:
    """`wavelength serve`'s API with ``settings.api_processes`` processes, all of them up; a
    client whose every request is a new connection for the kernel to place."""
    from wavelength.app import chat_frontends, runtime

    key = api_key_for(settings, "served")
    caplog.set_level(logging.INFO, logger="wavelength.api_processes")
    async with runtime(settings, echo=lambda _: None, progress=False) as rt:
        stop = asyncio.Event()
        api = asyncio.create_task(chat_frontends(rt)["the HTTP API"](stop))
        try:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{settings.api_port}",
                headers={"Authorization": f"Bearer {key}"},
                timeout=60,
                limits=httpx.Limits(max_keepalive_connections=0),
            ) as http:
                for _ in range(600):  # until the other process has copied the vectors
                    if "api process 0 serving" in caplog.text:
                        break
                    await asyncio.sleep(0.25)
                assert "api process 0 serving" in caplog.text
                yield http
        finally:
            stop.set()
            await api


async def _answering(
    http: httpx.AsyncClient, tries: int = 60, *, resets: list[int] | None = None
) -> set[int]:
    """The processes that answered ``tries`` new connections; with ``resets``, a connection
    the kernel had already handed a dead process is reset, and counted."""
    pids: set[int] = set()
    for _ in range(tries):
        try:
            pids.add((await http.get("/healthz")).json()["process"])
        except httpx.TransportError:
            if resets is None:
                raise
            resets.append(1)
    return pids


@pytest.mark.usefixtures("metrics_kept_apart")
def test_serve_answers_the_api_from_two_processes_and_restarts_one_that_dies(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = trained_home(
        tmp_path / "home", api_enabled=True, api_port=free_port(), api_processes=2
    )

    async def scenario() -> None:
        async with _serving(settings, caplog) as http:
            first = await _answering(http)
            assert len(first) == 2 and os.getpid() in first, "both processes answer"
            (child,) = first - {os.getpid()}

            # One station's batches from whichever process, a like before each: numbered in
            # turn, none repeating a track the other process played.
            made = (await http.post("/stations", json={"text": "cool jazz"})).json()
            sid = made["station"]["id"]
            played = [c["track"]["id"] for c in made["cards"]]
            numbers, liked = [], []
            for _ in range(6):
                liked.append(played[-1])
                body = {"track": liked[-1], "reaction": "like"}
                assert (await http.post(f"/stations/{sid}/feedback", json=body)).is_success
                answer = (await http.post(f"/stations/{sid}/next")).json()
                numbers.append(answer["number"])
                played += [c["track"]["id"] for c in answer["cards"]]
            assert numbers == [2, 3, 4, 5, 6, 7]
            assert len(played) == len(set(played))
            # Both processes keyed each liked track's neighbours alike: one list per liked
            # track and space, whichever process searched it.
            with contextlib.closing(sqlite3.connect(settings.neighbour_cache_path)) as db:
                keys = [key for (key,) in db.execute("SELECT key FROM neighbours")]
            shelved = [(key.split("|")[1], key.rsplit("|", 1)[1]) for key in keys]
            assert len(shelved) == len(set(shelved))
            assert {track for _, track in shelved} == set(liked)

            # Whichever process answers a scrape counts every process's requests.
            for _ in range(10):
                assert _healthz_count((await http.get("/metrics")).text) == 60

            # The other process dies: this one answers meanwhile, and another takes its place
            # (its copy of the vectors made again).
            os.kill(child, signal.SIGKILL)
            deadline, resets = time.monotonic() + 240, []
            while True:
                pids = await _answering(http, tries=20, resets=resets)
                if len(pids) == 2 and child not in pids:
                    break
                assert time.monotonic() < deadline, "no process took the dead one's place"
                await asyncio.sleep(0.5)
            assert "api process 0 stopped; starting another" in caplog.text
            assert len(resets) <= 2, "only connections caught in the dead one's queue"
            again = (await http.post(f"/stations/{sid}/next")).json()
            assert again["number"] == 8

    asyncio.run(scenario())
    assert not scratch_for(settings).exists()  # the copies go when the processes stop


@pytest.mark.postgres
@pytest.mark.usefixtures("metrics_kept_apart")
def test_two_processes_on_postgres_race_for_one_stations_batches_without_replays(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, postgres_url: str
) -> None:
    """Next batches for one station asked for at once, on new connections, so both processes
    compose it together: each batch recorded once under its own number, nothing replayed; a
    call that keeps losing the race is refused as busy (409), never answered twice."""
    _reset_postgres(postgres_url)
    settings = trained_home(
        tmp_path / "home", api_enabled=True, api_port=free_port(), api_processes=2,
        database_url_override=postgres_url,
    )  # fmt: skip

    async def scenario() -> tuple[int, list[int], list[int]]:
        async with _serving(settings, caplog) as http:
            assert len(await _answering(http)) == 2
            made = (await http.post("/stations", json={"text": "hip hop"})).json()
            sid = int(made["station"]["id"])
            answers = []
            for _ in range(3):  # rounds of four at once
                asked = [http.post(f"/stations/{sid}/next") for _ in range(4)]
                answers += await asyncio.gather(*asked)
            assert {a.status_code for a in answers} <= {200, 409}
            numbers = [a.json()["number"] for a in answers if a.status_code == 200]
            shown = [
                c["track"]["id"] for a in answers if a.status_code == 200 for c in a.json()["cards"]
            ]
            return sid, numbers, shown

    sid, numbers, shown = asyncio.run(scenario())
    assert len(numbers) >= 8, "most calls were answered"
    assert sorted(numbers) == list(range(2, 2 + len(numbers))), "each number once, in turn"
    assert len(shown) == len(set(shown)), "no track replayed"
    database = open_database(postgres_url)
    with database.connect() as conn:
        batches = (
            conn.execute(select(StationPlayRow.batch).where(StationPlayRow.station_id == sid))
            .scalars()
            .all()
        )
    database.dispose()
    assert sorted(set(batches)) == list(range(1, 2 + len(numbers)))
    assert len(batches) == 5 * (1 + len(numbers)), "every recorded batch whole, none twice"
