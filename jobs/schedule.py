"""When each user's deliveries are due: pure date arithmetic, no I/O.

Daily picks arrive at the user's chosen local time; the nostalgia mix on their chosen
weekday at the same time. A run that comes late (the process was down at delivery time)
still delivers within ``GRACE``; past local midnight that is "yesterday's picks". Daylight
saving: a wall-clock time skipped by a spring-forward is delivered just after the jump, and
one repeated by a fall-back is delivered once (the ledger's key is the local date).

``next_due`` is the same rule turned around: the next instant at which something falls due,
stored per listener so that a round reads only those whose instant has come.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wavelength.domain import UserId, UserPrefs

DAILY = "daily-picks"
NOSTALGIA = "nostalgia"
KINDS = (DAILY, NOSTALGIA)
NOSTALGIA_WEEKDAY = 6  # Sunday: a slower day for looking back
# Long enough to cover a restart or a night's outage, short enough that nobody who just
# opted in gets a delivery for a day they weren't signed up for.
GRACE = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Due:
    user: UserId
    kind: str
    day: date  # the user's local date the delivery belongs to
    due_at: datetime  # UTC
    late: bool  # the user's local date has moved on: say "yesterday's"


def due_at(prefs: UserPrefs, day: date) -> datetime:
    """The UTC instant of ``prefs``' delivery time on local ``day``."""
    zone = _zone(prefs.time_zone)
    wall = time(prefs.delivery_minute // 60, prefs.delivery_minute % 60)
    local = datetime.combine(day, wall, tzinfo=zone)
    # Round-tripping through UTC moves a non-existent (spring-forward) time past the gap.
    return local.astimezone(UTC)


def due_now(
    users: Iterable[tuple[UserId, UserPrefs]], now: datetime, *, grace: timedelta = GRACE
) -> Iterator[Due]:
    """Deliveries whose time has come and is less than ``grace`` ago, for opted-in users."""
    now = now.astimezone(UTC)
    for user, prefs in users:
        if not prefs.daily or prefs.paused:
            continue
        today = now.astimezone(_zone(prefs.time_zone)).date()
        for day in (today - timedelta(days=1), today):
            at = due_at(prefs, day)
            if not at <= now < at + grace:
                continue
            yield Due(user, DAILY, day, at, late=day != today)
            if day.weekday() == NOSTALGIA_WEEKDAY:
                yield Due(user, NOSTALGIA, day, at, late=day != today)


def next_due(prefs: UserPrefs, now: datetime) -> datetime:
    """The first delivery instant after ``now``: until then ``due_now`` finds nothing new
    for these settings (the round stores it, and asks only for listeners it has passed)."""
    now = now.astimezone(UTC)
    today = now.astimezone(_zone(prefs.time_zone)).date()
    for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
        at = due_at(prefs, day)
        if at > now:
            return at
    return due_at(prefs, today + timedelta(days=2))  # a zone that skipped a whole day


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    # Held here: ZoneInfo's own cache keeps only 8 zones strongly, and a round goes through
    # dozens, each read from disk again once dropped.
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # settings are validated on the way in; an old row falls back
