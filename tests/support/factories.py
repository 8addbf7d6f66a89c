"""Small domain values with known answers."""

from __future__ import annotations

from datetime import UTC, datetime

from wavelength.domain import (
    Album,
    Artist,
    AudioFeatures,
    ListeningEvent,
    Playlist,
    PlaylistId,
    Track,
    TrackId,
)
from wavelength.ids import album_id, artist_id, stable_track_id


def artist(name: str = "Nina Simone", **kwargs: object) -> Artist:
    return Artist(id=artist_id(name), name=name, **kwargs)  # type: ignore[arg-type]


def track(
    n: int = 1,
    *,
    name: str | None = None,
    artist_name: str = "Nina Simone",
    album_name: str | None = None,
    uri: bool = True,
    **kwargs: object,
) -> Track:
    title = name or f"Song {n}"
    the_artist = artist(artist_name)
    track_id = TrackId(f"spotify:track:{n:022d}") if uri else stable_track_id(artist_name, title)
    album = (
        Album(id=album_id(artist_name, album_name), name=album_name, artist_id=the_artist.id)
        if album_name
        else None
    )
    return Track(id=track_id, name=title, artist=the_artist, album=album, **kwargs)  # type: ignore[arg-type]


def playlist(pid: int, tracks: list[Track], name: str = "mix") -> Playlist:
    return Playlist(id=PlaylistId(f"mpd:{pid}"), name=name, tracks=tuple(tracks))


def play(t: Track, day: int = 1, ms: int | None = 200_000) -> ListeningEvent:
    return ListeningEvent(
        track=t, played_at=datetime(2020, 1, day, 12, 0, tzinfo=UTC), ms_played=ms
    )


def features(**values: float) -> AudioFeatures:
    return AudioFeatures(**values)  # type: ignore[arg-type]
