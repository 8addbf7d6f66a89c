"""Batched, transactional, idempotent ingestion with a progress bar.

Each batch is written in one transaction, so a crash or a dead database loses at most the
batch in flight and never leaves half of one behind; re-running picks up where it stopped
because every write is insert-if-absent or a non-destructive upsert.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, TypeVar

from sqlalchemy import func, select
from tqdm import tqdm

from ingest.artists_csv import read_artists
from ingest.files import InputError, expand_paths
from ingest.history import read_history
from ingest.mpd import read_playlists
from ingest.tracks_csv import read_tracks
from storage import catalog
from storage.models import TrackRow
from wavelength.ids import match_key

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Connection, Engine

    from ingest.problems import ProblemLog
    from wavelength.domain import Artist, ListeningEvent, Playlist, Track

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

PLAYLIST_SUFFIXES = (".json",)
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
HISTORY_SUFFIXES = (".json", ".csv", ".tsv", ".txt")
_KNOWN_TRACKS_CAP = 1_000_000


class Reader(Protocol[T_co]):
    def __call__(
        self, path: Path, problems: ProblemLog, on_read: Callable[[int], None], /
    ) -> Iterator[T_co]: ...


@dataclass(frozen=True, slots=True)
class IngestReport:
    kind: str
    files: int
    files_failed: int
    read: int
    added: int
    rows: int
    seconds: float
    problems: int
    batch_seconds: tuple[float, ...] = ()

    @property
    def nothing_read(self) -> bool:
        return self.read == 0

    def summary(self) -> str:
        rate = self.read / self.seconds if self.seconds > 0 else 0.0
        extra = f" ({self.rows:,} track rows)" if self.rows else ""
        failed = f", {self.files_failed} could not be read" if self.files_failed else ""
        return (
            f"{self.kind}: read {self.read:,}{extra} from {self.files} file(s){failed} in {self.seconds:.1f} s "
            f"({rate:,.0f}/s); {self.added:,} new, {self.read - self.added:,} already known or merged; "
            f"{self.problems} problem(s)"
        )


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _run(
    kind: str,
    engine: Engine,
    files: Sequence[Path],
    read: Reader[T],
    write: Callable[[Connection, list[T]], int],
    *,
    batch_size: int,
    problems: ProblemLog,
    progress: bool,
    rows_of: Callable[[T], int] = lambda _item: 0,
) -> IngestReport:
    started = time.perf_counter()
    counts = {"read": 0, "added": 0, "rows": 0, "failed": 0}
    bar = tqdm(
        total=sum(f.stat().st_size for f in files),
        unit="B",
        unit_scale=True,
        desc=f"ingest {kind}",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )

    def records() -> Iterator[T]:
        for path in files:
            try:
                for record in read(path, problems, bar.update):
                    counts["read"] += 1
                    counts["rows"] += rows_of(record)
                    yield record
            except InputError as exc:
                counts["failed"] += 1
                problems.add(path, None, str(exc))
            except (OSError, UnicodeError) as exc:
                counts["failed"] += 1
                problems.add(path, None, f"could not read: {exc}")

    batch_seconds: list[float] = []
    try:
        for batch in _batches(records(), batch_size):
            began = time.perf_counter()
            with engine.begin() as conn:
                counts["added"] += write(conn, batch)
            batch_seconds.append(time.perf_counter() - began)
            bar.set_postfix({kind: f"{counts['read']:,}"}, refresh=False)
    finally:
        bar.close()
    return IngestReport(
        kind=kind,
        files=len(files),
        files_failed=counts["failed"],
        read=counts["read"],
        added=counts["added"],
        rows=counts["rows"],
        seconds=time.perf_counter() - started,
        problems=len(problems),
        batch_seconds=tuple(batch_seconds),
    )


def _new_tracks(conn: Connection, tracks: Sequence[Track]) -> int:
    ids = list({t.id for t in tracks})
    existing = conn.execute(
        select(func.count()).select_from(TrackRow).where(TrackRow.id.in_(ids))
    ).scalar_one()
    return len(ids) - int(existing)


def ingest_playlists(
    engine: Engine,
    paths: Iterable[Path],
    *,
    problems: ProblemLog,
    batch_size: int = 500,
    progress: bool = True,
) -> IngestReport:
    """Ingest MPD slices (files or folders of ``*.json`` / ``*.json.gz``)."""
    files = expand_paths(paths, PLAYLIST_SUFFIXES, problems)
    written: set[str] = set()

    def write(conn: Connection, batch: list[Playlist]) -> int:
        added = catalog.insert_playlists(conn=conn, playlists=batch, known_tracks=written)
        if len(written) > _KNOWN_TRACKS_CAP:
            written.clear()  # bounded memory; forgetting only costs a redundant upsert
        written.update(t.id for p in batch for t in p.tracks)
        return added

    return _run(
        "playlists",
        engine,
        files,
        read_playlists,
        write,
        batch_size=batch_size,
        problems=problems,
        progress=progress,
        rows_of=lambda p: len(p.tracks),
    )


def ingest_tracks(
    engine: Engine,
    paths: Iterable[Path],
    *,
    problems: ProblemLog,
    batch_size: int = 2000,
    progress: bool = True,
) -> IngestReport:
    """Ingest track CSVs; tracks already known gain the new facts (features, genre, year)."""
    files = expand_paths(paths, TABLE_SUFFIXES, problems)

    def write(conn: Connection, batch: list[Track]) -> int:
        new = _new_tracks(conn, batch)
        catalog.upsert_tracks(conn=conn, tracks=batch)
        return new

    return _run(
        "tracks",
        engine,
        files,
        read_tracks,
        write,
        batch_size=batch_size,
        problems=problems,
        progress=progress,
    )


def ingest_artists(
    engine: Engine,
    paths: Iterable[Path],
    *,
    problems: ProblemLog,
    batch_size: int = 2000,
    progress: bool = True,
) -> IngestReport:
    """Ingest artist CSVs with genres, joined to tracks by artist name."""
    files = expand_paths(paths, TABLE_SUFFIXES, problems)

    def write(conn: Connection, batch: list[Artist]) -> int:
        from storage.models import ArtistRow

        ids = list({a.id for a in batch})
        existing = conn.execute(
            select(func.count()).select_from(ArtistRow).where(ArtistRow.id.in_(ids))
        ).scalar_one()
        catalog.upsert_artists(conn=conn, artists=batch)
        return len(ids) - int(existing)

    return _run(
        "artists",
        engine,
        files,
        read_artists,
        write,
        batch_size=batch_size,
        problems=problems,
        progress=progress,
    )


def _resolve(conn: Connection, events: list[ListeningEvent]) -> list[ListeningEvent]:
    """Point URI-less plays at the catalog track with the same artist and title, if any."""
    keyed = {
        match_key(e.track.artist.name, e.track.name)
        for e in events
        if not e.track.id.startswith("spotify:")
    }
    found = catalog.tracks_by_match_key(conn=conn, keys=keyed)
    resolved: list[ListeningEvent] = []
    for event in events:
        if event.track.id.startswith("spotify:"):
            resolved.append(event)
            continue
        target = found.get(match_key(event.track.artist.name, event.track.name))
        resolved.append(replace(event, track=replace(event.track, id=target)) if target else event)
    return resolved


def ingest_history(
    engine: Engine,
    paths: Iterable[Path],
    *,
    user: str,
    problems: ProblemLog,
    source_user: str | None = None,
    batch_size: int = 2000,
    progress: bool = True,
) -> IngestReport:
    """Ingest listening histories for the Wavelength user ``user`` (created if new)."""
    files = expand_paths(paths, HISTORY_SUFFIXES, problems)
    with engine.begin() as conn:
        user_id = catalog.get_or_create_user(conn=conn, name=user)

    def read(
        path: Path, log: ProblemLog, on_read: Callable[[int], None]
    ) -> Iterator[ListeningEvent]:
        return read_history(path, log, on_read, source_user=source_user)

    def write(conn: Connection, batch: list[ListeningEvent]) -> int:
        events = _resolve(conn, batch)
        known = set(
            conn.scalars(select(TrackRow.id).where(TrackRow.id.in_({e.track.id for e in events})))
        )
        catalog.upsert_tracks(
            conn=conn, tracks=[e.track for e in events if e.track.id not in known]
        )
        return catalog.insert_listening_events(
            conn=conn, user_id=user_id, events=events, source="import"
        )

    return _run(
        "history",
        engine,
        files,
        read,
        write,
        batch_size=batch_size,
        problems=problems,
        progress=progress,
    )
