"""Streaming reader for Million Playlist Dataset slices (full or trimmed schema)."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import ijson

from ingest.files import InputError, open_bytes, skip_utf8_bom
from wavelength.domain import Album, Artist, Playlist, PlaylistId, Track, TrackId
from wavelength.ids import album_id, artist_id, spotify_uri

if TYPE_CHECKING:
    from pathlib import Path

    from ingest.problems import ProblemLog

# Above this size a broken file is not re-read just to find the line of the error.
_MAX_RESCAN_BYTES = 256 << 20


def read_playlists(
    path: Path, problems: ProblemLog, on_read: Callable[[int], None] = lambda _n: None
) -> Iterator[Playlist]:
    """Yield the playlists of one slice, one at a time, skipping (and reporting) bad ones."""
    with open_bytes(path) as probe:
        # A file re-saved by a Windows editor may start with a BOM.
        head = probe.read(4096).removeprefix(codecs.BOM_UTF8).lstrip()
    if not head:
        raise InputError("file is empty")
    if not head.startswith(b"{"):
        raise InputError("not an MPD slice: expected a JSON object with a 'playlists' list")
    count = 0
    try:
        with open_bytes(path, on_read) as stream:
            skip_utf8_bom(stream)  # ijson fails on a BOM
            for index, raw in enumerate(ijson.items(stream, "playlists.item", use_float=True)):
                playlist = _playlist(raw, index, path, problems)
                if playlist is not None:
                    count += 1
                    yield playlist
    except (
        ijson.JSONError,
        ijson.IncompleteJSONError,
        UnicodeDecodeError,
        EOFError,
        OSError,
    ) as exc:
        problems.add(
            path,
            _error_line(path),
            f"invalid or truncated JSON ({_short(exc)}); kept the {count} playlists before it",
        )
        return
    if count == 0:
        problems.note(f"{path} holds no playlists")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:120] if text else type(exc).__name__


def _error_line(path: Path) -> int | None:
    """Line of the first JSON error, found by a full parse only on the error path."""
    if path.stat().st_size > _MAX_RESCAN_BYTES:
        return None
    try:
        with open_bytes(path) as stream:
            json.loads(stream.read())
    except json.JSONDecodeError as exc:
        return exc.lineno
    except (UnicodeDecodeError, EOFError, OSError, ValueError):
        return None
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _playlist(raw: Any, index: int, path: Path, problems: ProblemLog) -> Playlist | None:
    where = f"playlist #{index}"
    if not isinstance(raw, dict):
        problems.add(path, None, f"{where} is not a JSON object; skipped")
        return None
    pid = _int(raw.get("pid"))
    if pid is None:
        problems.add(path, None, f"{where} has no integer 'pid'; skipped")
        return None
    where = f"playlist pid={pid}"
    raw_tracks = raw.get("tracks")
    if not isinstance(raw_tracks, list):
        problems.add(path, None, f"{where} has no 'tracks' list; skipped")
        return None
    tracks: list[Track] = []
    for position, raw_track in enumerate(raw_tracks):
        track = _track(raw_track)
        if track is None:
            problems.add(
                path,
                None,
                f"{where} track #{position} lacks a valid track_uri, track_name or artist_name; skipped",
            )
        else:
            tracks.append(track)
    if not tracks:
        problems.add(path, None, f"{where} has no usable tracks; skipped")
        return None
    name = raw.get("name")
    return Playlist(
        id=PlaylistId(f"mpd:{pid}"),
        name=str(name).strip() if name is not None else "",
        description=str(raw["description"]) if raw.get("description") else None,
        num_followers=_int(raw.get("num_followers")),
        modified_at=_int(raw.get("modified_at")),
        collaborative=_bool(raw.get("collaborative")),
        tracks=tuple(tracks),
    )


@lru_cache(maxsize=1 << 16)
def _artist(name: str, uri: str | None) -> Artist:
    # Playlists repeat artists constantly; one shared value each saves most of the parse time.
    return Artist(
        id=artist_id(name), name=name, spotify_uri=spotify_uri(uri, "artist") if uri else None
    )


def _track(raw: Any) -> Track | None:
    if not isinstance(raw, dict):
        return None
    duration = raw.get("duration_ms")
    return _track_from(
        str(raw.get("track_uri") or ""),
        str(raw.get("track_name") or "").strip(),
        str(raw.get("artist_name") or "").strip(),
        raw.get("artist_uri") or None,
        str(raw.get("album_name") or "").strip(),
        raw.get("album_uri") or None,
        int(duration)
        if isinstance(duration, int | float) and not isinstance(duration, bool)
        else None,
    )


@lru_cache(maxsize=1 << 17)
def _track_from(
    raw_uri: str,
    name: str,
    artist_name: str,
    artist_uri: str | None,
    album_name: str,
    album_uri: str | None,
    duration_ms: int | None,
) -> Track | None:
    # Popular tracks recur across thousands of playlists; building each value once per
    # distinct row halves the parse time on MPD-shaped data.
    uri = spotify_uri(raw_uri, "track")
    if uri is None or not name or not artist_name:
        return None
    artist = _artist(artist_name, artist_uri)
    album = (
        Album(id=album_id(artist_name, album_name, album_uri), name=album_name, artist_id=artist.id)
        if album_name
        else None
    )
    return Track(id=TrackId(uri), name=name, artist=artist, album=album, duration_ms=duration_ms)
