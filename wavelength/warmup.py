"""First-start training in the background, so the chat opens at once.

A fresh install has a catalog but no vectors. Training the bundled demo catalog takes a few
minutes on a laptop CPU; rather than a blank terminal, the chat starts right away and station
requests answer with progress until the vectors are ready. A completed training run is
recorded in the catalog's meta table (per vector store), so an interrupted first start
(Ctrl-C, /quit) simply resumes next time, fast: the embedding cache kept every batch.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from storage import catalog
from vectorstore import CollectionName
from wavelength.components import make_embedder
from wavelength.training import TrainingStopped, TrainReport, train

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from recommender.encoder import TextEncoder
    from vectorstore import VectorStore
    from wavelength.settings import Settings

log = logging.getLogger(__name__)
# Small batches: progress moves visibly and a stop request is honoured within seconds.
WARMUP_BATCH = 512


def store_key(settings: Settings) -> str:
    """Names the vector store in ``app_meta`` keys: the server, or the embedded store by its
    place in the data home, so a data home moved or copied whole keeps its records (keyed by
    the absolute folder, a copied home rebuilt every vector in the background on its first
    start: the load benchmark measured that rebuild instead of the API)."""
    if settings.qdrant_url:
        return settings.qdrant_url
    try:
        return f"home:{settings.vector_dir.relative_to(settings.data_home)}"
    except ValueError:
        return str(settings.vector_dir)


def trained_key(settings: Settings) -> str:
    return f"vectors_trained:{store_key(settings)}"


def _legacy_trained_key(settings: Settings) -> str:
    # What this record was keyed by before ``store_key``: data homes from then stay trained.
    return f"vectors_trained:{settings.qdrant_url or settings.vector_dir}"


def mark_trained(
    engine: Engine, settings: Settings, report: TrainReport, *, generation: int = 0
) -> None:
    """Note that ``generation`` of the store holds a complete build, and what it learned
    from: the model refresh counts new playlists from this record (without it, playlists
    ingested before the first refresh check would never count)."""
    # Imported here: the model refresh builds on this module.
    from wavelength.model_refresh import TrainedOn, catalog_size, meta_key, write_trained

    now = datetime.now(UTC)
    with engine.begin() as conn:
        catalog.set_meta(
            conn=conn, key=trained_key(settings), value=f"{now.isoformat()} {report.tracks} tracks"
        )
        trained = TrainedOn(generation, catalog_size(conn=conn), now, report.cf_model)
        write_trained(conn=conn, key=meta_key(settings), trained=trained)


def needs_training(engine: Engine, store: VectorStore, settings: Settings) -> bool:
    """True when the catalog has tracks but no completed training run into this store."""
    with engine.connect() as conn:
        if catalog.count_catalog(conn=conn).tracks == 0:
            return False
        marked = any(
            catalog.get_meta(conn=conn, key=key) is not None
            for key in (trained_key(settings), _legacy_trained_key(settings))
        )
    info = store.info(CollectionName.TRACKS)
    return not (marked and info is not None and info.points > 0)


class Warmup:
    """Trains in a daemon thread; ``status()`` is None once stations can be composed."""

    def __init__(self) -> None:
        self.report = TrainReport()
        self._done = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    @classmethod
    def ready(cls) -> Warmup:
        warmup = cls()
        warmup._done.set()
        return warmup

    @classmethod
    def start(
        cls,
        engine: Engine,
        store: VectorStore,
        encoder: TextEncoder,
        settings: Settings,
        *,
        echo: Callable[[str], None],
        on_ready: Callable[[], None] = lambda: None,
    ) -> Warmup:
        warmup = cls()

        def run() -> None:
            try:
                train(
                    engine, store, encoder, make_embedder(settings),
                    echo=lambda _: None, batch_size=WARMUP_BATCH,
                    report=warmup.report, should_stop=warmup._stop.is_set,
                )  # fmt: skip
                mark_trained(
                    engine, settings, warmup.report, generation=getattr(store, "generation", 0)
                )
                on_ready()
                echo("The catalog's vectors are ready: " + warmup.report.summary().splitlines()[0])
            except TrainingStopped:
                pass
            except Exception as exc:  # reported in chat; the log has the traceback
                log.exception("background training failed")
                warmup.error = str(exc) or type(exc).__name__
            finally:
                warmup._done.set()

        warmup._thread = threading.Thread(target=run, name="wavelength-warmup", daemon=True)
        warmup._thread.start()
        return warmup

    def status(self) -> str | None:
        """None when ready; otherwise a line for the chat saying what is happening."""
        if self.error is not None:
            return (
                f"Building the catalog's vectors failed ({self.error}). Run `wavelength train` "
                "to see the details and finish it."
            )
        if self._done.is_set():
            return None
        r = self.report
        if r.stage == "tracks" and r.total_tracks:
            done = (
                f"{r.tracks:,} of {r.total_tracks:,} tracks ({100 * r.tracks // r.total_tracks}%)"
            )
        else:
            done = f"stage: {r.stage}"
        return (
            "I'm still building the catalog's vectors, once, before the first station "
            f"({done}). /help and /stats work meanwhile; try your mood again in a minute."
        )

    def stop(self, timeout: float = 300.0) -> None:
        """Ask the training thread to stop at its next batch and wait for it. The wait is
        long on purpose: a stage that can't be interrupted (building the index) must end
        before the vector store closes, or the native code under it aborts the process (seen
        once in CI on a machine loaded eight times over: "terminate called without an active
        exception" after a 60 s wait gave up)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the background training did not stop within %.0f s", timeout)
