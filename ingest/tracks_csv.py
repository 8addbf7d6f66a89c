"""Streaming reader for track CSVs with whatever columns they have.

Handles the quirks of real files: column names that differ per source, features on a 0-100
scale instead of 0-1, durations in seconds, genres as list literals, the decade only in the
file name ("dataset-of-60s.csv"), and rows wrapped whole in quotes.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.columns import detect, header_key, parse_bool, parse_float, split_list, split_names
from ingest.files import InputError, open_text
from wavelength.domain import Album, Artist, AudioFeatures, Track, TrackId
from wavelength.ids import album_id, artist_id, spotify_uri, stable_track_id

if TYPE_CHECKING:
    from pathlib import Path

    from ingest.problems import ProblemLog

csv.field_size_limit(1 << 24)

UNIT_FEATURES = (
    "danceability",
    "energy",
    "valence",
    "acousticness",
    "instrumentalness",
    "speechiness",
    "liveness",
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "uri": ("track uri", "spotify uri", "uri", "spotify id", "track id", "id"),
    "name": ("track name", "name", "track", "title", "song", "song name"),
    "artist": ("artist name", "artists", "artist", "artist(s) name"),
    "album": ("album name", "album"),
    "popularity": ("popularity", "track popularity"),
    "explicit": ("explicit",),
    "duration_ms": ("duration ms", "duration"),
    "duration_s": ("length (duration)", "length", "duration s", "duration (s)"),
    "genre": ("genre", "top genre", "track genre", "genres", "playlist genre"),
    "year": ("year", "release year"),
    "release_date": ("release date", "album release date"),
    "decade": ("decade",),
    "danceability": ("danceability",),
    "energy": ("energy",),
    "valence": ("valence",),
    "acousticness": ("acousticness",),
    "instrumentalness": ("instrumentalness",),
    "speechiness": ("speechiness",),
    "liveness": ("liveness",),
    "tempo": ("tempo", "beats per minute (bpm)", "bpm"),
    "loudness": ("loudness", "loudness (db)"),
    "mode": ("mode",),
    "key": ("key",),
}

_DECADE_IN_NAME = re.compile(r"(?:^|[^0-9])(\d0)s(?:[^0-9]|$)")
_YEAR = re.compile(r"(1[89]\d\d|20\d\d)")
_SNIFF_ROWS = 500


@dataclass(frozen=True, slots=True)
class _Layout:
    columns: dict[str, int]
    percent_scale: frozenset[str]
    file_decade: int | None
    width: int


def decade_from_filename(name: str) -> int | None:
    """'dataset-of-60s.csv' -> 1960, '...-00s' -> 2000, '...-10s' -> 2010."""
    match = _DECADE_IN_NAME.search(name)
    if not match:
        return None
    two = int(match.group(1))
    return 1900 + two if two >= 30 else 2000 + two


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", "\t", ";")}
    return max(counts, key=lambda d: counts[d])


def _unwrap(row: list[str], width: int, delimiter: str) -> list[str]:
    # Some exports quote a whole row, so it parses as one cell holding the real row.
    if len(row) == 1 and width > 1 and delimiter in row[0]:
        return next(csv.reader([row[0]], delimiter=delimiter))
    return row


def read_tracks(
    path: Path, problems: ProblemLog, on_read: Callable[[int], None] = lambda _n: None
) -> Iterator[Track]:
    """Yield one Track per usable row; report unusable rows with their line number."""
    with open_text(path, problems, on_read) as text:
        header_line = text.readline()
        delimiter = _delimiter(header_line)
        header = next(csv.reader([header_line], delimiter=delimiter), [])
        reader = csv.reader(text, delimiter=delimiter)
        # The reader starts after the header line, so its line_num is one short of the file's.
        head = [(reader.line_num + 1, row) for row in itertools.islice(reader, _SNIFF_ROWS)]
        layout = _layout(path, header, [r for _, r in head], delimiter, problems)
        yield from _rows(path, layout, head, problems, delimiter)
        for row in reader:
            yield from _rows(path, layout, [(reader.line_num + 1, row)], problems, delimiter)


def _layout(
    path: Path, header: list[str], sample: list[list[str]], delimiter: str, problems: ProblemLog
) -> _Layout:
    columns = detect(header, COLUMNS)
    if "name" not in columns or "artist" not in columns:
        raise InputError(
            "can't find the track title and artist columns; found: "
            + ", ".join(header_key(h) for h in header[:30])
            + ". Expected e.g. track_name/name/title and artist_name/artists/artist"
        )
    used = set(columns.values())
    ignored = [header_key(h) for i, h in enumerate(header) if i not in used and header_key(h)]
    if ignored:
        problems.note(
            f"{path}: ignored columns {', '.join(ignored[:12])}{' ...' if len(ignored) > 12 else ''}"
        )
    rows = [_unwrap(r, len(header), delimiter) for r in sample]
    percent: set[str] = set()
    for feature in UNIT_FEATURES:
        if feature not in columns:
            continue
        values = [
            v
            for r in rows
            if len(r) > columns[feature] and (v := parse_float(r[columns[feature]])) is not None
        ]
        if values and min(values) < 0:
            # Not Spotify's 0..1 scale (e.g. standardized valence from a mood dataset).
            problems.note(f"{path}: column {feature} is not on a 0-1 or 0-100 scale; ignored")
            del columns[feature]
        elif values and max(values) > 1.0:
            percent.add(feature)
    return _Layout(columns, frozenset(percent), decade_from_filename(path.name), len(header))


def _rows(
    path: Path,
    layout: _Layout,
    rows: Sequence[tuple[int, list[str]]],
    problems: ProblemLog,
    delimiter: str,
) -> Iterator[Track]:
    for line, raw in rows:
        if not any(cell.strip() for cell in raw):
            continue
        row = _unwrap(raw, layout.width, delimiter)
        try:
            track = _track(row, layout)
        except ValueError as exc:
            problems.add(path, line, f"{exc}; row skipped")
            continue
        yield track


def _cell(row: list[str], layout: _Layout, name: str) -> str:
    index = layout.columns.get(name)
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _number(row: list[str], layout: _Layout, name: str) -> float | None:
    value = parse_float(_cell(row, layout, name))
    if value is not None and name in layout.percent_scale:
        value /= 100.0
    return value


def _int(value: float | None) -> int | None:
    return round(value) if value is not None else None


def _track(row: list[str], layout: _Layout) -> Track:
    name = _cell(row, layout, "name")
    artists = split_names(_cell(row, layout, "artist"))
    if not name or not artists:
        raise ValueError("no track title" if not name else "no artist")
    artist_name = artists[0]
    raw_uri = _cell(row, layout, "uri")
    uri = spotify_uri(raw_uri, "track") if raw_uri else None
    artist = Artist(id=artist_id(artist_name), name=artist_name)
    album_name = _cell(row, layout, "album")
    duration = _number(row, layout, "duration_ms")
    if duration is None and (seconds := _number(row, layout, "duration_s")) is not None:
        duration = seconds * 1000
    year = _int(_number(row, layout, "year"))
    if year is None and (match := _YEAR.search(_cell(row, layout, "release_date"))):
        year = int(match.group(1))
    if year is not None and not 1880 <= year <= 2100:
        year = None
    decade = (year // 10 * 10) if year is not None else _int(_number(row, layout, "decade"))
    if decade is None or not 1880 <= decade <= 2100:
        decade = layout.file_decade
    genres = split_list(_cell(row, layout, "genre"))
    features = AudioFeatures(
        danceability=_number(row, layout, "danceability"),
        energy=_number(row, layout, "energy"),
        valence=_number(row, layout, "valence"),
        acousticness=_number(row, layout, "acousticness"),
        instrumentalness=_number(row, layout, "instrumentalness"),
        speechiness=_number(row, layout, "speechiness"),
        liveness=_number(row, layout, "liveness"),
        tempo=_number(row, layout, "tempo"),
        loudness=_number(row, layout, "loudness"),
        mode=_int(_number(row, layout, "mode")),
        key=_int(_number(row, layout, "key")),
    )
    return Track(
        id=TrackId(uri) if uri else stable_track_id(artist_name, name),
        name=name,
        artist=artist,
        album=Album(id=album_id(artist_name, album_name), name=album_name, artist_id=artist.id)
        if album_name
        else None,
        duration_ms=_int(duration),
        popularity=_int(_number(row, layout, "popularity")),
        explicit=parse_bool(_cell(row, layout, "explicit")),
        year=year,
        decade=decade,
        genre=", ".join(genres) if genres else None,
        features=features,
    )
