"""``TrackCatalog`` over SQL: tracks, artists, playlists and familiarity by id, for stations.

A station asks about the same few hundred tracks batch after batch, and catalog rows change
only on ingest, so answers are memoised (bounded; ``clear`` after an ingest). Every look-up
has the same shape: find what the memo lacks, read it in chunks, remember hits and misses.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import bindparam, func, select

from recommender.memo import ReadThrough
from storage.catalog import GENRE_SEPARATOR
from storage.models import ArtistRow, PlaylistItemRow, PlaylistRow, TrackRow
from storage.training_data import row_to_track, track_columns
from wavelength.domain import Artist, ArtistId, PlaylistId, Track, TrackId

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")
CHUNK = 500  # ids per IN list: well under SQLite's and PostgreSQL's parameter limits
# Built once with an expanding IN: every look-up reuses the statement (building one costs
# more than running it from SQLAlchemy's compiled cache); only the ids change.
_TRACKS = (
    select(*track_columns())
    .join(ArtistRow, ArtistRow.id == TrackRow.artist_id)
    .where(TrackRow.id.in_(bindparam("ids", expanding=True)))
)
_ARTISTS = select(ArtistRow.id, ArtistRow.name, ArtistRow.spotify_uri, ArtistRow.genres).where(
    ArtistRow.id.in_(bindparam("ids", expanding=True))
)
_PLAYLIST_NAMES = select(PlaylistRow.id, PlaylistRow.name).where(
    PlaylistRow.id.in_(bindparam("ids", expanding=True))
)
_PLAYLIST_TRACKS = (
    select(PlaylistItemRow.playlist_id, PlaylistItemRow.track_id)
    .where(PlaylistItemRow.playlist_id.in_(bindparam("ids", expanding=True)))
    .order_by(PlaylistItemRow.playlist_id, PlaylistItemRow.position)
)
_PLAYLIST_COUNTS = (
    select(PlaylistItemRow.track_id, func.count())
    .where(PlaylistItemRow.track_id.in_(bindparam("ids", expanding=True)))
    .group_by(PlaylistItemRow.track_id)
)


class SqlTrackCatalog:
    def __init__(self, engine: Engine, *, memo_size: int = 200_000) -> None:
        self._engine = engine
        self._tracks: ReadThrough[TrackId, Track] = ReadThrough(memo_size)
        self._artists: ReadThrough[ArtistId, Artist] = ReadThrough(memo_size // 4)
        self._playlists: ReadThrough[PlaylistId, str] = ReadThrough(memo_size // 4)
        self._members: ReadThrough[PlaylistId, tuple[TrackId, ...]] = ReadThrough(memo_size // 20)
        self._counts: ReadThrough[TrackId, int] = ReadThrough(memo_size)
        self._genres: frozenset[str] | None = None

    def clear(self) -> None:
        self._genres = None
        for memo in (self._tracks, self._artists, self._playlists, self._members, self._counts):
            memo.clear()

    def _fetch(
        self,
        ids: Iterable[_K],
        memo: ReadThrough[_K, _V],
        read: Callable[[Connection, Sequence[_K]], dict[_K, _V]],
        default: _V | None = None,
    ) -> dict[_K, _V]:
        """The memo's answers for ``ids``, reading what it lacks with ``read`` in chunks, on
        one connection. Ids ``read`` does not find get ``default`` (left out when None)."""

        def read_all(missing: list[_K]) -> dict[_K, _V]:
            found: dict[_K, _V] = {}
            with self._engine.connect() as conn:
                for start in range(0, len(missing), CHUNK):
                    found.update(read(conn, missing[start : start + CHUNK]))
            return found

        return memo.get_many(ids, read_all, default=default)

    def tracks(self, ids: Iterable[TrackId]) -> dict[TrackId, Track]:
        def read(conn: Connection, chunk: Sequence[TrackId]) -> dict[TrackId, Track]:
            rows = conn.execute(_TRACKS, {"ids": list(chunk)})
            return {(t := row_to_track(row)).id: t for row in rows}

        return self._fetch(ids, self._tracks, read)

    def artists(self, ids: Iterable[ArtistId]) -> dict[ArtistId, Artist]:
        def read(conn: Connection, chunk: Sequence[ArtistId]) -> dict[ArtistId, Artist]:
            return {
                ArtistId(aid): Artist(
                    id=ArtistId(aid),
                    name=name,
                    spotify_uri=uri,
                    genres=tuple(genres.split(GENRE_SEPARATOR)) if genres else (),
                )
                for aid, name, uri, genres in conn.execute(_ARTISTS, {"ids": list(chunk)})
            }

        return self._fetch(ids, self._artists, read)

    def playlist_names(self, ids: Iterable[PlaylistId]) -> dict[PlaylistId, str]:
        def read(conn: Connection, chunk: Sequence[PlaylistId]) -> dict[PlaylistId, str]:
            rows = conn.execute(_PLAYLIST_NAMES, {"ids": list(chunk)})
            return {PlaylistId(pid): name for pid, name in rows}

        return self._fetch(ids, self._playlists, read)

    def playlist_tracks(self, ids: Iterable[PlaylistId]) -> dict[PlaylistId, tuple[TrackId, ...]]:
        def read(
            conn: Connection, chunk: Sequence[PlaylistId]
        ) -> dict[PlaylistId, tuple[TrackId, ...]]:
            rows = conn.execute(_PLAYLIST_TRACKS, {"ids": list(chunk)})
            members: dict[PlaylistId, list[TrackId]] = {}
            for pid, tid in rows:
                members.setdefault(PlaylistId(pid), []).append(TrackId(tid))
            return {pid: tuple(tracks) for pid, tracks in members.items()}

        return self._fetch(ids, self._members, read)

    def playlist_counts(self, ids: Iterable[TrackId]) -> dict[TrackId, int]:
        def read(conn: Connection, chunk: Sequence[TrackId]) -> dict[TrackId, int]:
            rows = conn.execute(_PLAYLIST_COUNTS, {"ids": list(chunk)})
            return {TrackId(tid): int(n) for tid, n in rows}

        return self._fetch(ids, self._counts, read, default=0)

    def genres(self) -> frozenset[str]:
        if self._genres is None:
            found: set[str] = set()
            with self._engine.connect() as conn:
                for column, separator in (
                    (ArtistRow.genres, GENRE_SEPARATOR),
                    (TrackRow.genre, ","),
                ):
                    rows = conn.execution_options(yield_per=5000).execute(
                        select(column).where(column.is_not(None)).distinct()
                    )
                    for (labels,) in rows:
                        found.update(g.strip().lower() for g in (labels or "").split(separator))
            self._genres = frozenset(g for g in found if g)
        return self._genres
