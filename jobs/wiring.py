"""The jobs a running Wavelength schedules, built from the composition root's parts."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from jobs.delivery import ChatAndSpotify, StationPicks
from jobs.runner import DeliveryRunner
from jobs.scheduler import Job

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.chat import ChatEngine
    from wavelength.spotify_service import SpotifyService
    from wavelength.stations import StationService

log = logging.getLogger(__name__)

DELIVERY_EVERY_S = 60  # deliveries are due to the minute in each user's local time
SPOTIFY_RESUME_EVERY_S = 600


def worker_id() -> str:
    """Names this process in leases and claims (several may run against one database)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def scheduled_jobs(
    *,
    database: Engine,
    stations: StationService,
    chat: ChatEngine,
    spotify: SpotifyService | None,
) -> list[Job]:
    runner = DeliveryRunner(
        database=database,
        composer=StationPicks(stations, workers=min(4, os.cpu_count() or 1)),
        sender=ChatAndSpotify(chat, spotify),
        worker=worker_id(),
        kinds=StationPicks.kinds,
    )
    jobs = [Job("daily-picks", DELIVERY_EVERY_S, runner.run_round, "daily picks by DM")]
    if spotify is not None:

        async def resume() -> int:
            return await asyncio.to_thread(resume_pushes, spotify)

        jobs.append(
            Job("spotify-resume", SPOTIFY_RESUME_EVERY_S, resume, "finish interrupted pushes")
        )
    return jobs


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
