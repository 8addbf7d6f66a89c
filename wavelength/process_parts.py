"""What a process beside the main one builds to serve stations: a compose worker
(``wavelength.compose_pool``) or another API process (``wavelength.api_processes``).

Its own database pool, text encoder, composer and station service; on the embedded default a
private read-only copy of the live vectors (``vectorstore.replica``: qdrant-edge allows one
opener per shard), which moves to the next generation a model refresh publishes; with a
Qdrant server, a client of the same server.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess

    from sqlalchemy.engine import Engine

    from recommender.mood import NameIndex
    from recommender.station import StationComposer
    from vectorstore import LiveStore
    from wavelength.settings import Settings
    from wavelength.stations import StationService

# How often a copy of the embedded vectors looks for a newer live generation.
FOLLOW_EVERY_S = 5.0


@dataclass(frozen=True, slots=True)
class ProcessParts:
    database: Engine
    store: LiveStore
    composer: StationComposer
    names: NameIndex
    service: StationService
    close: Callable[[], None]


def build_parts(settings: Settings, scratch: Path) -> ProcessParts:
    """The parts, with the vectors copied under ``scratch`` on the embedded default."""
    from recommender.station import StationComposer
    from storage.db import open_database
    from storage.names import SqlNameIndex
    from storage.track_facts import SqlTrackCatalog
    from vectorstore import LiveStore
    from vectorstore.replica import EdgeReplicas
    from wavelength.components import make_encoder, make_shared_neighbours, open_vector_store
    from wavelength.stations import StationService

    database = open_database(settings.database_url)
    replicas: EdgeReplicas | None = None
    if settings.qdrant_url:
        store = open_vector_store(settings)
    else:
        replicas = EdgeReplicas(settings.vector_dir, scratch)
        store = LiveStore(replicas, follow_every_s=FOLLOW_EVERY_S)
    shared = make_shared_neighbours(settings)
    composer = StationComposer(
        store=store, encoder=make_encoder(settings), catalog=SqlTrackCatalog(database),
        shared_neighbours=shared,
    )  # fmt: skip
    store.on_swap(lambda _generation: composer.refresh())
    if replicas is not None:
        store.on_swap(lambda _generation: replicas.prune())
    names = SqlNameIndex.load(database)
    service = StationService(
        engine=database, composer=composer, names=names, batch_size=settings.station_batch_size
    )

    def close() -> None:
        store.close()
        database.dispose()
        if shared is not None:
            shared.close()

    return ProcessParts(database, store, composer, names, service, close)


def child_setup(label: str) -> None:
    """What a side process does first: leave Ctrl-C to its parent (it reaches the whole
    process group, and the parent stops its children itself), and log as ``label``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format=f"{label}: %(message)s")


def first_word(
    conn: Connection, process: SpawnProcess, *, timeout_s: float, closed: threading.Event
) -> tuple[str, str]:
    """A starting side process's first message, ``("ready", ...)`` or ``("failed", why)``;
    ``failed`` too when it exits first or says nothing in ``timeout_s``, and ``closed`` when
    its parent is stopping meanwhile."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not closed.is_set():
        if conn.poll(0.2):
            try:
                status, detail = conn.recv()
            except (EOFError, OSError):
                return "failed", f"it exited with code {process.exitcode}"
            return str(status), str(detail)
        if not process.is_alive() and not conn.poll(0):
            return "failed", f"it exited with code {process.exitcode}"
    return "failed", "it did not start in time" if not closed.is_set() else "closed"
