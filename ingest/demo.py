"""The bundled demo catalog: real, factual track metadata small enough to ship.

Built from the Spotify Hit Predictor files (tracks, URIs, audio features, decade) and the
Spotify Top 2000 file (exact year, genre), with artist genres joined by artist name from
an artists-with-genres export. No playlists: collaborative data comes from what users ingest.
"""

from __future__ import annotations

import csv
import gzip
import io
from importlib.resources import files
from pathlib import Path

from ingest.artists_csv import read_artists
from ingest.problems import ProblemLog
from ingest.tracks_csv import read_tracks
from wavelength.domain import FEATURE_NAMES, Track
from wavelength.ids import normalize_name

DEMO_VERSION = "demo-catalog-v1"
MAX_GENRES = 5
HEADER = (
    "track_uri",
    "track_name",
    "artist_name",
    "genres",
    "year",
    "decade",
    "popularity",
    "duration_ms",
    *FEATURE_NAMES,
)


def demo_catalog_path() -> Path:
    return Path(str(files("wavelength") / "data" / "demo_catalog.csv.gz"))


def _row(track: Track, genres: tuple[str, ...]) -> list[object]:
    own = [g.strip() for g in (track.genre or "").split(",") if g.strip()]
    merged = list(dict.fromkeys([*own, *genres]))[:MAX_GENRES]
    features = [getattr(track.features, name) for name in FEATURE_NAMES]
    return [
        track.id if track.id.startswith("spotify:") else "",
        track.name,
        track.artist.name,
        "|".join(merged),
        track.year or "",
        track.decade or "",
        track.popularity if track.popularity is not None else "",
        track.duration_ms or "",
        *(round(v, 4) if isinstance(v, float) else ("" if v is None else v) for v in features),
    ]


def build_demo_catalog(tracks_dir: Path, out: Path) -> int:
    """Write the demo catalog from a folder laid out like ``shared/data/tracks``; returns rows."""
    problems = ProblemLog()
    genres = {
        normalize_name(a.name): a.genres
        for a in read_artists(tracks_dir / "data_w_genres.csv", problems)
        if a.genres
    }
    sources = [
        *sorted((tracks_dir / "hit_predictor").glob("dataset-of-*.csv")),
        tracks_dir / "Spotify-2000.csv",
    ]
    seen: dict[str, list[object]] = {}
    for source in sources:
        for track in read_tracks(source, problems):
            seen[track.id] = _row(track, genres.get(normalize_name(track.artist.name), ()))
    out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 makes the file byte-identical across rebuilds of the same inputs.
    with (
        out.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as zipped,
    ):
        text = io.TextIOWrapper(zipped, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(seen[key] for key in sorted(seen))
        text.flush()
        text.detach()
    return len(seen)
