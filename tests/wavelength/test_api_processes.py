"""The HTTP API served by several processes on one port (``wavelength.api_processes``): real
spawned processes, each with the real MiniLM encoder and its own copy of a real qdrant-edge
store, writing to the same SQLite file, as `wavelength serve` starts them."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from storage import api_keys
from storage.db import open_database
from tests.support.homes import trained_home
from wavelength.api_processes import make_processes, scratch_for
from wavelength.settings import Settings

# Spawns processes: one xdist worker runs these, beside the compose pool's.
pytestmark = pytest.mark.xdist_group("compose_pool")


def test_settings_pick_the_processes(tmp_path: Path) -> None:
    assert Settings(data_home=tmp_path).api_processes == 1
    assert make_processes(Settings(data_home=tmp_path)) is None
    made = make_processes(Settings(data_home=tmp_path, api_processes=3))
    assert made is not None and made.ready == 0
    with pytest.raises(ValidationError, match="not both"):
        Settings(data_home=tmp_path, api_processes=2, compose_workers=1)
    with pytest.raises(ValidationError):
        Settings(data_home=tmp_path, api_processes=0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


@pytest.mark.usefixtures("metrics_kept_apart")
def test_serve_answers_the_api_from_two_processes_and_restarts_one_that_dies(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from wavelength.app import chat_frontends, runtime

    port = _free_port()
    settings = trained_home(tmp_path / "home", api_enabled=True, api_port=port, api_processes=2)
    database = open_database(settings.database_url)
    with database.begin() as conn:
        user = api_keys.user_named(conn=conn, name="served")
        key = api_keys.create_key(conn=conn, user=user, label="t", now=datetime.now(UTC)).key
    database.dispose()
    url = f"http://127.0.0.1:{port}"
    # No kept-alive connections: every request is a new connection for the kernel to place.
    fresh = httpx.Limits(max_keepalive_connections=0)

    async def answering(
        http: httpx.AsyncClient, tries: int = 60, *, resets: list[int] | None = None
    ) -> set[int]:
        """The processes that answered ``tries`` new connections; with ``resets``, a
        connection the kernel had already handed the dead process is reset, and counted."""
        pids: set[int] = set()
        for _ in range(tries):
            try:
                pids.add((await http.get("/healthz")).json()["process"])
            except httpx.TransportError:
                if resets is None:
                    raise
                resets.append(1)
        return pids

    async def scenario() -> None:
        async with runtime(settings, echo=lambda _: None, progress=False) as rt:
            stop = asyncio.Event()
            api = asyncio.create_task(chat_frontends(rt)["the HTTP API"](stop))
            headers = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(
                base_url=url, headers=headers, timeout=30, limits=fresh
            ) as http:
                for _ in range(600):  # until the other process has copied the vectors
                    if "api process 0 serving" in caplog.text:
                        break
                    await asyncio.sleep(0.25)
                assert "api process 0 serving" in caplog.text
                first = await answering(http)
                assert len(first) == 2 and os.getpid() in first, "both processes answer"
                (child,) = first - {os.getpid()}

                # One station's batches from whichever process: numbered in turn, none
                # repeating a track the other process played.
                made = (await http.post("/stations", json={"text": "cool jazz"})).json()
                sid = made["station"]["id"]
                played = [c["track"]["id"] for c in made["cards"]]
                numbers = []
                for _ in range(6):
                    answer = (await http.post(f"/stations/{sid}/next")).json()
                    numbers.append(answer["number"])
                    played += [c["track"]["id"] for c in answer["cards"]]
                assert numbers == [2, 3, 4, 5, 6, 7]
                assert len(played) == len(set(played))

                # Whichever process answers a scrape counts every process's requests.
                for _ in range(10):
                    assert _healthz_count((await http.get("/metrics")).text) == 60

                # The other process dies: this one answers meanwhile, and another takes its
                # place (its copy of the vectors made again).
                os.kill(child, signal.SIGKILL)
                deadline, resets = time.monotonic() + 240, []
                while True:
                    pids = await answering(http, tries=20, resets=resets)
                    if len(pids) == 2 and child not in pids:
                        break
                    assert time.monotonic() < deadline, "no process took the dead one's place"
                    await asyncio.sleep(0.5)
                assert "api process 0 stopped; starting another" in caplog.text
                assert len(resets) <= 2, "only connections caught in the dead one's queue"
                again = (await http.post(f"/stations/{sid}/next")).json()
                assert again["number"] == 8
            stop.set()
            await api

    caplog.set_level(logging.INFO, logger="wavelength.api_processes")
    asyncio.run(scenario())
    assert not scratch_for(settings).exists()  # the copies go when the processes stop
