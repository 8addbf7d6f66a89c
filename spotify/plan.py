"""Pure helpers for pushing and importing: Spotify's limits, resuming a cut-short write,
choosing a search match, and turning Spotify tracks into catalog tracks. No I/O here."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from spotify.api import MAX_ITEMS_PER_REQUEST
from wavelength.domain import Album, Artist, Track, TrackId
from wavelength.ids import album_id, artist_id, normalize_name, spotify_uri

if TYPE_CHECKING:
    from spotify.api import SpotifyTrack

MAX_NAME = 100  # Spotify's playlist name limit (characters)
MAX_DESCRIPTION = 300  # ... and description limit
_SPACE = re.compile(r"\s+")
# "Song - Remastered 2011", "Song (Live)", "Song [Radio Edit]": versions of one song.
_VERSION = re.compile(r"\s+-\s+.*$|\s*[(\[].*?[)\]]")


def clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, cut with an ellipsis when too long."""
    line = _SPACE.sub(" ", text).strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def chunks(items: Sequence[str], size: int = MAX_ITEMS_PER_REQUEST) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def resume_point(current: Sequence[str], intended: Sequence[str]) -> int | None:
    """Where appending can carry on: ``len(current)`` when the playlist holds a prefix of
    what it should (an earlier run got that far), else None (replace from the start).

    Any prefix will do, even one that is there by chance: appending the rest still yields
    exactly ``intended``."""
    if len(current) <= len(intended) and list(current) == list(intended[: len(current)]):
        return len(current)
    return None


def unique(uris: Sequence[str]) -> list[str]:
    """``uris`` without repeats, first occurrence kept (a prefix check needs no duplicates)."""
    return list(dict.fromkeys(uris))


def _base(title: str) -> str:
    return normalize_name(_VERSION.sub("", title)) or normalize_name(title)


def best_match(
    candidates: Sequence[SpotifyTrack], *, title: str, artist: str
) -> SpotifyTrack | None:
    """The search result that is this song by this artist; a playable one if any is.
    Never a guess: a different title or artist is no match."""
    wanted_title, wanted_artist = _base(title), normalize_name(artist)
    fits = []
    for c in candidates:
        names = [normalize_name(a) for a in c.artists]
        artist_ok = wanted_artist in names or any(n and n in wanted_artist for n in names)
        if artist_ok and _base(c.name) == wanted_title and spotify_uri(c.uri, "track"):
            fits.append(c)
    if not fits:
        return None
    return next((c for c in fits if c.playable is not False), fits[0])


def to_track(t: SpotifyTrack) -> Track:
    """A catalog track (id = the Spotify URI) from what Spotify says about it."""
    artist_name = t.artists[0] if t.artists else "Unknown artist"
    artist = Artist(
        id=artist_id(artist_name),
        name=artist_name,
        spotify_uri=t.artist_uris[0] if t.artist_uris and t.artist_uris[0] else None,
    )
    album = (
        Album(id=album_id(artist_name, t.album, t.album_uri), name=t.album, artist_id=artist.id)
        if t.album
        else None
    )
    return Track(
        id=TrackId(t.uri),
        name=t.name,
        artist=artist,
        album=album,
        duration_ms=t.duration_ms,
        explicit=t.explicit,
        year=t.year,
        decade=t.year // 10 * 10 if t.year else None,
    )
