"""``TrackCatalog`` over SQL: tracks, artist and playlist names by id, for the station engine.

A station asks about the same few hundred tracks batch after batch, and catalog rows change
only on ingest, so answers are memoised (bounded; ``clear`` after an ingest).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import func, select

from storage.catalog import GENRE_SEPARATOR
from storage.models import ArtistRow, PlaylistItemRow, PlaylistRow, TrackRow
from storage.training_data import row_to_track, track_columns
from wavelength.domain import Artist, ArtistId, PlaylistId, Track, TrackId

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

_K = TypeVar("_K", bound=str)
_V = TypeVar("_V")
CHUNK = 500  # ids per IN list: well under SQLite's and PostgreSQL's parameter limits


class _Memo(dict[_K, _V | None]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def remember(self, key: _K, value: _V | None) -> None:
        if len(self) >= self.size:
            self.clear()  # bounded and simple; refilled from a handful of queries
        self[key] = value


class SqlTrackCatalog:
    def __init__(self, engine: Engine, *, memo_size: int = 200_000) -> None:
        self._engine = engine
        self._tracks: _Memo[TrackId, Track] = _Memo(memo_size)
        self._artists: _Memo[ArtistId, Artist] = _Memo(memo_size // 4)
        self._genres: frozenset[str] | None = None
        self._members: _Memo[PlaylistId, tuple[TrackId, ...]] = _Memo(memo_size // 20)
        self._counts: _Memo[TrackId, int] = _Memo(memo_size)
        self._playlists: _Memo[PlaylistId, str] = _Memo(memo_size // 4)

    def clear(self) -> None:
        self._genres = None
        self._members.clear()
        self._counts.clear()
        self._tracks.clear()
        self._artists.clear()
        self._playlists.clear()

    def tracks(self, ids: Iterable[TrackId]) -> dict[TrackId, Track]:
        wanted = list(dict.fromkeys(ids))
        missing = [t for t in wanted if t not in self._tracks]
        if missing:
            rows_found: dict[TrackId, Track] = {}
            with self._engine.connect() as conn:
                for start in range(0, len(missing), CHUNK):
                    stmt = (
                        select(*track_columns())
                        .join(ArtistRow, ArtistRow.id == TrackRow.artist_id)
                        .where(TrackRow.id.in_(missing[start : start + CHUNK]))
                    )
                    for row in conn.execute(stmt):
                        one = row_to_track(row)
                        rows_found[one.id] = one
            for t in missing:
                self._tracks.remember(t, rows_found.get(t))
        out: dict[TrackId, Track] = {}
        for t in wanted:
            hit = self._tracks.get(t)
            if hit is not None:
                out[t] = hit
        return out

    def artists(self, ids: Iterable[ArtistId]) -> dict[ArtistId, Artist]:
        wanted = list(dict.fromkeys(ids))
        missing = [a for a in wanted if a not in self._artists]
        if missing:
            rows_found: dict[str, Artist] = {}
            with self._engine.connect() as conn:
                for start in range(0, len(missing), CHUNK):
                    stmt = select(
                        ArtistRow.id, ArtistRow.name, ArtistRow.spotify_uri, ArtistRow.genres
                    ).where(ArtistRow.id.in_(missing[start : start + CHUNK]))
                    for aid, name, uri, genres in conn.execute(stmt):
                        rows_found[aid] = Artist(
                            id=ArtistId(aid), name=name, spotify_uri=uri,
                            genres=tuple(genres.split(GENRE_SEPARATOR)) if genres else (),
                        )  # fmt: skip
            for a in missing:
                self._artists.remember(a, rows_found.get(a))
        out: dict[ArtistId, Artist] = {}
        for a in wanted:
            hit = self._artists.get(a)
            if hit is not None:
                out[a] = hit
        return out

    def genres(self) -> frozenset[str]:
        if self._genres is None:
            found: set[str] = set()
            with self._engine.connect() as conn:
                rows = conn.execution_options(yield_per=5000).execute(
                    select(ArtistRow.genres).where(ArtistRow.genres.is_not(None)).distinct()
                )
                for (genres,) in rows:
                    found.update(g.strip().lower() for g in (genres or "").split(GENRE_SEPARATOR))
                rows = conn.execution_options(yield_per=5000).execute(
                    select(TrackRow.genre).where(TrackRow.genre.is_not(None)).distinct()
                )
                for (genre,) in rows:
                    found.update(g.strip().lower() for g in (genre or "").split(","))
            self._genres = frozenset(g for g in found if g)
        return self._genres

    def playlist_names(self, ids: Iterable[PlaylistId]) -> dict[PlaylistId, str]:
        return self._names(ids, self._playlists, PlaylistRow)

    def playlist_tracks(self, ids: Iterable[PlaylistId]) -> dict[PlaylistId, tuple[TrackId, ...]]:
        wanted = list(dict.fromkeys(ids))
        missing = [p for p in wanted if p not in self._members]
        if missing:
            found: dict[str, list[TrackId]] = {}
            with self._engine.connect() as conn:
                for start in range(0, len(missing), CHUNK):
                    rows = conn.execute(
                        select(PlaylistItemRow.playlist_id, PlaylistItemRow.track_id)
                        .where(PlaylistItemRow.playlist_id.in_(missing[start : start + CHUNK]))
                        .order_by(PlaylistItemRow.playlist_id, PlaylistItemRow.position)
                    )
                    for pid, tid in rows:
                        found.setdefault(pid, []).append(TrackId(tid))
            for p in missing:
                self._members.remember(p, tuple(found[p]) if p in found else None)
        out: dict[PlaylistId, tuple[TrackId, ...]] = {}
        for p in wanted:
            hit = self._members.get(p)
            if hit is not None:
                out[p] = hit
        return out

    def playlist_counts(self, ids: Iterable[TrackId]) -> dict[TrackId, int]:
        wanted = list(dict.fromkeys(ids))
        missing = [t for t in wanted if t not in self._counts]
        if missing:
            found: dict[str, int] = {}
            with self._engine.connect() as conn:
                for start in range(0, len(missing), CHUNK):
                    rows = conn.execute(
                        select(PlaylistItemRow.track_id, func.count())
                        .where(PlaylistItemRow.track_id.in_(missing[start : start + CHUNK]))
                        .group_by(PlaylistItemRow.track_id)
                    )
                    found.update((tid, int(n)) for tid, n in rows)
            for t in missing:
                self._counts.remember(t, found.get(t, 0))
        return {t: self._counts.get(t) or 0 for t in wanted}

    def _names(
        self, ids: Iterable[_K], memo: _Memo[_K, str], model: type[PlaylistRow]
    ) -> dict[_K, str]:
        wanted = list(dict.fromkeys(ids))
        missing = [i for i in wanted if i not in memo]
        if missing:
            found: dict[str, str] = {}
            with self._engine.connect() as conn:
                for start in range(0, len(missing), CHUNK):
                    chunk = missing[start : start + CHUNK]
                    rows = conn.execute(select(model.id, model.name).where(model.id.in_(chunk)))
                    found.update((key, name) for key, name in rows)
            for i in missing:
                memo.remember(i, found.get(i))
        return {i: name for i in wanted if (name := memo.get(i)) is not None}
