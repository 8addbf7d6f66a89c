"""Importing: recently played, top and liked tracks into the listening history, and playlists
named "radio: <name>" as stations (once each). Safe to run again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from spotify.library import RADIO_PREFIX, Library, radio_tracks, read_library, save_history
from wavelength.domain import PlaylistId, TrackId, UserId
from wavelength.spotify_service._core import SpotifyCore, T
from wavelength.spotify_service._types import ImportReport


class Importing(SpotifyCore):
    def import_library(
        self, user: UserId, *, progress: Callable[[str], None] = lambda _m: None
    ) -> ImportReport:
        """Recently played, top and liked tracks into the listening history; playlists named
        "radio: <name>" become stations (once each). Safe to run again."""

        def read(call: Callable[[], T]) -> T:
            return self._retrying(lambda _attempt: call())

        with self._user_lock(user), self._client(user) as (api, _me):
            found = read_library(api, read, saved_limit=self._saved_limit, progress=progress)
        progress("Saving your history…")
        today = self._clock().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        with self._engine.begin() as conn:
            stored = save_history(conn=conn, user=user, library=found, today=today)
        made = self._radio_stations(user, found, stored.ids, progress)
        return ImportReport(
            recently_played=len(found.recent),
            top=len(found.top),
            saved=len(found.saved),
            playlists=len(found.playlists),
            events_added=stored.events_added,
            tracks_added=stored.tracks_added,
            stations=made,
        )

    def _radio_stations(
        self,
        user: UserId,
        found: Library,
        ids: dict[TrackId, TrackId],
        progress: Callable[[str], None],
    ) -> tuple[str, ...]:
        if self._stations is None or not found.radio:
            return ()
        existing, _active = self._stations.stations(user)
        seeded = {s.seed_playlist for s in existing}
        made = []
        for p in found.playlists:
            tracks = radio_tracks(found.radio.get(p.id, []), ids)
            pid = PlaylistId(f"spotify:playlist:{p.id}")
            if p.id not in found.radio or pid in seeded or not tracks:
                continue
            progress(f"Making a station from “{p.name}”…")
            # StationService strips a lower-case "radio:"; Spotify names may say "Radio:".
            title = RADIO_PREFIX + p.name[len(RADIO_PREFIX) :]
            self._stations.from_playlist(user, pid, title, tracks)
            seeded.add(pid)
            made.append(title[len(RADIO_PREFIX) :].strip() or p.name)
        return tuple(made)
