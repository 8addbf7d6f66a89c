from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from jobs.scheduler import Job, build_scheduler


def test_jobs_run_on_the_loop_and_a_failure_does_not_stop_them() -> None:
    ran: list[str] = []

    async def ok() -> str:
        ran.append("ok")
        return "fine"

    async def broken() -> None:
        ran.append("broken")
        raise RuntimeError("spotify is down")

    async def scenario() -> None:
        scheduler = build_scheduler(
            [Job("ok", 1, ok, "an ok job"), Job("broken", 1, broken, "a failing job")]
        )
        assert sorted(j.id for j in scheduler.get_jobs()) == ["broken", "ok"]
        scheduler.start()
        for job in scheduler.get_jobs():  # don't wait a whole interval in a test
            scheduler.modify_job(job.id, next_run_time=datetime.now(UTC))
        await asyncio.sleep(0.3)
        scheduler.shutdown(wait=False)

    asyncio.run(scenario())
    assert "ok" in ran and "broken" in ran
