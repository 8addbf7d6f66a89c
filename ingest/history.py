"""Readers for timestamped listening histories.

Formats, detected from the content rather than the file name:
- Spotify "extended streaming history" JSON (``ts``, ``ms_played``, ``spotify_track_uri``, ...)
  and the shorter account-data ``StreamingHistory*.json`` (``endTime``, ``artistName``, ...);
- Last.fm-1K TSV without a header (user, timestamp, artist id, artist, track id, track);
- any CSV/TSV with a header naming artist, track and a timestamp or date column (Last.fm
  scrobble exports in their many layouts).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import ijson

from ingest.columns import detect, header_key, parse_float
from ingest.files import InputError, open_bytes, open_text, skip_utf8_bom
from wavelength.domain import Album, Artist, ListeningEvent, Track, TrackId
from wavelength.ids import album_id, artist_id, spotify_uri, stable_track_id

if TYPE_CHECKING:
    from pathlib import Path

    from ingest.problems import ProblemLog

COLUMNS: dict[str, tuple[str, ...]] = {
    "artist": ("artist", "artist name", "artistname", "master metadata album artist name"),
    "track": (
        "track",
        "track name",
        "trackname",
        "title",
        "song",
        "name",
        "master metadata track name",
    ),
    "album": ("album", "album name"),
    "uri": ("spotify track uri", "track uri", "uri"),
    "epoch": ("timestamp", "uts", "unix timestamp", "timestamp utc"),
    "text_time": (
        "datetime",
        "date",
        "ts",
        "played at",
        "time",
        "endtime",
        "utc time",
        "date time",
    ),
    "ms_played": ("ms played", "msplayed"),
}

_TEXT_FORMATS = (
    "%d %b %Y, %H:%M",
    "%d %b %Y %H:%M",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M",
    "%Y/%m/%d %H:%M:%S",
)
# Plays before this are placeholders (epoch 0, 1970) rather than real listening.
_EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)


class BadTimestampError(ValueError):
    pass


def parse_time(value: Any) -> datetime:
    """Epoch seconds or milliseconds, ISO 8601, or common export formats; naive means UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch(float(value))
    text = str(value or "").strip()
    if not text:
        raise BadTimestampError("no timestamp")
    number = parse_float(text)
    if number is not None:
        return _from_epoch(number)
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _TEXT_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise BadTimestampError(f"unreadable timestamp {text[:40]!r}")
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return _plausible(parsed, text)


def _from_epoch(number: float) -> datetime:
    if number > 1e11:  # milliseconds
        number /= 1000.0
    if number <= 0:
        raise BadTimestampError(f"timestamp {number:g} is a missing value")
    return _plausible(datetime.fromtimestamp(number, tz=UTC), f"{number:g}")


def _plausible(moment: datetime, shown: str) -> datetime:
    # A year ahead as a duration: now().replace(year=+1) raises on the 29th of February.
    if moment < _EARLIEST or moment > datetime.now(UTC) + timedelta(days=366):
        raise BadTimestampError(f"timestamp {shown[:40]} ({moment:%Y-%m-%d}) is implausible")
    return moment


def _track(
    artist_name: str, track_name: str, album_name: str = "", uri: str | None = None
) -> Track:
    artist = Artist(id=artist_id(artist_name), name=artist_name)
    normalized = spotify_uri(uri, "track") if uri else None
    return Track(
        id=TrackId(normalized) if normalized else stable_track_id(artist_name, track_name),
        name=track_name,
        artist=artist,
        album=Album(id=album_id(artist_name, album_name), name=album_name, artist_id=artist.id)
        if album_name
        else None,
    )


def read_history(
    path: Path,
    problems: ProblemLog,
    on_read: Callable[[int], None] = lambda _n: None,
    *,
    source_user: str | None = None,
) -> Iterator[ListeningEvent]:
    """Yield plays from one history file in any supported format."""
    with open_bytes(path) as probe:
        head = probe.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise InputError("file is empty")
    if head[:1] in (b"[", b"{"):
        yield from _read_spotify_json(path, problems, on_read)
    else:
        yield from _read_table(path, problems, on_read, source_user)


def _read_spotify_json(
    path: Path, problems: ProblemLog, on_read: Callable[[int], None]
) -> Iterator[ListeningEvent]:
    index = -1
    try:
        with open_bytes(path, on_read) as stream:
            skip_utf8_bom(stream)  # read_history accepts one; ijson would fail on it
            for index, item in enumerate(ijson.items(stream, "item", use_float=True)):
                event = _spotify_item(item, index, path, problems)
                if event is not None:
                    yield event
    except (
        ijson.JSONError,
        ijson.IncompleteJSONError,
        UnicodeDecodeError,
        EOFError,
        OSError,
    ) as exc:
        problems.add(
            path,
            None,
            f"invalid or truncated JSON after entry #{index} ({str(exc)[:80]}); kept what came before",
        )
    if index < 0:
        problems.add(
            path,
            None,
            "no listening entries: expected a JSON list of plays (Spotify streaming history)",
        )


