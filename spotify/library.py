"""Importing a Spotify library: read it through the client, store it as listening history.

Recently played tracks keep their play times; top tracks are stamped with the import day and
liked songs with when they were liked, so importing again the same day adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Protocol, TypeVar

from spotify.plan import to_track
from storage import catalog
from storage import spotify as repo
from wavelength.domain import ListeningEvent, Track, TrackId, UserId
from wavelength.ids import spotify_uri

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.engine import Connection

    from spotify.api import Played, PlaylistInfo, Saved, SpotifyApi, SpotifyTrack

T = TypeVar("T")
TOP_RANGES = ("short_term", "medium_term", "long_term")
RADIO_PREFIX = "radio:"  # playlists called "radio: <name>" become stations


class Reader(Protocol):
    """Runs one read under the caller's retry policy."""

    def __call__(self, call: Callable[[], T]) -> T: ...


@dataclass(frozen=True, slots=True)
class Library:
    recent: list[Played]
    top: list[SpotifyTrack]  # all time ranges, short term first
    saved: list[Saved]
    playlists: list[PlaylistInfo]
    radio: dict[str, list[SpotifyTrack]]  # "radio: ..." playlist id -> its items


def is_radio(playlist: PlaylistInfo) -> bool:
    return playlist.name.casefold().startswith(RADIO_PREFIX)


def read_library(
    api: SpotifyApi,
    read: Reader,
    *,
    saved_limit: int,
    progress: Callable[[str], None],
) -> Library:
    """Everything an import needs; ``read`` wraps each call (the service's retry policy)."""
    progress("Reading your recently played tracks…")
    # Spotify keeps about the last 50 plays; the cursor is followed to its end regardless.
    recent = read(partial(api.recently_played, limit=1000))
    progress("Reading your top tracks…")
    top = [t for r in TOP_RANGES for t in read(partial(api.top_tracks, time_range=r))]
    progress("Reading your liked songs…")
    saved = read(partial(api.saved_tracks, limit=saved_limit))
    progress("Reading your playlists…")
    playlists = read(api.playlists)
    radio = {p.id: read(partial(api.playlist_items, p.id)) for p in playlists if is_radio(p)}
    return Library(recent=recent, top=top, saved=saved, playlists=playlists, radio=radio)


def _tracks(items: list[SpotifyTrack]) -> list[Track]:
    # Local files and vanished items have no track URI and can't join the catalog.
    return [to_track(t) for t in items if spotify_uri(t.uri, "track")]


@dataclass(frozen=True, slots=True)
class StoredHistory:
    events_added: int
    tracks_added: int
    ids: dict[TrackId, TrackId]  # Spotify URI -> catalog id


def save_history(
    *, conn: Connection, user: UserId, library: Library, today: datetime
) -> StoredHistory:
    """Write the library's tracks into the catalog and its plays into the history."""
    by_source: dict[str, list[tuple[Track, datetime]]] = {
        "spotify_recent": [(to_track(p.track), p.at) for p in library.recent],
        "spotify_top": [(to_track(t), today) for t in library.top],
        "spotify_saved": [(to_track(s.track), s.added_at) for s in library.saved],
    }
    for source, pairs in by_source.items():
        by_source[source] = [(t, at) for t, at in pairs if spotify_uri(t.id, "track")]
    radio = [t for items in library.radio.values() for t in _tracks(items)]
    everything = [t for pairs in by_source.values() for t, _at in pairs] + radio
    ids, new_tracks = repo.catalog_ids(conn=conn, tracks=everything)
    added = 0
    for source, pairs in by_source.items():
        events = [ListeningEvent(track=replace(t, id=ids[t.id]), played_at=at) for t, at in pairs]
        added += catalog.insert_listening_events(
            conn=conn, user_id=user, events=events, source=source
        )
    return StoredHistory(events_added=added, tracks_added=new_tracks, ids=ids)


def radio_tracks(items: list[SpotifyTrack], ids: dict[TrackId, TrackId]) -> list[TrackId]:
    """A radio playlist's tracks as catalog ids, in order."""
    return [ids[TrackId(t.uri)] for t in items if TrackId(t.uri) in ids]
