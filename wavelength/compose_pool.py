"""Station batches composed in worker processes: how the HTTP API uses more than one core.

Composing a batch is Python and qdrant-edge work under one GIL (the engine holds it while it
searches), so a single process tops out at about one core however many threads it runs.
``ComposePool`` hands each API next-batch call to one of ``WAVELENGTH_COMPOSE_WORKERS``
processes, each with its own database connections, text encoder and vector store (on the
embedded default a private read-only copy of the live generation, ``vectorstore.replica``).
The request is two small pickles over a pipe; the batch is composed and recorded by the
worker with the same ``StationService`` code as in-process.

* A station goes to the same worker each time, so its memos (recent searches, liked
  neighbours, reactions, plays) stay warm: a call waits for its busy worker until
  ``STEAL_AFTER`` calls wait there before it, then takes a free one, except while its own
  station is being composed: then it waits for that call.
* Until a worker is ready, or when every worker is gone, calls are composed in this process
  as before: the pool only ever adds capacity.
* A worker that dies, or leaves a call unanswered for ``CALL_TIMEOUT_S``, is stopped and
  started again (with a growing pause when it keeps failing); the call it was answering is
  composed here instead. That call's batch may already be recorded: the listener then has
  one more batch in their history, and nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing as mp
import threading
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.exc import OperationalError

from recommender.station.compose import NotTrainedError
from wavelength.domain import StationId, UserId
from wavelength.process_parts import child_setup, first_word
from wavelength.stations import NoStation, NotFound, ReadOnly, StationError

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess

    from wavelength.settings import Settings
    from wavelength.stations import Batch, StationService

log = logging.getLogger(__name__)

# How long a worker may take to start (a cold encoder load and a copy of the vectors).
START_TIMEOUT_S = 300.0
# A call a worker has not answered in this long is taken back and composed here; the worker
# is stopped and started again (a batch takes milliseconds; only a stuck worker gets near).
CALL_TIMEOUT_S = 60.0
# A worker that failed is started again after this pause, doubled per failure in a row.
RESTART_PAUSE_S = (2.0, 300.0)
# A call waits for its station's own worker (its memos are warm there) while fewer than this
# many calls wait there before it; then it takes a free one. A station composed on another
# worker starts cold: every liked track's neighbours searched again, its plays read back.
# Taking any free worker at once did 81 next batches/s (16 ms of worker CPU per batch); always
# waiting, 88-97 (12 ms); this, 83-85 (HTTP load, 8 users, 2 workers, 2026-11-27), and it
# still spreads a burst on one worker's stations.
STEAL_AFTER = 2

# Errors a worker answers with, rebuilt here by name so the API answers as it would have
# in-process (a 404 stays a 404); any other error is a RuntimeError (a 500).
_ERRORS: dict[str, Callable[[str], Exception]] = {
    "NoStation": lambda _: NoStation(),
    "NotFound": NotFound,
    "ReadOnly": ReadOnly,
    "StationError": StationError,
    "NotTrainedError": NotTrainedError,
    # The API answers any DBAPIError with a 503 and never shows the driver's text.
    "OperationalError": lambda text: OperationalError("(compose worker)", None, Exception(text)),
}


class Recipe(Protocol):
    """What a worker builds its station service from. Must pickle (workers are spawned)."""

    def build(self, worker: int) -> tuple[StationService, Callable[[], None]]:
        """The service for worker number ``worker``, and what closes it."""
        ...


@dataclass(frozen=True, slots=True)
class SettingsRecipe:
    """The production recipe: the service as the composition root builds it, on a read-only
    copy of the embedded vectors (or the same Qdrant server) under ``scratch``."""

    settings: Settings
    scratch: Path

    def build(self, worker: int) -> tuple[StationService, Callable[[], None]]:
        from wavelength.process_parts import build_parts

        parts = build_parts(self.settings, self.scratch / f"worker-{worker}")
        return parts.service, parts.close


def _serve(recipe: Recipe, worker: int, conn: Connection) -> None:
    """A worker process: build the service, then answer ``(user, station)`` until told to
    stop (``None``) or until the pool's end of the pipe closes (the parent died)."""
    child_setup(f"compose worker {worker}")
    try:
        service, close = recipe.build(worker)
    except Exception as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    try:
        conn.send(("ready", None))  # a pool closed meanwhile: BrokenPipeError, then close()
        while True:
            try:
                asked = conn.recv()
            except EOFError:
                break
            if asked is None:
                break
            user, station = asked
            try:
                answer: tuple[str, object] = (
                    "ok",
                    service.next(UserId(user), station=StationId(station)),
                )
            except Exception as exc:
                kind = type(exc).__name__
                if kind not in _ERRORS:
                    log.error("a next batch failed:\n%s", traceback.format_exc())
                answer = ("error", (kind, str(exc)))
            conn.send(answer)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the pool went away (closed, or its process died): nothing left to answer
    finally:
        close()


