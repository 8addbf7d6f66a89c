"""Today's picks for many listeners at once: the scheduled jobs' station batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from storage import picks as picks_repo
from storage import stations as repo
from storage.feedback import BatchTaken
from wavelength.domain import Mood, Pick, StationId, UserId
from wavelength.stations._core import RACE_ATTEMPTS, StationsCore
from wavelength.stations._types import Batch, Card

DAILY_NAME = "Daily picks"
DAILY_MOOD = "today's picks, from what you liked"
DAILY_FRESH = timedelta(days=14)  # what any station played lately stays out of the picks


class DailyPicks(StationsCore):
    def daily_picks(self, user: UserId, *, n: int | None = None) -> Batch | None:
        """Today's picks for one user (``daily_picks_many`` for one); None when nothing is
        known about their taste yet."""
        return self.daily_picks_many([user], n=n).get(user)

    def daily_picks_many(
        self, users: Sequence[UserId], *, n: int | None = None
    ) -> dict[UserId, Batch]:
        """Today's picks: tracks near what each user liked anywhere (and played most), as the
        next batch of their own "Daily picks" station. Users with no known taste are left
        out. It is an ordinary station: nothing repeats from day to day, reactions to its
        cards teach it, /switch plays it; the active station is left alone. Reads and writes
        are batched across users and each user costs one store query
        (``StationComposer.around``): this runs for every listener each day."""
        now = self._clock()
        with self._engine.begin() as conn:
            seeds = {
                u: s for u, s in picks_repo.taste_seeds_many(conn=conn, users=users).items() if s
            }
            if not seeds:
                return {}
            owners = list(seeds)
            stations = repo.named_stations(conn=conn, owners=owners, name=DAILY_NAME)
            moods = {
                u: Mood(original=DAILY_MOOD, text="", seed_tracks=tuple(seeds[u])) for u in owners
            }
            existing = [u for u in owners if u in stations]
            repo.set_moods(conn=conn, moods=[(stations[u].id, moods[u]) for u in existing], now=now)
            for u in owners:
                if u in stations:
                    stations[u] = replace(stations[u], mood=moods[u])
                else:
                    stations[u] = repo.create_station(
                        conn=conn, owner=u, name=DAILY_NAME, mood=moods[u], now=now
                    )
            # Nothing they heard anywhere lately, nothing played here, nothing disliked.
            recent = picks_repo.shown_since_many(
                conn=conn, listeners=owners, since=now - DAILY_FRESH
            )
            here = picks_repo.played_on(conn=conn, stations=[stations[u].id for u in owners])
            disliked = picks_repo.disliked_many(conn=conn, users=owners)
        picked: dict[UserId, list[Pick]] = {}
        for u in owners:
            never = recent.get(u, set()) | here.get(stations[u].id, set()) | disliked.get(u, set())
            found = self._composer.around(seeds[u], never=never, n=n or self._batch_size)
            if found:
                picked[u] = found
        numbers = self._record_picks([(stations[u].id, u, p) for u, p in picked.items()], now)
        facts = self._composer.catalog.tracks(p.track for ps in picked.values() for p in ps)
        return {
            u: Batch(
                stations[u],
                numbers[stations[u].id],
                tuple(
                    Card(i, facts[p.track], p.reason, p.source)
                    for i, p in enumerate(ps, 1)
                    if p.track in facts
                ),
            )
            for u, ps in picked.items()
        }

    def _record_picks(
        self, batches: list[tuple[StationId, UserId, list[Pick]]], now: datetime
    ) -> dict[StationId, int]:
        """The chunk's batches, numbered afresh if a listener's own /next on their picks
        station took a number meanwhile (the picks themselves still fit: they left out what
        the station played when they were composed, and a rare repeat beats a lost chunk)."""
        for attempt in range(RACE_ATTEMPTS):
            try:
                with self._engine.begin() as conn:
                    return picks_repo.record_batches(conn=conn, batches=batches, now=now)
            except BatchTaken:
                if attempt == RACE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")