def _spotify_item(item: Any, index: int, path: Path, problems: ProblemLog) -> ListeningEvent | None:
    if not isinstance(item, dict):
        problems.add(path, None, f"entry #{index} is not a JSON object; skipped")
        return None
    track_name = item.get("master_metadata_track_name") or item.get("trackName")
    artist_name = item.get("master_metadata_album_artist_name") or item.get("artistName")
    if not track_name or not artist_name:
        return None  # podcast episodes and audiobooks carry no track; not an error
    try:
        played_at = parse_time(item.get("ts") or item.get("endTime"))
    except BadTimestampError as exc:
        problems.add(path, None, f"entry #{index}: {exc}; skipped")
        return None
    ms = item.get("ms_played", item.get("msPlayed"))
    return ListeningEvent(
        track=_track(
            str(artist_name).strip(),
            str(track_name).strip(),
            str(item.get("master_metadata_album_album_name") or "").strip(),
            item.get("spotify_track_uri"),
        ),
        played_at=played_at,
        ms_played=int(ms) if isinstance(ms, int | float) else None,
    )


def _looks_like_lastfm_1k(first: list[str]) -> bool:
    if len(first) != 6:
        return False
    try:
        parse_time(first[1])
    except BadTimestampError:
        return False
    return True


def _read_table(
    path: Path, problems: ProblemLog, on_read: Callable[[int], None], source_user: str | None
) -> Iterator[ListeningEvent]:
    with open_text(path, problems, on_read) as text:
        first_line = text.readline()
        delimiter = "\t" if "\t" in first_line else ","
        quoting: Literal[0, 1, 2, 3] = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
        # The first line is parsed like the rest: in an unquoted TSV a leading '"' is part of
        # a name, and treating it as a quote could swallow the tabs after it.
        first = next(csv.reader([first_line], delimiter=delimiter, quoting=quoting), [])
        reader = csv.reader(text, delimiter=delimiter, quoting=quoting)
        if _looks_like_lastfm_1k(first):
            rows: Iterator[tuple[int, list[str]]] = _chain_first(first, reader)
            yield from _lastfm_1k(path, rows, problems, source_user)
            return
        columns = detect(first, COLUMNS)
        if (
            "artist" not in columns
            or "track" not in columns
            or not ({"epoch", "text_time"} & columns.keys())
        ):
            raise InputError(
                "can't tell the format: expected Spotify streaming-history JSON, Last.fm-1K TSV, "
                "or a CSV with artist, track and timestamp/date columns; found columns: "
                + ", ".join(header_key(h) for h in first[:20])
            )
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            # reader.line_num starts after the header line, which was read above.
            event = _table_row(row, columns, path, reader.line_num + 1, problems)
            if event is not None:
                yield event


def _chain_first(first: list[str], reader: Any) -> Iterator[tuple[int, list[str]]]:
    yield 1, first
    for row in reader:
        yield reader.line_num + 1, row  # the reader began after the first line


def _lastfm_1k(
    path: Path, rows: Iterator[tuple[int, list[str]]], problems: ProblemLog, source_user: str | None
) -> Iterator[ListeningEvent]:
    users: set[str] = set()
    for line, row in rows:
        if len(row) != 6:
            problems.add(path, line, f"expected 6 tab-separated fields, found {len(row)}; skipped")
            continue
        user, stamp, _artist_mbid, artist_name, _track_mbid, track_name = (c.strip() for c in row)
        if source_user is not None and user != source_user:
            continue
        users.add(user)
        if not artist_name or not track_name:
            problems.add(path, line, "no artist or track name; skipped")
            continue
        try:
            played_at = parse_time(stamp)
        except BadTimestampError as exc:
            problems.add(path, line, f"{exc}; skipped")
            continue
        yield ListeningEvent(track=_track(artist_name, track_name), played_at=played_at)
    if len(users) > 1:
        problems.note(
            f"{path} holds plays of {len(users)} Last.fm users, all imported into one Wavelength user; "
            "pass --source-user to import one of them"
        )


def _table_row(
    row: list[str], columns: dict[str, int], path: Path, line: int, problems: ProblemLog
) -> ListeningEvent | None:
    def cell(name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    artist_name, track_name = cell("artist"), cell("track")
    if not artist_name or not track_name:
        problems.add(path, line, "no artist or track name; skipped")
        return None
    played_at: datetime | None = None
    error: BadTimestampError | None = None
    for column in ("epoch", "text_time"):
        if column in columns:
            try:
                played_at = parse_time(cell(column))
                break
            except BadTimestampError as exc:
                error = error or exc
    if played_at is None:
        problems.add(path, line, f"{error or 'no timestamp'}; skipped")
        return None
    ms = parse_float(cell("ms_played"))
    return ListeningEvent(
        track=_track(artist_name, track_name, cell("album"), cell("uri") or None),
        played_at=played_at,
        ms_played=int(ms) if ms is not None else None,
    )
