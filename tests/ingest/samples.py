"""Builders for small ingest inputs with known answers: MPD slices, CSVs, histories."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any


def uri(n: int, kind: str = "track") -> str:
    """A valid Spotify URI: ``spotify:track:0000...0042`` (22 base62 characters)."""
    return f"spotify:{kind}:{n:022d}"


def mpd_track(n: int, *, name: str | None = None, artist: str = "Nina Simone") -> dict[str, Any]:
    """A track object as the trimmed MPD has it (only artist_name, track_uri, track_name)."""
    return {"artist_name": artist, "track_uri": uri(n), "track_name": name or f"Song {n}"}


def mpd_full_track(n: int, pos: int) -> dict[str, Any]:
    """A track object with every field of the original MPD schema."""
    return {
        "pos": pos,
        "artist_name": "Nina Simone",
        "track_uri": uri(n),
        "artist_uri": uri(900, "artist"),
        "track_name": f"Song {n}",
        "album_uri": uri(800, "album"),
        "duration_ms": 180_000 + n,
        "album_name": "Pastel Blues",
    }


def mpd_playlist(pid: int, tracks: list[Any], **fields: Any) -> dict[str, Any]:
    return {"name": f"mix {pid}", "pid": pid, "num_followers": 10, "tracks": tracks, **fields}


def mpd_slice(*playlists: dict[str, Any]) -> str:
    """Slice JSON, pretty-printed like the real files so errors have meaningful line numbers."""
    info = {"generated_on": "2017-12-03 08:41:42.057563", "slice": "0-999", "version": "v1"}
    return json.dumps({"info": info, "playlists": list(playlists)}, indent=2)


class Writer:
    """``write("a.csv", "text")`` writes text (any encoding, optionally gzipped) or bytes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode(encoding) if isinstance(content, str) else content
        if name.endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        path.write_bytes(data)
        return path
