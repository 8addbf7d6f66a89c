"""Steering a station: words that nudge it, its weights, artists it must not play."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from storage import stations as repo
from wavelength.domain import ArtistId, Familiarity, Station, StationId, Steer, Tuning, UserId
from wavelength.stations._core import StationsCore
from wavelength.stations._types import Batch, DidYouMean, StationError

if TYPE_CHECKING:
    from recommender.mood import Unresolved

MAX_WEIGHT = 3.0  # tuning weights run 0..3; 1 is the default balance


class Steering(StationsCore):
    def refine(self, user: UserId, steer: Steer) -> Batch:
        """Steer the active station in words, then play the next batch."""
        return self._change(user, lambda s: replace(s, steers=(*s.steers, steer)[-12:]))

    def tune(
        self,
        user: UserId,
        *,
        style: float | None = None,
        like: float | None = None,
        dislike: float | None = None,
        familiarity: Familiarity | None = None,
        station: StationId | None = None,
    ) -> Batch:
        """New weights for the active station (or the user's own ``station``), then its
        next batch."""
        for label, weight in (("style", style), ("like", like), ("dislike", dislike)):
            if weight is not None and not 0 <= weight <= MAX_WEIGHT:
                raise StationError(
                    f"{label} must be between 0 and {MAX_WEIGHT:g} (1 is the default), "
                    f"not {weight:g}."
                )

        def apply(station: Station) -> Station:
            t = station.tuning
            return replace(
                station,
                tuning=Tuning(
                    style=t.style if style is None else style,
                    like=t.like if like is None else like,
                    dislike=t.dislike if dislike is None else dislike,
                    familiarity=t.familiarity if familiarity is None else familiarity,
                ),
            )

        return self._change(user, apply, station=station)

    def no_more(self, user: UserId, name: str) -> tuple[str, Batch]:
        """Stop an artist on the active station."""
        matches = self._names.artists(name, limit=3)
        if not matches or matches[0].score < 90:
            raise DidYouMean((_unresolved(name, tuple(m.name for m in matches if m.score >= 70)),))
        artist = ArtistId(matches[0].id)
        batch = self._change(
            user,
            lambda s: replace(s, banned_artists=tuple(dict.fromkeys((*s.banned_artists, artist)))),
        )
        return matches[0].name, batch

    def _change(
        self,
        user: UserId,
        change: Callable[[Station], Station],
        *,
        station: StationId | None = None,
    ) -> Batch:
        with self._engine.begin() as conn:
            if station is None:
                current = self._own(conn, user, None)
            else:
                current = self._own_id(conn, user, station)
            repo.save_station(conn=conn, station=change(current), now=self._clock())
        return self.next(user, station=station)


def _unresolved(text: str, suggestions: tuple[str, ...]) -> Unresolved:
    from recommender.mood import Unresolved

    return Unresolved(text=text, suggestions=suggestions)
