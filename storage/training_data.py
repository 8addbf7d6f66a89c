"""Streams of catalog facts for training: tracks with their artist, playlist tags, co-occurrence.

Every reader streams (server-side cursors on PostgreSQL, ``yield_per`` everywhere), so training
memory is bounded by what the models keep, not by the catalog size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from storage.catalog import GENRE_SEPARATOR
from storage.models import ArtistRow, PlaylistItemRow, PlaylistRow, TrackRow
from wavelength.domain import (
    FEATURE_NAMES,
    Artist,
    ArtistId,
    AudioFeatures,
    PlaylistId,
    Track,
    TrackId,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Connection

_STREAM = {"stream_results": True, "yield_per": 5000}


@dataclass(frozen=True, slots=True)
class CatalogTrack:
    track: Track
    genres: tuple[str, ...]  # the artist's genres (tracks rarely carry their own)


@dataclass(frozen=True, slots=True)
class PlaylistText:
    id: PlaylistId
    name: str
    description: str | None
    num_followers: int | None


def count_tracks(*, conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(TrackRow)) or 0)


def count_playlist_items(*, conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(PlaylistItemRow)) or 0)


def track_columns() -> tuple[Any, ...]:
    """The columns ``row_to_track`` reads, joined with the artist."""
    features = [getattr(TrackRow, name) for name in FEATURE_NAMES]
    return (
        TrackRow.id,
        TrackRow.name,
        TrackRow.popularity,
        TrackRow.explicit,
        TrackRow.year,
        TrackRow.decade,
        TrackRow.genre,
        ArtistRow.id,
        ArtistRow.name,
        ArtistRow.genres,
        *features,
    )


def row_to_track(row: Sequence[Any]) -> Track:
    (tid, name, popularity, explicit, year, decade, genre, aid, aname, agenres) = row[:10]
    genres = tuple(agenres.split(GENRE_SEPARATOR)) if agenres else ()
    return Track(
        id=TrackId(tid),
        name=name,
        artist=Artist(id=ArtistId(aid), name=aname, genres=genres),
        popularity=popularity,
        explicit=explicit,
        year=year,
        decade=decade,
        genre=genre,
        features=AudioFeatures(**dict(zip(FEATURE_NAMES, row[10:], strict=True))),
    )


def iter_tracks(*, conn: Connection) -> Generator[CatalogTrack, None, None]:
    """Every track with its artist, ordered by id (stable across runs)."""
    stmt = (
        select(*track_columns())
        .join(ArtistRow, ArtistRow.id == TrackRow.artist_id)
        .order_by(TrackRow.id)
    )
    # ``with``: a reader that stops early (and closes this generator) closes the server-side
    # cursor too, instead of leaving it to the garbage collector.
    with conn.execution_options(**_STREAM).execute(stmt) as rows:
        for row in rows:
            track = row_to_track(row)
            yield CatalogTrack(track=track, genres=track.artist.genres)


def track_artists(*, conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    """Artist id of each given track id (one streamed pass; cheaper than huge IN lists)."""
    wanted = set(ids)
    stmt = select(TrackRow.id, TrackRow.artist_id)
    return {
        tid: aid for tid, aid in conn.execution_options(**_STREAM).execute(stmt) if tid in wanted
    }


def iter_playlists(*, conn: Connection) -> Generator[PlaylistText, None, None]:
    stmt = select(
        PlaylistRow.id, PlaylistRow.name, PlaylistRow.description, PlaylistRow.num_followers
    ).order_by(PlaylistRow.id)
    with conn.execution_options(**_STREAM).execute(stmt) as rows:
        for pid, name, description, followers in rows:
            yield PlaylistText(PlaylistId(pid), name, description, followers)


def iter_playlist_items(*, conn: Connection) -> Iterator[tuple[str, str]]:
    """(playlist id, track id) pairs, grouped by playlist."""
    stmt = select(PlaylistItemRow.playlist_id, PlaylistItemRow.track_id).order_by(
        PlaylistItemRow.playlist_id, PlaylistItemRow.position
    )
    rows = conn.execution_options(**_STREAM).execute(stmt)
    yield from ((pid, tid) for pid, tid in rows)


def playlist_tags(
    *, conn: Connection, clean: Callable[[str], str | None], top: int = 5
) -> dict[str, tuple[str, ...]]:
    """The ``top`` most common (cleaned) names of the playlists each track is on: how people
    describe a track in their own words. Only tracks on at least one playlist appear."""
    stmt = (
        select(PlaylistItemRow.track_id, PlaylistRow.name, func.count())
        .join(PlaylistRow, PlaylistRow.id == PlaylistItemRow.playlist_id)
        .group_by(PlaylistItemRow.track_id, PlaylistRow.name)
        .order_by(PlaylistItemRow.track_id)
    )
    tags: dict[str, tuple[str, ...]] = {}
    current: str | None = None
    counts: Counter[str] = Counter()
    cleaned: dict[str, str | None] = {}  # playlist names repeat a lot ("chill", "summer")

    def flush() -> None:
        if current is not None and counts:
            tags[current] = tuple(t for t, _ in counts.most_common(top))

    for tid, name, n in conn.execution_options(**_STREAM).execute(stmt):
        if tid != current:
            flush()
            current, counts = tid, Counter()
        if name not in cleaned:
            cleaned[name] = clean(name)
        tag = cleaned[name]
        if tag:
            counts[tag] += n
    flush()
    return tags
