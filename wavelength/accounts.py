"""Accounts: one person across platforms, their settings, and whether we may message them.

A person who talks to Wavelength on Discord and on Telegram starts as two users. ``/connect``
on one shows a one-time code; ``/connect CODE`` on the other folds that user into the first,
so both identities share one taste, one set of stations and one feedback history.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from storage import accounts as repo
from wavelength.domain import UserId, UserPrefs
from wavelength.stations import StationError

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

LINK_CODE_TTL = timedelta(minutes=10)
LINK_CODE_LENGTH = 6
# No 0/O or 1/I: codes are read on one screen and typed on another.
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.IGNORECASE)
_ZONES_BY_KEY: dict[str, str] = {}


def _zones() -> dict[str, str]:
    if not _ZONES_BY_KEY:
        _ZONES_BY_KEY.update({z.casefold(): z for z in available_timezones()})
    return _ZONES_BY_KEY


def parse_time_zone(text: str) -> str:
    """An IANA zone name, case-insensitively ("europe/berlin" → "Europe/Berlin")."""
    key = text.strip().replace(" ", "_").casefold()
    if key in ("utc", "gmt", "z"):
        return "UTC"
    name = _zones().get(key)
    if name is None:
        try:
            ZoneInfo(text.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise StationError(
                f'I don\'t know the time zone "{text.strip()[:40]}". Use a name like '
                "Europe/Berlin, America/New_York or Asia/Tokyo."
            ) from None
        name = text.strip()
    return name


def parse_time(text: str) -> int:
    """Minutes after midnight from "08:30", "8", "7pm" or "7:15 am"."""
    m = _TIME.match(text.strip())
    if m is None:
        raise StationError(f'"{text.strip()[:20]}" isn\'t a time. Use 24-hour HH:MM, like 08:30.')
    hour, minute, half = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            raise StationError(f'"{text.strip()}" isn\'t a time: 12-hour clocks run 1 to 12.')
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise StationError(f'"{text.strip()}" isn\'t a time of day (00:00 to 23:59).')
    return hour * 60 + minute


class AccountService:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._clock = clock

    # -- one person, several platforms ------------------------------------------------------

    def link_code(self, user: UserId) -> tuple[str, datetime]:
        """A fresh one-time code to type on the other platform, and when it expires."""
        code = "".join(secrets.choice(_ALPHABET) for _ in range(LINK_CODE_LENGTH))
        expires = self._clock() + LINK_CODE_TTL
        with self._engine.begin() as conn:
            repo.put_link_code(conn=conn, user=user, code=code, expires_at=expires)
        return code, expires

    def redeem(self, user: UserId, code: str) -> UserId:
        """Join ``user`` to the owner of ``code``; returns the user both identities are now."""
        clean = code.strip().upper().replace("-", "").replace(" ", "")
        with self._engine.begin() as conn:
            owner = repo.take_link_code(conn=conn, code=clean, now=self._clock())
            if owner is None:
                raise StationError(
                    "That code doesn't work: it may be mistyped, used already or older than "
                    "10 minutes. Say /connect on your other account for a fresh one."
                )
            if owner == user:
                raise StationError(
                    "That's your own code: type it on your *other* account (Discord or "
                    "Telegram) to join the two."
                )
            repo.merge_users(conn=conn, keep=owner, gone=user)
        return owner

    def identities(self, user: UserId) -> list[tuple[str, str]]:
        with self._engine.connect() as conn:
            return repo.identities_of(conn=conn, user=user)

    # -- settings ---------------------------------------------------------------------------

    def prefs(self, user: UserId) -> UserPrefs:
        with self._engine.connect() as conn:
            return repo.get_prefs(conn=conn, user=user)

    def update_prefs(
        self,
        user: UserId,
        *,
        time_zone: str | None = None,
        at: str | None = None,
        daily: bool | None = None,
        paused: bool | None = None,
    ) -> UserPrefs:
        """Change what was given; text values are parsed here so every frontend agrees."""
        with self._engine.begin() as conn:
            prefs = repo.get_prefs(conn=conn, user=user)
            if time_zone is not None:
                prefs = replace(prefs, time_zone=parse_time_zone(time_zone))
            if at is not None:
                prefs = replace(prefs, delivery_minute=parse_time(at))
            if daily is not None:
                prefs = replace(prefs, daily=daily)
            if paused is not None:
                prefs = replace(prefs, paused=paused)
            repo.put_prefs(conn=conn, user=user, prefs=prefs, now=self._clock())
        return prefs

    # -- reachability -----------------------------------------------------------------------

    def unreachable(self, provider: str, external_id: str) -> None:
        with self._engine.begin() as conn:
            repo.mark_unreachable(
                conn=conn, provider=provider, external_id=external_id, now=self._clock()
            )

    def reachable(self, provider: str, external_id: str) -> None:
        """They wrote to us, so we may write back (clears an earlier mark), and scheduled
        messages go to this account first."""
        with self._engine.begin() as conn:
            repo.seen(conn=conn, provider=provider, external_id=external_id, now=self._clock())

    def contacts(self, user: UserId) -> list[tuple[str, str]]:
        """(platform, account) pairs that can be messaged, the most recently used first."""
        with self._engine.connect() as conn:
            return repo.reachable_identities(conn=conn, user=user)
