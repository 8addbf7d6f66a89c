"""The HTTP API served by several processes on one port: how it uses more than one core.

Every request's work (key check, reaction, composing a batch) is Python under one GIL, so one
process serves at most about one core. ``WAVELENGTH_API_PROCESSES=N`` (N > 1) starts N - 1
more processes beside this one; each binds the API's address with ``SO_REUSEPORT`` and the
kernel spreads new connections among them. Each builds its own parts
(``wavelength.process_parts``: database pool, text encoder, station service and, on the
embedded default, a read-only copy of the live vectors that follows a model refresh).

* What the processes share lives in the database: each station memo is checked against it
  (plays, reactions), and two processes composing one station's next batch at once are told
  apart by its unique batch index (the loser composes again from what the winner recorded).
* A process that dies is started again, at once the first time, then after a pause that
  doubles while it keeps failing; the requests it held are lost to their clients (a batch is
  recorded whole or not at all), new connections go to the others meanwhile.
* ``/metrics``, whichever process answers: the totals read from the database, request
  latencies and recommendations served are everyone's (prometheus_client's multiprocess
  mode, files under ``<data home>/api-metrics``); Spotify 429s and encoder latencies are the
  answering process's own.
* It replaces compose workers (``wavelength.compose_pool``), which it beat on 2 cores: every
  process composes its own requests' batches, with no hand-off between processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from wavelength.process_parts import child_setup, first_word

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess

    from fastapi import FastAPI

    from wavelength.settings import Settings

log = logging.getLogger(__name__)

# How long a process may take to start (a cold encoder load and a copy of the vectors).
START_TIMEOUT_S = 300.0
# A process that failed is started again after this pause, doubled per failure in a row (the
# first restart after a process that was serving is immediate).
RESTART_PAUSE_S = (2.0, 300.0)
# How long a process may take to finish its requests in flight when told to stop.
STOP_TIMEOUT_S = 20.0


def _serve(settings: Settings, scratch: Path, index: int, port: int, conn: Connection) -> None:
    """One more API process: build the parts, serve ``port`` beside the others until told
    to stop (``None``) or until the parent's end of the pipe closes (it died)."""
    from wavelength.components import make_api
    from wavelength.process_parts import build_parts

    child_setup(f"api process {index}")
    try:
        parts = build_parts(settings, scratch)
        app = make_api(
            settings, stations=parts.service, database=parts.database,
            composer=parts.composer, names=parts.names, store=parts.store,
        )  # fmt: skip
    except Exception as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    try:
        asyncio.run(_until_told(settings, app, port, conn))
    except OSError as exc:  # the port could not be bound
        with contextlib.suppress(OSError):
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        parts.close()


async def _until_told(settings: Settings, app: FastAPI, port: int, conn: Connection) -> None:
    from web import run_api

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def listen() -> None:
        with contextlib.suppress(EOFError, OSError):
            while conn.recv() is not None:
                pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=listen, name="api-stop", daemon=True).start()
    await run_api(
        settings, app, stop=stop, port=port, reuse_port=True,
        bound=lambda _port: conn.send(("ready", None)),
    )  # fmt: skip


@dataclass(slots=True)
class _Slot:
    index: int
    process: SpawnProcess | None = None
    conn: Connection | None = None
    ready: bool = False
    failures: int = 0


