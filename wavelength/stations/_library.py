"""A listener's stations: making them (from words, a playlist, a shared one), naming,
switching, sharing, deleting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from recommender.mood import parse_mood
from storage import feedback as fb
from storage import lookup
from storage import stations as repo
from wavelength.domain import Mood, PlaylistId, Reaction, Station, StationId, TrackId, UserId
from wavelength.stations._core import StationsCore
from wavelength.stations._types import Batch, DidYouMean, NotFound, StationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

MAX_STATIONS = 50  # per user: plenty for moods, a bound for storage and /stations lists


class Library(StationsCore):
    def create(self, user: UserId, text: str, *, name: str | None = None) -> Batch:
        """A new station from a mood in words; it becomes the active one."""
        parsed = parse_mood(text, self._names, this_year=self._clock().year)
        if parsed.unresolved:
            raise DidYouMean(parsed.unresolved)
        return self._create(user, parsed.mood, name=name)

    def from_playlist(
        self, user: UserId, playlist: PlaylistId, title: str, tracks: Sequence[TrackId]
    ) -> Batch:
        """A station whose style is a playlist's tracks (the ``radio: <name>`` playlists):
        its title is the mood and its tracks start as the station's likes."""
        name = title.removeprefix("radio:").strip() or title
        mood = Mood(original=name, text=name)
        return self._create(user, mood, name=None, seed_playlist=playlist, seed_tracks=tracks)

    def from_catalog_playlist(self, user: UserId, name: str) -> Batch:
        """A station seeded from a human playlist in the catalog, found by its title."""
        with self._engine.connect() as conn:
            found = lookup.playlist_by_name(conn=conn, name=name)
        if found is None:
            raise NotFound(f'I found no playlist called "{name.strip()[:60]}" in the catalog.')
        pid, title, tracks = found
        return self.from_playlist(user, PlaylistId(pid), title, [TrackId(t) for t in tracks])

    def _create(
        self,
        user: UserId,
        mood: Mood,
        *,
        name: str | None,
        seed_playlist: PlaylistId | None = None,
        seed_tracks: Sequence[TrackId] = (),
    ) -> Batch:
        now = self._clock()
        with self._engine.begin() as conn:
            existing = repo.list_stations(conn=conn, owner=user)
            _check_room(existing)
            taken = {s.name.casefold() for s in existing}
            try:
                station = repo.create_station(
                    conn=conn,
                    owner=user,
                    name=name.strip() if name else _unique_name(default_name(mood), taken),
                    mood=mood,
                    seed_playlist=seed_playlist,
                    now=now,
                )
            except repo.DuplicateStationName as exc:
                raise StationError(f'You already have a station called "{exc.name}".') from None
            except ValueError as exc:  # an explicit name that is blank or too long
                raise StationError(f"That name won't work: {exc}.") from None
            for track in seed_tracks:
                fb.add_feedback(
                    conn=conn, user=user, station=station.id, track=track,
                    reaction=Reaction.LIKE, now=now, copied=True,
                )  # fmt: skip
            repo.set_active(conn=conn, user=user, station_id=station.id)
        return self.next(user)

    def active(self, user: UserId) -> tuple[Station, bool]:
        with self._engine.connect() as conn:
            return self._active(conn, user)

    def owned(self, user: UserId, station_id: StationId) -> Station:
        """The user's own station by id (NotFound otherwise): the API's scoping check."""
        with self._engine.connect() as conn:
            return self._own_id(conn, user, station_id)

    def stations(self, user: UserId) -> tuple[list[Station], StationId | None]:
        with self._engine.connect() as conn:
            active = repo.get_active(conn=conn, user=user)
            return repo.list_stations(conn=conn, owner=user), active[0] if active else None

    def switch(self, user: UserId, target: str) -> Batch:
        with self._engine.begin() as conn:
            station = self._own(conn, user, target)
            repo.set_active(conn=conn, user=user, station_id=station.id)
        return self.next(user)

    def rename(self, user: UserId, new: str, target: str | None = None) -> tuple[str, Station]:
        with self._engine.begin() as conn:
            station = self._own(conn, user, target)
            renamed = replace(station, name=new.strip())
            try:
                repo.save_station(conn=conn, station=renamed, now=self._clock())
            except repo.DuplicateStationName:
                raise StationError(f'You already have a station called "{new.strip()}".') from None
            except ValueError as exc:
                raise StationError(f"That name won't work: {exc}.") from None
        return station.name, renamed

    def delete(self, user: UserId, target: str) -> Station:
        with self._engine.begin() as conn:
            station = self._own(conn, user, target, exact=True)
            repo.delete_station(conn=conn, owner=user, station_id=station.id)
        self._played.forget(station.id)  # SQLite may give a new station the same id
        self._feedback.forget(station.id)
        return station

    def share(
        self, user: UserId, target: str | None = None, *, station_id: StationId | None = None
    ) -> tuple[Station, str]:
        with self._engine.begin() as conn:
            if station_id is not None:
                station = self._own_id(conn, user, station_id)
            else:
                station = self._own(conn, user, target)
            code = repo.new_share_code(conn=conn, station_id=station.id)
        return replace(station, share_code=code), code

    def join(self, user: UserId, code: str) -> Batch:
        """Play someone's shared station read-only."""
        with self._engine.begin() as conn:
            station = self._shared(conn, code)
            own = station.owner == user
            repo.set_active(conn=conn, user=user, station_id=station.id, read_only=not own)
        return self.next(user)

    def copy(self, user: UserId, code: str) -> Batch:
        """A copy of a shared station, with its reactions, that the user owns and can teach."""
        now = self._clock()
        with self._engine.begin() as conn:
            source = self._shared(conn, code)
            existing = repo.list_stations(conn=conn, owner=user)
            _check_room(existing)
            taken = {s.name.casefold() for s in existing}
            copy = repo.copy_station(
                conn=conn, source=source, new_owner=user,
                name=_unique_name(source.name, taken), now=now,
            )  # fmt: skip
            repo.set_active(conn=conn, user=user, station_id=copy.id)
        return self.next(user)

    @staticmethod
    def _shared(conn: Connection, code: str) -> Station:
        station = repo.station_by_share_code(conn=conn, code=code.strip())
        if station is None:
            raise NotFound(f'No station is shared with the code "{code.strip()[:16]}".')
        return station


def default_name(mood: Mood) -> str:
    words = " ".join(mood.original.split())
    if len(words) > 40:
        words = words[:40].rsplit(" ", 1)[0] + "…"
    return words[:1].upper() + words[1:] if words else "My station"


def _check_room(existing: Sequence[Station]) -> None:
    if len(existing) >= MAX_STATIONS:
        raise StationError(
            f"You have {len(existing)} stations, the most I keep. "
            "Delete one (/delete NAME) to make room."
        )


def _unique_name(name: str, taken: set[str]) -> str:
    """``name``, or "name 2", "name 3", ... when taken (shortened to fit ``NAME_MAX``)."""
    if name.casefold() not in taken:
        return name
    n = 2
    while _numbered(name, n).casefold() in taken:
        n += 1
    return _numbered(name, n)


def _numbered(name: str, n: int) -> str:
    suffix = f" {n}"
    return name[: repo.NAME_MAX - len(suffix)].rstrip() + suffix
