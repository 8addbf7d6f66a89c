from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from jobs.wiring import resume_pushes, scheduled_jobs, worker_id
from wavelength.domain import UserId
from wavelength.spotify_service import TryAgainLater

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class Pushes:
    """The two calls resume_pushes makes of the Spotify service."""

    def __init__(self) -> None:
        self.resumed: list[tuple[UserId, str]] = []

    def unfinished(self) -> list[tuple[UserId, str, datetime | None]]:
        return [
            (UserId(1), "daily", None),  # interrupted: finish now
            (UserId(2), "daily", NOW + timedelta(hours=1)),  # a long 429: not yet
            (UserId(3), "station:7", NOW - timedelta(minutes=1)),  # its time has come
            (UserId(4), "daily", None),  # still failing: left for the next round
        ]

    def resume(self, user: UserId, purpose: str) -> object:
        if user == 4:
            raise TryAgainLater(NOW + timedelta(minutes=5))
        self.resumed.append((user, purpose))
        return object()


def test_interrupted_pushes_are_finished_when_their_time_comes() -> None:
    pushes = Pushes()
    assert resume_pushes(cast(Any, pushes), NOW) == 2
    assert pushes.resumed == [(UserId(1), "daily"), (UserId(3), "station:7")]


def test_the_jobs_a_running_wavelength_schedules() -> None:
    none: Any = None
    names = [j.name for j in scheduled_jobs(database=none, stations=none, chat=none, spotify=none)]
    assert names == ["deliveries"]
    everything = scheduled_jobs(
        database=none, stations=none, chat=none, spotify=cast(Any, Pushes()), mixes=none
    )
    assert [j.name for j in everything] == ["deliveries", "spotify-resume", "spotify-import"]
    with_mixes = scheduled_jobs(
        database=none, stations=none, chat=none, spotify=None, mixes=cast(Any, object())
    )
    assert [j.name for j in with_mixes] == ["deliveries", "taste-centers"]
    assert ":" in worker_id()
