"""The jobs a running Wavelength schedules, built from the composition root's parts.

Every job may run in several processes at once; each round takes a named lease in the
database first, so one process does the work and the others stand down.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from jobs.delivery import ChatAndSpotify, StationPicks
from jobs.runner import DeliveryRunner
from jobs.scheduler import Job
from storage import accounts, deliveries

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.chat import ChatEngine
    from wavelength.mixes import MixService
    from wavelength.model_refresh import ModelRefresher, RefreshResult
    from wavelength.sorter import SorterService
    from wavelength.spotify_service import SpotifyService
    from wavelength.stations import StationService

log = logging.getLogger(__name__)

DELIVERY_EVERY_S = 60  # deliveries are due to the minute in each user's local time
SPOTIFY_RESUME_EVERY_S = 600
DAILY_S = 24 * 3600
HOURLY_S = 3600
# The model refresh counts new playlist data this often (one process, under a lease).
MODEL_CHECK_EVERY_S = 3 * 3600


def worker_id() -> str:
    """Names this process in leases and claims (several may run against one database)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def scheduled_jobs(
    *,
    database: Engine,
    stations: StationService,
    chat: ChatEngine,
    spotify: SpotifyService | None,
    mixes: MixService | None = None,
    sorter: SorterService | None = None,
    models: ModelRefresher | None = None,
) -> list[Job]:
    worker = worker_id()
    composer = StationPicks(stations, nostalgia=mixes, workers=min(4, os.cpu_count() or 1))
    runner = DeliveryRunner(
        database=database,
        composer=composer,
        sender=ChatAndSpotify(chat, spotify),
        worker=worker,
        kinds=composer.kinds,
    )
    jobs = [Job("deliveries", DELIVERY_EVERY_S, runner.run_round, "daily picks, weekly nostalgia")]
    if mixes is not None:
        centers = _leased(
            database, worker, "taste-centers", DAILY_S, lambda: refresh(database, mixes)
        )
        jobs.append(Job("taste-centers", HOURLY_S, centers, "nightly taste-center refresh"))
    if models is not None:
        jobs.append(_model_refresh(database, worker, models, mixes))
    if sorter is not None:
        sorts = _leased(database, worker, "sort-new", DAILY_S, lambda: sort_new(sorter))
        jobs.append(Job("sort-new", HOURLY_S, sorts, "sort newly liked songs, push the lists"))
    if spotify is not None:
        sp = spotify

        async def resume() -> int:
            return await asyncio.to_thread(resume_pushes, sp)

        imports = _leased(database, worker, "spotify-import", DAILY_S, lambda: import_all(sp))
        jobs += [
            Job("spotify-resume", SPOTIFY_RESUME_EVERY_S, resume, "finish interrupted pushes"),
            Job("spotify-import", HOURLY_S, imports, "daily Spotify history import"),
        ]
    return jobs


def _leased(
    database: Engine, worker: str, name: str, every_s: int, work: Callable[[], object]
) -> Callable[[], asyncio.Future[object]]:
    """``work`` at most once per ``every_s`` across all processes: the lease is held for the
    whole period, so the hourly check in every process finds it taken until it is due."""

    def once() -> object:
        with database.begin() as conn:
            if not deliveries.acquire_lease(
                conn=conn, name=name, holder=f"{worker}:{datetime.now(UTC):%Y%m%d%H}",
                now=datetime.now(UTC), ttl=timedelta(seconds=every_s),
            ):  # fmt: skip
                return "not due"
        return work()

    def run() -> asyncio.Future[object]:
        return asyncio.ensure_future(asyncio.to_thread(once))

    return run


def _model_refresh(
    database: Engine, worker: str, models: ModelRefresher, mixes: MixService | None
) -> Job:
    check = _leased(
        database, worker, "model-refresh", MODEL_CHECK_EVERY_S,
        lambda: refresh_model(database, models, mixes),
    )  # fmt: skip
    # Looked at hourly like the other leased jobs; the lease makes it one check per period.
    return Job(
        "model-refresh", HOURLY_S, check,
        "re-train the collaborative vectors when enough new playlists arrived",
    )  # fmt: skip


def refresh_model(
    database: Engine, models: ModelRefresher, mixes: MixService | None, *, force: bool = False
) -> RefreshResult:
    """Rebuild the vectors when enough new playlist data arrived (in a worker thread: it
    takes minutes); after a swap, today's taste centers are fitted again in the new space,
    so the day's deliveries and /mixes find them ready."""
    from wavelength.model_refresh import Outcome

    result = models.run(force=force)
    if result.outcome is Outcome.SWAPPED and mixes is not None:
        refresh(database, mixes)
    return result


def refresh(database: Engine, mixes: MixService) -> int:
    """Today's taste centers for every opted-in listener, computed at night so the day's
    deliveries and /mixes find them ready (they start from yesterday's)."""
    with database.connect() as conn:
        users = [u for u, _ in accounts.opted_in(conn=conn)]
    for user in users:
        try:
            mixes.mixes(user)
        except Exception:
            log.exception("taste centers for user %s failed", user)
    return len(users)


def sort_new(sorter: SorterService) -> int:
    """Place every sorting listener's newly liked songs and update their Spotify lists."""
    from wavelength.sorter import SorterError
    from wavelength.spotify_service import SpotifyServiceError

    placed = sorter.sort_all_new()
    for user, count in placed.items():
        if not count:
            continue
        try:
            sorter.push(user)
        except (SorterError, SpotifyServiceError) as exc:
            log.info("sorted lists for user %s not pushed: %s", user, exc)
    return sum(placed.values())


def import_all(spotify: SpotifyService) -> int:
    """Recent plays, top and saved tracks of every linked listener (safe to repeat)."""
    from wavelength.spotify_service import SpotifyServiceError

    done = 0
    for user in spotify.linked_users():
        try:
            spotify.import_library(user)
            done += 1
        except SpotifyServiceError as exc:
            log.info("Spotify import for user %s skipped: %s", user, exc)
    return done


def resume_pushes(spotify: SpotifyService, now: datetime | None = None) -> int:
    """Finish every push an earlier run left unfinished whose retry time has come."""
    from wavelength.spotify_service import SpotifyServiceError

    now = now or datetime.now(UTC)
    done = 0
    for user, purpose, retry_at in spotify.unfinished():
        if retry_at is not None and retry_at > now:
            continue
        try:
            spotify.resume(user, purpose)
            done += 1
        except SpotifyServiceError as exc:
            log.info("push %s for user %s not finished yet: %s", purpose, user, exc)
    return done
