"""The APScheduler 3 wiring: one job per kind of work, each guarded by a database lease.

APScheduler 3 keeps its schedule per process and can't share a job store between processes
safely, so nothing relies on it for correctness: every process may run a scheduler, each
round first takes the ``deliveries`` lease in the database (only the holder works), and the
delivery ledger's unique key stops a second copy even if two rounds overlapped. A round every
minute is enough: deliveries are due at minute precision in each user's local time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every_seconds: int
    run: Callable[[], Awaitable[object]]
    description: str


def build_scheduler(jobs: list[Job]) -> AsyncIOScheduler:
    """A scheduler that runs ``jobs`` on the running event loop (start it inside the loop).

    ``coalesce`` and ``max_instances=1``: a round that falls behind (a slow Spotify) is
    merged with the missed ones instead of piling up; the misfire grace lets a round delayed
    by a busy loop still run.
    """
    scheduler = AsyncIOScheduler(timezone="UTC")
    for job in jobs:
        scheduler.add_job(
            _logged(job),
            IntervalTrigger(seconds=job.every_seconds),
            id=job.name,
            name=job.description,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(30, job.every_seconds // 2),
        )
    return scheduler


def _logged(job: Job) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            result = await job.run()
            log.info("%s: %s", job.name, result)
        except Exception:
            # One failed round must not stop the schedule; the next round retries.
            log.exception("%s failed", job.name)

    return run
