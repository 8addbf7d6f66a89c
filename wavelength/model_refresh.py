"""The periodic model refresh: re-train the collaborative vectors when enough playlists arrived.

The collaborative (CF) model learns from the catalog's playlists. Re-training it changes the
basis of every ``cf`` vector, so the refresh never writes into the generation being served:
``train`` fills a complete new generation beside it (``vectorstore.live``), which is then
published in one atomic step; the app's ``LiveStore`` follows, and its listeners drop what
they cached from the old vectors. Until the publish, a failed or stopped build changes
nothing anyone reads; its leftovers are deleted by the next refresh.

What the live generation learned from (playlist items, playlists, tracks, when) is kept in
``app_meta``; a refresh is due when the catalog has gained
``max(refresh_min_new_items, refresh_min_new_share x items learned from)`` playlist items,
or has playlists at all when the live vectors had none to learn from.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from storage import catalog, deliveries
from storage.models import PlaylistItemRow, PlaylistRow, TrackRow
from vectorstore import CollectionName, VectorName
from wavelength.components import make_embedder
from wavelength.training import TrainingStopped, TrainReport, train
from wavelength.warmup import needs_training, store_key

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from recommender.cf import ItemEmbedder
    from recommender.encoder import TextEncoder
    from vectorstore import LiveStore
    from wavelength.settings import Settings

log = logging.getLogger(__name__)

BUILD_LEASE = "model-build"
# The build lease outlives a crashed builder by at most this; a live one renews it as it goes.
BUILD_LEASE_S = 3600
RENEW_EVERY_S = 60.0
# Small batches: a stop request is honoured within seconds, the lease renewed as often.
REFRESH_BATCH = 1024
# On a Qdrant server, requests that resolved the old alias just before the switch may still
# be running there; the old collections go after this pause (the next refresh deletes what a
# stop left behind).
SERVER_GRACE_S = 10.0


@dataclass(frozen=True, slots=True)
class CatalogSize:
    """What the CF model learns from, counted."""

    playlist_items: int
    playlists: int
    tracks: int


@dataclass(frozen=True, slots=True)
class TrainedOn:
    """What a generation was trained on; ``baseline`` when counted at a first check instead
    (vectors built before refreshes kept this record)."""

    generation: int
    size: CatalogSize
    at: datetime
    cf_model: str | None
    baseline: bool = False

    def to_json(self) -> str:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainedOn:
        data = json.loads(text)
        return cls(
            generation=int(data["generation"]),
            size=CatalogSize(**data["size"]),
            at=datetime.fromisoformat(data["at"]),
            cf_model=data.get("cf_model"),
            baseline=bool(data.get("baseline", False)),
        )


@dataclass(frozen=True, slots=True)
class Check:
    """The cheap check (counts only): is a refresh due, and why."""

    live: int
    trained: TrainedOn | None
    now: CatalogSize
    new_items: int
    threshold: int
    due: bool
    reason: str


class Outcome(StrEnum):
    NOT_DUE = "not due"
    NOT_READY = "not ready"  # the first vectors are still being built
    BUSY = "busy"  # another thread or process holds the build lease
    STOPPED = "stopped"  # shutdown (or a lost lease) stopped the build; nothing changed
    SWAPPED = "swapped"


@dataclass(frozen=True, slots=True)
class RefreshResult:
    outcome: Outcome
    generation: int  # the live generation afterwards
    message: str

    def __str__(self) -> str:
        return f"{self.outcome.value}: {self.message}"


def meta_key(settings: Settings) -> str:
    """One record per vector store, as ``warmup.trained_key`` keeps one."""
    return f"model_generation:{store_key(settings)}"


def catalog_size(*, conn: Connection) -> CatalogSize:
    def count(model: type[PlaylistItemRow | PlaylistRow | TrackRow]) -> int:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())

    return CatalogSize(count(PlaylistItemRow), count(PlaylistRow), count(TrackRow))


def read_trained(*, conn: Connection, key: str) -> TrainedOn | None:
    text = catalog.get_meta(conn=conn, key=key)
    return TrainedOn.from_json(text) if text else None


def write_trained(*, conn: Connection, key: str, trained: TrainedOn) -> None:
    catalog.set_meta(conn=conn, key=key, value=trained.to_json())


def assess(
    *,
    live: int,
    trained: TrainedOn | None,
    now: CatalogSize,
    has_cf: bool | None,
    min_new: int,
    share: float,
) -> Check:
    """Whether the catalog gained enough playlist items since ``trained`` (the record of
    the live generation; None when there is none). ``has_cf``: whether the live vectors
    have a CF space (None: unknown, as when another process holds the embedded store)."""
    if trained is not None and trained.generation != live:
        trained = None  # a record of another generation says nothing about this one
    if trained is None and has_cf is not False:
        return Check(
            live, None, now, 0, min_new, False,
            "no record of what the live vectors learned from; counting from the next check"
            if has_cf else "no record yet of what the live vectors learned from",
        )  # fmt: skip
    learned = trained.size.playlist_items if trained is not None else 0
    new = max(0, now.playlist_items - learned)
    if learned == 0:
        # Vectors without a CF space (no playlists back then): any playlist is news.
        due = new > 0
        return Check(
            live, trained, now, new, 1, due,
            f"{new:,} playlist items to learn from; the live vectors had none"
            if due else "no playlists to learn from yet",
        )  # fmt: skip
    threshold = max(min_new, math.ceil(share * learned))
    due = new >= threshold
    reason = f"{new:,} new playlist items since generation {live} ({learned:,}); " + (
        f"due at {threshold:,}" if not due else f"at least {threshold:,}: due"
    )
    return Check(live, trained, now, new, threshold, due, reason)


class ModelRefresher:
    """Checks for new playlist data and rebuilds the vectors into a new generation."""

    def __init__(
        self,
        *,
        database: Engine,
        live: LiveStore,
        encoder: TextEncoder,
        settings: Settings,
        worker: str,
        embedder: Callable[[], ItemEmbedder | None] | None = None,
        echo: Callable[[str], None] = lambda _: None,
        batch_size: int = REFRESH_BATCH,
        grace_s: float | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._database = database
        self._live = live
        self._encoder = encoder
        self._settings = settings
        self._worker = worker
        self._embedder = embedder or (lambda: make_embedder(settings))
        self._echo = echo
        self._batch_size = batch_size
        self._grace_s = grace_s if grace_s is not None else (
            SERVER_GRACE_S if settings.qdrant_url else 0.0
        )  # fmt: skip
        self._clock = clock
        self._key = meta_key(settings)
        self._stop = threading.Event()
        self._running = threading.Lock()
        self.report = TrainReport()  # the build in progress (or the last one)

    @property
    def live(self) -> LiveStore:
        return self._live

    def check(self, *, has_cf: bool | None = None) -> Check:
        """Counts only: what the live generation learned from and what arrived since."""
        with self._database.connect() as conn:
            now = catalog_size(conn=conn)
            trained = read_trained(conn=conn, key=self._key)
        return assess(
            live=self._live.generation, trained=trained, now=now, has_cf=has_cf,
            min_new=self._settings.refresh_min_new_items,
            share=self._settings.refresh_min_new_share,
        )  # fmt: skip

    def follow(self) -> bool:
        """Move to a generation another process made live (a Qdrant server shared by
        several processes); True when this process switched."""
        return self._live.follow()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self, timeout: float = 300.0) -> None:
        """Stop a build at its next batch and wait for it (it must not outlive the store)."""
        self._stop.set()
        if self._running.acquire(timeout=timeout):
            self._running.release()
        else:
            log.warning("the model refresh did not stop within %.0f s", timeout)

    def run(self, *, force: bool = False) -> RefreshResult:
        """Rebuild and swap when due (always with ``force``); one builder at a time across
        threads and processes (the build lease)."""
        holder = f"{self._worker}:{uuid.uuid4().hex[:8]}"
        if self._stop.is_set():
            return RefreshResult(Outcome.STOPPED, self._live.generation, "shutting down")
        if not self._lease(holder):
            return RefreshResult(
                Outcome.BUSY, self._live.generation, "another process is refreshing the model"
            )
        try:
            with self._running:
                if self._stop.is_set():  # stop() came between the first look and here
                    return RefreshResult(Outcome.STOPPED, self._live.generation, "shutting down")
                return self._run(force=force, holder=holder)
        finally:
            with self._database.begin() as conn:
                deliveries.release_lease(conn=conn, name=BUILD_LEASE, holder=holder)

    def _lease(self, holder: str) -> bool:
        with self._database.begin() as conn:
            return deliveries.acquire_lease(
                conn=conn, name=BUILD_LEASE, holder=holder, now=self._clock(),
                ttl=timedelta(seconds=BUILD_LEASE_S),
            )  # fmt: skip

    def _run(self, *, force: bool, holder: str) -> RefreshResult:
        live = self._live
        live.follow()  # another process may have published one meanwhile
        if needs_training(self._database, live, self._settings):
            return RefreshResult(Outcome.NOT_READY, live.generation, "no vectors built yet")
        embedder = self._embedder()
        tracks = live.info(CollectionName.TRACKS)
        has_cf = tracks is not None and VectorName.CF in tracks.dims
        check = self.check(has_cf=has_cf)
        if not force:
            if embedder is None:
                return RefreshResult(Outcome.NOT_DUE, live.generation, "cf_model is none")
            if check.trained is None and has_cf:
                self._record(check.live, check.now, cf_model=None, baseline=True)
            if not check.due:
                return RefreshResult(Outcome.NOT_DUE, live.generation, check.reason)
        why = f"forced; {check.reason}" if force else check.reason
        return self._rebuild(embedder, check, holder, why)

    def _rebuild(
        self, embedder: ItemEmbedder | None, check: Check, holder: str, why: str
    ) -> RefreshResult:
        generations = self._live.generations
        previous = self._live.generation
        self._clean(previous)
        generation = max([previous, *generations.built()]) + 1
        started = time.perf_counter()
        log.info(
            "model refresh: building generation %d beside %d (%s)",
            generation, previous, why,
        )  # fmt: skip
        self.report = TrainReport()
        target = generations.open(generation)
        try:
            train(
                self._database, target, self._encoder, embedder, echo=self._echo,
                batch_size=self._batch_size, report=self.report,
                should_stop=self._should_stop(holder),
            )  # fmt: skip
            if self._stop.is_set():
                raise TrainingStopped("stopped before the swap")
            generations.publish(generation)
        except BaseException as exc:
            target.close()
            try:
                published = generations.live() == generation
            except Exception:  # can't tell: keep it (the next refresh deletes it unless live)
                published = True
            if not published:  # as if it never happened
                self._drop(generation)
            if isinstance(exc, TrainingStopped):
                log.info("model refresh: generation %d abandoned (%s)", generation, exc)
                return RefreshResult(Outcome.STOPPED, previous, str(exc))
            raise
        self._record(generation, check.now, cf_model=self.report.cf_model)
        try:
            self._live.follow()  # opens the new shards while the build's store still has them
        finally:
            target.close()
        if self._grace_s and self._stop.wait(self._grace_s):
            dropped = f"generation {previous} left for the next refresh to delete"
        elif self._drop(previous):
            dropped = f"generation {previous} deleted"
        else:
            dropped = f"generation {previous} left for the next refresh to delete"
        first = self.report.summary().splitlines()[0]
        message = (
            f"generation {generation} live (was {previous}) after "
            f"{time.perf_counter() - started:.0f} s: {first}; {dropped}"
        )
        log.info("model refresh: %s", message)
        return RefreshResult(Outcome.SWAPPED, generation, message)

    def _should_stop(self, holder: str) -> Callable[[], bool]:
        renewed = time.monotonic()

        def should_stop() -> bool:
            nonlocal renewed
            if self._stop.is_set():
                return True
            if time.monotonic() - renewed >= RENEW_EVERY_S:
                renewed = time.monotonic()
                if not self._lease(holder):
                    log.warning("model refresh: lost the build lease; stopping")
                    return True
            return False

        return should_stop

    def _record(
        self, generation: int, size: CatalogSize, *, cf_model: str | None, baseline: bool = False
    ) -> None:
        trained = TrainedOn(generation, size, self._clock(), cf_model, baseline)
        with self._database.begin() as conn:
            write_trained(conn=conn, key=self._key, trained=trained)

    def _clean(self, live: int) -> None:
        """Delete what earlier refreshes left: half-built or superseded generations."""
        for generation in self._live.generations.built():
            if generation != live:
                self._drop(generation)

    def _drop(self, generation: int) -> bool:
        try:
            dropped = self._live.generations.drop(generation)
        except Exception:
            log.exception("model refresh: could not delete generation %d", generation)
            return False
        if not dropped:
            log.info("model refresh: generation %d still in use; not deleted", generation)
        return dropped
