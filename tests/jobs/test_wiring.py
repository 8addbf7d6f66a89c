from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy.engine import Engine

from jobs.wiring import refresh_model, resume_pushes, scheduled_jobs, worker_id
from storage import accounts
from storage.stations import get_or_create_user
from wavelength.domain import UserId, UserPrefs
from wavelength.model_refresh import Outcome, RefreshResult
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


def test_the_model_refresh_is_scheduled_when_the_store_can_switch_generations() -> None:
    none: Any = None
    jobs = scheduled_jobs(
        database=none, stations=none, chat=none, spotify=None, models=cast(Any, object())
    )
    assert [j.name for j in jobs] == ["deliveries", "model-refresh"]


class Models:
    """A refresher that reports what ``outcome`` says."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome

    def run(self, *, force: bool = False) -> RefreshResult:
        return RefreshResult(self.outcome, 1, "forced" if force else "test")


class Mixes:
    def __init__(self) -> None:
        self.fitted: list[UserId] = []

    def mixes(self, user: UserId) -> list[object]:
        self.fitted.append(user)
        return []


def test_after_a_swap_todays_taste_centers_are_fitted_again(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        user = get_or_create_user(conn=conn, provider="test", external_id="1", display_name=None)
        prefs = UserPrefs(time_zone="UTC", delivery_minute=8 * 60, daily=True)
        accounts.put_prefs(conn=conn, user=user, prefs=prefs, now=NOW)
    mixes = Mixes()
    kept = refresh_model(sqlite_engine, cast(Any, Models(Outcome.NOT_DUE)), cast(Any, mixes))
    assert kept.outcome is Outcome.NOT_DUE and mixes.fitted == []
    swapped = refresh_model(sqlite_engine, cast(Any, Models(Outcome.SWAPPED)), cast(Any, mixes))
    assert swapped.outcome is Outcome.SWAPPED and mixes.fitted == [user]
