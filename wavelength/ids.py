"""Stable identifiers.

Tracks from different sources are joined on the Spotify URI. Where a source has none
(Last.fm scrobbles, mood datasets), the id is derived from the normalized artist and title,
so the same song read twice, from any file, gets the same id.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from wavelength.domain import AlbumId, ArtistId, TrackId

_BASE62_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_URI = re.compile(r"^spotify:(track|artist|album|playlist):([0-9A-Za-z]{22})$")
_URL = re.compile(
    r"^https?://open\.spotify\.com/(?:intl-[a-z-]+/)?(track|artist|album|playlist)/([0-9A-Za-z]{22})"
)
_NON_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=1 << 16)
def normalize_name(text: str) -> str:
    """Casefold, strip accents and punctuation, collapse spaces: 'Beyoncé ' -> 'beyonce'."""
    if text.isascii():  # the common case, ten times cheaper
        return _NON_WORD.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", without_marks.casefold()).strip()


def spotify_uri(value: str, kind: str) -> str | None:
    """Return ``spotify:<kind>:<id>`` for a URI, an open.spotify.com URL or a bare id."""
    value = value.strip()
    if match := _URI.match(value):
        return value if match.group(1) == kind else None
    if match := _URL.match(value):
        return f"spotify:{kind}:{match.group(2)}" if match.group(1) == kind else None
    if _BASE62_ID.match(value):
        return f"spotify:{kind}:{value}"
    return None


def _digest(*parts: str) -> str:
    joined = "\x1f".join(parts).encode("utf-8")
    return hashlib.blake2b(joined, digest_size=10).hexdigest()


def match_key(artist_name: str, track_name: str) -> str:
    """The key that joins a URI-less play to a catalog track by artist and title."""
    return f"{normalize_name(artist_name)}\x1f{normalize_name(track_name)}"


def stable_track_id(artist_name: str, track_name: str) -> TrackId:
    return TrackId("wl:track:" + _digest(normalize_name(artist_name), normalize_name(track_name)))


@lru_cache(maxsize=1 << 16)
def artist_id(artist_name: str) -> ArtistId:
    # Artists are keyed by normalized name: most sources (CSV, trimmed MPD, Last.fm) carry
    # only the name, and joining them is the point. Homonymous artists merge; the Spotify
    # artist URI is kept beside the id when a source has it.
    return ArtistId("wl:artist:" + _digest(normalize_name(artist_name)))


def album_id(artist_name: str, album_name: str, uri: str | None = None) -> AlbumId:
    if uri and (normalized := spotify_uri(uri, "album")):
        return AlbumId(normalized)
    return AlbumId("wl:album:" + _digest(normalize_name(artist_name), normalize_name(album_name)))