class _Waiter:
    """A call waiting for a worker."""

    __slots__ = ("station",)

    def __init__(self, station: StationId) -> None:
        self.station = station

    def home(self, ready: list[_Worker]) -> _Worker:
        return ready[int(self.station) % len(ready)]


class _Worker:
    def __init__(self, index: int) -> None:
        self.index = index
        self.busy = False  # answering a call, or being (re)started; under the pool's _cond
        self.serving: StationId | None = None  # the station of the call it answers
        self.process: SpawnProcess | None = None
        self.conn: Connection | None = None
        self.ready = False
        self.failures = 0


class ComposePool:
    """``next(user, station)`` composed by ``workers`` processes built from ``recipe``, or by
    ``fallback`` (this process's service) while none is ready."""

    def __init__(
        self,
        recipe: Recipe,
        workers: int,
        *,
        fallback: StationService,
        start_timeout_s: float = START_TIMEOUT_S,
        restart_pause_s: tuple[float, float] = RESTART_PAUSE_S,
        call_timeout_s: float = CALL_TIMEOUT_S,
    ) -> None:
        if workers < 1:
            raise ValueError(f"a compose pool needs at least one worker, got {workers}")
        self._recipe = recipe
        self._fallback = fallback
        self._start_timeout_s = start_timeout_s
        self._pause = restart_pause_s
        self._call_timeout_s = call_timeout_s
        self._workers = [_Worker(i) for i in range(workers)]
        self._context = mp.get_context("spawn")
        self._closed = threading.Event()
        self._starters: list[threading.Thread] = []
        # Who may take a free worker, first come first served: a thread waiting for its
        # station's worker goes before later ones (a plain lock lets late comers barge in,
        # which stretched the slowest calls), and takes another free one only when no earlier
        # thread is waiting at all.
        self._cond = threading.Condition()
        self._waiting: deque[_Waiter] = deque()

    @property
    def ready(self) -> int:
        """How many workers answer now."""
        return sum(w.ready for w in self._workers)

    def pids(self) -> list[int]:
        """The process ids of the workers that answer now."""
        return [
            w.process.pid
            for w in self._workers
            if w.ready and w.process is not None and w.process.pid is not None
        ]

    def start(self) -> None:
        """Start every worker in the background; calls are composed here until each is up."""
        for worker in self._workers:
            with self._cond:
                worker.busy = True
            self._launch(worker, pause=0.0)

    def wait_ready(self, timeout_s: float) -> bool:
        """Wait until every worker answers (True) or ``timeout_s`` passes (False)."""
        deadline = time.monotonic() + timeout_s
        while self.ready < len(self._workers):
            if time.monotonic() > deadline or self._closed.is_set():
                return False
            time.sleep(0.05)
        return True

    def _launch(self, worker: _Worker, *, pause: float) -> None:
        """(Re)start ``worker`` (marked busy by the caller) in a thread of its own."""
        thread = threading.Thread(
            target=self._start_one, args=(worker, pause), name=f"compose-start-{worker.index}",
            daemon=True,
        )  # fmt: skip
        self._starters.append(thread)
        thread.start()

    def _start_one(self, worker: _Worker, pause: float) -> None:
        relaunched = False
        try:
            if self._closed.wait(pause):
                return
            ours, theirs = self._context.Pipe()
            process = self._context.Process(
                target=_serve, args=(self._recipe, worker.index, theirs),
                name=f"wavelength-compose-{worker.index}", daemon=True,
            )  # fmt: skip
            process.start()
            theirs.close()
            worker.process, worker.conn = process, ours
            status, detail = first_word(
                ours, process, timeout_s=self._start_timeout_s, closed=self._closed
            )
            if self._closed.is_set():
                self._stop(worker)
            elif status == "ready":
                worker.ready, worker.failures = True, 0
                log.info("compose worker %d ready (pid %s)", worker.index, process.pid)
            else:
                worker.failures += 1
                wait = min(self._pause[1], self._pause[0] * 2 ** (worker.failures - 1))
                log.error(
                    "compose worker %d could not start (%s); trying again in %.0f s; "
                    "meanwhile this process composes its share", worker.index, detail, wait,
                )  # fmt: skip
                self._stop(worker)
                self._launch(worker, pause=wait)
                relaunched = True  # the new starter frees it
        except Exception:
            log.exception("compose worker %d: starting failed", worker.index)
        finally:
            if not relaunched:
                self._free(worker)

    def _stop(self, worker: _Worker) -> None:
        worker.ready = False
        conn, process = worker.conn, worker.process
        worker.conn = worker.process = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        if process is not None:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(5)

    def _take(self, station: StationId) -> _Worker | None:
        """A ready worker, marked busy for one call: the station's own (its memos are warm
        there) or, when a queue has formed there, a free one nobody earlier waits for. None
        when no worker is ready."""
        with self._cond:
            me = _Waiter(station)
            self._waiting.append(me)
            try:
                while True:
                    ready = [w for w in self._workers if w.ready]
                    if not ready or self._closed.is_set():
                        return None
                    home = me.home(ready)
                    earlier = list(itertools.takewhile(lambda w: w is not me, self._waiting))
                    homes = [e.home(ready) for e in earlier]
                    queued = homes.count(home)
                    if any(w.busy and w.serving == station for w in self._workers):
                        # Its station is being composed (a double click, a retried request):
                        # a second worker would compose from the same history, lose the race
                        # to record the batch and compose again. Wait, then start from it.
                        chosen: _Worker | None = None
                    elif not home.busy and home not in homes:
                        chosen = home
                    elif queued >= STEAL_AFTER:
                        chosen = next((w for w in ready if not w.busy and w not in homes), None)
                    else:
                        chosen = None
                    if chosen is not None:
                        chosen.busy, chosen.serving = True, station
                        return chosen
                    self._cond.wait()
            finally:
                self._waiting.remove(me)
                self._cond.notify_all()  # the next in line may take what this one did not

    def _free(self, worker: _Worker) -> None:
        with self._cond:
            worker.busy, worker.serving = False, None
            self._cond.notify_all()

    def next(self, user: UserId, station: StationId) -> Batch:
        """The station's next batch, composed by a worker (or here, as ``fallback.next``)."""
        worker = self._take(station)
        if worker is None:
            return self._fallback.next(user, station=station)
        restart = False
        try:
            conn = worker.conn
            if conn is None:
                raise EOFError
            conn.send((int(user), int(station)))
            if not conn.poll(self._call_timeout_s):
                log.error(
                    "compose worker %d gave no answer in %.0f s; stopping it",
                    worker.index, self._call_timeout_s,
                )  # fmt: skip
                raise EOFError
            status, value = conn.recv()
        except (EOFError, OSError):
            restart = True
        finally:
            if restart:
                self._lost(worker)
            else:
                self._free(worker)
        if restart:
            return self._fallback.next(user, station=station)
        if status == "ok":
            return value  # type: ignore[no-any-return]
        kind, text = value
        rebuild = _ERRORS.get(kind)
        raise rebuild(text) if rebuild else RuntimeError(f"composing failed ({kind}): {text}")

    def _lost(self, worker: _Worker) -> None:
        """``worker`` died or got stuck mid-call (still busy): start another in its place."""
        code = worker.process.exitcode if worker.process is not None else None
        log.error("compose worker %d lost (exit code %s); starting another", worker.index, code)
        with self._cond:  # still busy (restarting), but its call's station may go elsewhere
            worker.serving = None
            self._cond.notify_all()
        self._stop(worker)
        if self._closed.is_set():
            self._free(worker)
            return
        worker.failures += 1
        wait = min(self._pause[1], self._pause[0] * 2 ** (worker.failures - 1))
        self._launch(worker, pause=0.0 if worker.failures == 1 else wait)

    async def serving(self, serving: Awaitable[None], *, ready: Callable[[], bool]) -> None:
        """Await ``serving`` (the API) with the workers, started once ``ready()`` (the vectors
        they copy are built), and stopped when it returns."""

        async def start() -> None:
            while not ready():
                await asyncio.sleep(2.0)
            await asyncio.to_thread(self.start)

        starting = asyncio.create_task(start(), name="compose-workers")
        try:
            await serving
        finally:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Stop every worker, each after the call it is answering."""
        self._closed.set()
        with self._cond:
            self._cond.notify_all()  # waiting calls compose here instead
        for thread in self._starters:
            thread.join(self._start_timeout_s)
        for worker in self._workers:
            with self._cond:
                self._cond.wait_for(lambda w=worker: not w.busy, timeout=30)  # type: ignore[misc]
                worker.busy = True
            try:
                self._stop(worker)
            finally:
                self._free(worker)


def scratch_for(settings: Settings) -> Path:
    """Where workers keep their copies of the embedded vectors (emptied on every start)."""
    return settings.data_home / "compose-workers"


def make_pool(settings: Settings, fallback: StationService) -> ComposePool | None:
    """The pool ``settings.compose_workers`` asks for, not started; None for none."""
    if settings.compose_workers < 1:
        return None
    import shutil

    scratch = scratch_for(settings)
    shutil.rmtree(scratch, ignore_errors=True)  # copies a killed run left behind
    recipe = SettingsRecipe(settings, scratch)
    return ComposePool(recipe, settings.compose_workers, fallback=fallback)
