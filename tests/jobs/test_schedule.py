"""When deliveries are due: local times, late runs, daylight saving, Sundays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.schedule import DAILY, NOSTALGIA, due_at, due_now, next_due
from wavelength.domain import UserId, UserPrefs

BERLIN_8 = UserPrefs(time_zone="Europe/Berlin", delivery_minute=8 * 60, daily=True)


def kinds(prefs: UserPrefs, now: datetime) -> list[tuple[str, date, bool]]:
    return [(d.kind, d.day, d.late) for d in due_now([(UserId(1), prefs)], now)]


def test_due_at_the_users_local_time() -> None:
    # 08:00 in Berlin is 07:00 UTC in winter.
    assert due_at(BERLIN_8, date(2026, 11, 27)) == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert kinds(BERLIN_8, datetime(2026, 11, 27, 6, 59, tzinfo=UTC)) == []
    assert kinds(BERLIN_8, datetime(2026, 11, 27, 7, 0, tzinfo=UTC)) == [
        (DAILY, date(2026, 11, 27), False)
    ]


def test_a_late_run_still_delivers_and_says_yesterday() -> None:
    evening = UserPrefs(time_zone="Europe/Berlin", delivery_minute=20 * 60, daily=True)
    # Down from 20:00 until just after local midnight: still the 27th's, marked late.
    now = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)  # 00:30 on the 28th in Berlin
    assert kinds(evening, now) == [(DAILY, date(2026, 11, 27), True)]
    # More than the grace later: that day is gone (the ledger shows it was never sent).
    assert kinds(evening, datetime(2026, 11, 28, 8, 0, tzinfo=UTC)) == []


def test_opted_out_and_paused_get_nothing() -> None:
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    off = UserPrefs(time_zone="Europe/Berlin", delivery_minute=8 * 60, daily=False)
    paused = UserPrefs(time_zone="Europe/Berlin", delivery_minute=8 * 60, daily=True, paused=True)
    assert kinds(off, now) == [] and kinds(paused, now) == []


def test_nostalgia_comes_on_sundays() -> None:
    sunday = datetime(2026, 11, 29, 7, 30, tzinfo=UTC)
    assert kinds(BERLIN_8, sunday) == [
        (DAILY, date(2026, 11, 29), False),
        (NOSTALGIA, date(2026, 11, 29), False),
    ]


def test_a_time_skipped_by_daylight_saving_is_delivered_after_the_jump() -> None:
    # 2026-03-29 in Berlin: 02:00 -> 03:00. A 02:30 delivery lands at 03:30 local (01:30 UTC).
    prefs = UserPrefs(time_zone="Europe/Berlin", delivery_minute=2 * 60 + 30, daily=True)
    at = due_at(prefs, date(2026, 3, 29))
    assert at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


ZONES = (
    "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
    "Pacific/Apia", "America/St_Johns", "America/Santiago", "Not/AZone",
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    minute=st.integers(0, 24 * 60 - 1),
    now=st.datetimes(
        min_value=datetime(2011, 12, 25), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
)
def test_next_due_is_the_first_delivery_instant_after_now(
    zone: str, minute: int, now: datetime
) -> None:
    prefs = UserPrefs(time_zone=zone, delivery_minute=minute, daily=True)
    at = next_due(prefs, now)
    assert at > now
    # It is a delivery instant: due_now finds that day due from that moment on ...
    assert any(d.due_at == at for d in due_now([(UserId(1), prefs)], at))
    # ... and no day's delivery instant lies between now and it.
    local = now.date()
    days = (local + timedelta(days=n) for n in range(-3, 4))
    assert not any(now < due_at(prefs, day) < at for day in days)


def test_next_due_across_daylight_saving() -> None:
    berlin_0230 = UserPrefs(time_zone="Europe/Berlin", delivery_minute=2 * 60 + 30, daily=True)
    # Spring forward (29 March): 02:30 doesn't exist; it is delivered at 03:30 (01:30 UTC).
    assert next_due(berlin_0230, datetime(2026, 3, 28, 12, 0, tzinfo=UTC)) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )
    # Fall back (25 October): 02:30 comes twice; the first one counts, once.
    first = next_due(berlin_0230, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert next_due(berlin_0230, first) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