class ApiProcesses:
    """``extra`` processes serving the API's port beside this one, kept running."""

    def __init__(
        self,
        settings: Settings,
        extra: int,
        *,
        scratch: Path,
        start_timeout_s: float = START_TIMEOUT_S,
        restart_pause_s: tuple[float, float] = RESTART_PAUSE_S,
    ) -> None:
        if extra < 1:
            raise ValueError(f"ApiProcesses needs at least one more process, got {extra}")
        self._settings = settings
        self._scratch = scratch
        self._start_timeout_s = start_timeout_s
        self._pause = restart_pause_s
        self._slots = [_Slot(i) for i in range(extra)]
        self._context = mp.get_context("spawn")
        self._closed = threading.Event()
        self._keepers: list[threading.Thread] = []

    @property
    def ready(self) -> int:
        """How many of the extra processes serve now."""
        return sum(s.ready for s in self._slots)

    def pids(self) -> list[int]:
        """The process ids of the extra processes that serve now."""
        return [
            s.process.pid
            for s in self._slots
            if s.ready and s.process is not None and s.process.pid is not None
        ]

    def start(self, port: int) -> None:
        """Start every process, serving ``port``, and keep each running until ``close``."""
        shutil.rmtree(self._scratch, ignore_errors=True)  # copies a killed run left behind
        for slot in self._slots:
            keeper = threading.Thread(
                target=self._keep, args=(slot, port), name=f"api-process-{slot.index}",
                daemon=True,
            )  # fmt: skip
            self._keepers.append(keeper)
            keeper.start()

    def wait_ready(self, timeout_s: float) -> bool:
        """Wait until every process serves (True) or ``timeout_s`` passes (False)."""
        deadline = time.monotonic() + timeout_s
        while self.ready < len(self._slots):
            if time.monotonic() > deadline or self._closed.is_set():
                return False
            time.sleep(0.05)
        return True

    def _keep(self, slot: _Slot, port: int) -> None:
        while not self._closed.is_set():
            served = self._run_once(slot, port)
            if self._closed.is_set():
                return
            slot.failures = 1 if served else slot.failures + 1
            pause = (
                0.0 if served else min(self._pause[1], self._pause[0] * 2 ** (slot.failures - 1))
            )
            log.error(
                "api process %d %s; starting another%s", slot.index,
                "stopped" if served else "could not start",
                f" in {pause:.0f} s" if pause else "",
            )  # fmt: skip
            if self._closed.wait(pause):
                return

    def _run_once(self, slot: _Slot, port: int) -> bool:
        """Start the process and wait until it exits; whether it served at all."""
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(self._settings, self._scratch / f"api-{slot.index}", slot.index, port, theirs),
            name=f"wavelength-api-{slot.index}", daemon=True,
        )  # fmt: skip
        process.start()
        theirs.close()
        slot.process, slot.conn = process, ours
        try:
            status, detail = first_word(
                ours, process, timeout_s=self._start_timeout_s, closed=self._closed
            )
            if status != "ready":
                if not self._closed.is_set():
                    log.error("api process %d: %s", slot.index, detail)
                return False
            slot.ready = True
            log.info("api process %d serving port %d (pid %s)", slot.index, port, process.pid)
            process.join()  # until it dies or ``close`` stops it
            return True
        finally:
            slot.ready = False
            if process.is_alive():
                process.kill()
                process.join(5)
            ours.close()

    def close(self) -> None:
        """Tell every process to stop (each finishes the requests it holds), then wait."""
        self._closed.set()
        for slot in self._slots:
            if slot.conn is not None:
                with contextlib.suppress(OSError):
                    slot.conn.send(None)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for slot in self._slots:
            process = slot.process
            if process is not None:
                process.join(max(0.0, deadline - time.monotonic()))
                if process.is_alive():
                    process.kill()
        for keeper in self._keepers:
            keeper.join(STOP_TIMEOUT_S)
        shutil.rmtree(self._scratch, ignore_errors=True)

    async def serving(
        self,
        app: FastAPI,
        *,
        stop: asyncio.Event,
        ready: Callable[[], bool] = lambda: True,
        bound: Callable[[int], None] | None = None,
    ) -> None:
        """Serve ``app`` in this process with the others beside it, started once ``ready()``
        (the vectors they copy are built) on the port this one bound; all stopped with it."""
        from web import run_api

        port: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def heard(number: int) -> None:
            port.set_result(number)
            if bound is not None:
                bound(number)

        async def start() -> None:
            number = await port
            while not ready():
                await asyncio.sleep(2.0)
            await asyncio.to_thread(self.start, number)

        starting = asyncio.create_task(start(), name="api-processes")
        try:
            await run_api(self._settings, app, stop=stop, bound=heard, reuse_port=True)
        finally:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            await asyncio.to_thread(self.close)


def scratch_for(settings: Settings) -> Path:
    """Where the processes keep their copies of the embedded vectors (emptied on start)."""
    return settings.data_home / "api-processes"


def make_processes(settings: Settings) -> ApiProcesses | None:
    """The processes ``settings.api_processes`` asks for beside this one, not started; None
    for none. With some, this process's request metrics are shared with theirs from here on
    (make it before the API app)."""
    from web.metrics import share_between_processes

    if settings.api_processes < 2:
        return None
    metrics = settings.data_home / "api-metrics"
    shutil.rmtree(metrics, ignore_errors=True)  # the last run's processes' counts
    metrics.mkdir(parents=True)
    share_between_processes(metrics)
    return ApiProcesses(settings, settings.api_processes - 1, scratch=scratch_for(settings))
