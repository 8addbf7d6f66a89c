"""Stations addressed by id, for the API, over the chat's ``StationService`` (which takes a
station id where the chat would use the playing station; the API never changes which
station a person's chat is playing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from wavelength.domain import Familiarity, Reaction, Station, StationId, TrackId, UserId
    from wavelength.stations import Batch, Reacted, StationService


class StationsApi:
    """``nexts``, when given, composes next batches in place of the service (the compose
    workers, ``wavelength.compose_pool``); everything else is the service's."""

    def __init__(
        self,
        *,
        service: StationService,
        nexts: Callable[[UserId, StationId], Batch] | None = None,
    ) -> None:
        self._service = service
        self._nexts = nexts

    def create(self, user: UserId, text: str, name: str | None) -> Batch:
        return self._service.create(user, text, name=name)

    def stations(self, user: UserId) -> tuple[list[Station], StationId | None]:
        return self._service.stations(user)

    def next(self, user: UserId, station_id: StationId) -> Batch:
        if self._nexts is not None:
            return self._nexts(user, station_id)
        return self._service.next(user, station=station_id)

    def feedback(
        self, user: UserId, station_id: StationId, track: TrackId, reaction: Reaction
    ) -> Reacted:
        # A stranger's station is a 404, not a 403.
        return self._service.react_to_track(
            user, station_id, track, reaction, strangers_see_nothing=True
        )

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
        return self._service.tune(
            user, style=style, like=like, dislike=dislike, familiarity=familiarity,
            station=station_id,
        )  # fmt: skip

    def share(self, user: UserId, station_id: StationId) -> tuple[Station, str]:
        return self._service.share(user, station_id=station_id)
