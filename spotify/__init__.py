"""The Spotify boundary: what Wavelength needs from Spotify (``SpotifyApi``), the spotipy
adapter that provides it, OAuth and token storage, and the helpers pushes and imports share.
Nothing outside this package imports spotipy."""

from spotify.api import (
    MAX_ITEMS_PER_REQUEST,
    SCOPES,
    BadRequest,
    ConfigError,
    Forbidden,
    LinkRevoked,
    NotFound,
    NotLinked,
    Played,
    PlaylistInfo,
    Profile,
    RateLimited,
    Saved,
    SpotifyApi,
    SpotifyError,
    SpotifyTrack,
    Unavailable,
)
from spotify.auth import SpotifyConfig, parse_redirect
from spotify.crypto import TokenBox

__all__ = [
    "MAX_ITEMS_PER_REQUEST",
    "SCOPES",
    "BadRequest",
    "ConfigError",
    "Forbidden",
    "LinkRevoked",
    "NotFound",
    "NotLinked",
    "Played",
    "PlaylistInfo",
    "Profile",
    "RateLimited",
    "Saved",
    "SpotifyApi",
    "SpotifyConfig",
    "SpotifyError",
    "SpotifyTrack",
    "TokenBox",
    "Unavailable",
    "parse_redirect",
]
