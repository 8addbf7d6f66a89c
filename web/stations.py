"""Stations addressed by id, for the API, over the chat's ``StationService``.

The service acts on a listener's playing station; the API names one. So each call makes the
named station the one playing (as /switch does in chat) and then acts, under a per-user lock
so two requests from one user can't swap the station between those two steps.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import TYPE_CHECKING, TypeVar

from storage import stations as repo
from wavelength.stations import NotFound

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from wavelength.domain import Familiarity, Reaction, Station, StationId, TrackId, UserId
    from wavelength.stations import Batch, Reacted, StationService

T = TypeVar("T")


class StationsApi:
    def __init__(self, *, service: StationService, database: Engine) -> None:
        self._service = service
        self._database = database
        self._locks: defaultdict[UserId, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def _lock(self, user: UserId) -> threading.Lock:
        with self._guard:
            return self._locks[user]

    def own(self, user: UserId, station_id: StationId) -> Station:
        """The user's station ``station_id``; NotFound for a missing or someone else's
        (the API never says which: a stranger's station ids are not theirs to probe)."""
        with self._database.connect() as conn:
            station = repo.get_station(conn=conn, station_id=station_id)
        if station is None or station.owner != user:
            raise NotFound("No such station.")
        return station

    def _playing(self, user: UserId, station_id: StationId, act: Callable[[], T]) -> T:
        with self._lock(user):
            self.own(user, station_id)
            with self._database.begin() as conn:
                repo.set_active(conn=conn, user=user, station_id=station_id)
            return act()

    def create(self, user: UserId, text: str, name: str | None) -> Batch:
        with self._lock(user):
            return self._service.create(user, text, name=name)

    def stations(self, user: UserId) -> tuple[list[Station], StationId | None]:
        return self._service.stations(user)

    def next(self, user: UserId, station_id: StationId) -> Batch:
        return self._playing(user, station_id, lambda: self._service.next(user))

    def feedback(
        self, user: UserId, station_id: StationId, track: TrackId, reaction: Reaction
    ) -> Reacted:
        self.own(user, station_id)
        return self._service.react_to_track(user, station_id, track, reaction)

    def tune(
        self,
        user: UserId,
        station_id: StationId,
        *,
        style: float | None,
        like: float | None,
        dislike: float | None,
        familiarity: Familiarity | None,
    ) -> Batch:
        return self._playing(
            user,
            station_id,
            lambda: self._service.tune(
                user, style=style, like=like, dislike=dislike, familiarity=familiarity
            ),
        )

    def share(self, user: UserId, station_id: StationId) -> tuple[Station, str]:
        return self._playing(user, station_id, lambda: self._service.share(user))
