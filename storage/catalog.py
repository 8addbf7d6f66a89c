"""Repository functions for the catalog, users and listening history.

Every write is an idempotent upsert or insert-if-absent, so ingesting a file twice changes
nothing. Callers own the transaction (one per batch), which keeps a crash from leaving a
half-written batch behind.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, func, literal_column, select, text
from sqlalchemy.dialects import postgresql

from storage._sql import dialect_insert
from storage.models import (
    AlbumRow,
    AppMetaRow,
    ArtistRow,
    Base,
    ListeningEventRow,
    PlaylistItemRow,
    PlaylistRow,
    TrackRow,
    UserRow,
)
from wavelength.domain import FEATURE_NAMES, CatalogCounts, TrackId
from wavelength.ids import match_key

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from wavelength.domain import Album, Artist, ListeningEvent, Playlist, Track

GENRE_SEPARATOR = "|"
_ARTISTS = Base.metadata.tables["artists"]
_ALBUMS = Base.metadata.tables["albums"]
_TRACKS = Base.metadata.tables["tracks"]
_PLAYLISTS = Base.metadata.tables["playlists"]
_ITEMS = Base.metadata.tables["playlist_items"]
_USERS = Base.metadata.tables["users"]
_EVENTS = Base.metadata.tables["listening_events"]
_META = Base.metadata.tables["app_meta"]
_TRACK_IDENTITY = ("name", "artist_id", "match_key")


# Adds the ON CONFLICT clause to an INSERT of the right dialect.
OnConflict = Callable[[Any], Any]


def _unnest_insert(table: Table, columns: Sequence[str]) -> Any:
    """``INSERT INTO t (a, b) SELECT u.a, u.b FROM unnest(CAST(:a AS T[]), ...) AS u(a, b)``:
    a whole batch as one PostgreSQL statement with one array parameter per column."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    arrays = ", ".join(
        f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in columns
    )
    source = text(f"unnest({arrays}) AS u({', '.join(columns)})")
    source_rows: Any = select(*(literal_column(f"u.{c}") for c in columns)).select_from(source)
    return postgresql.insert(table).from_select(list(columns), source_rows)


def _write(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    on_conflict: OnConflict,
    *,
    raw: bool,
) -> int:
    """Insert ``rows`` (all with the same keys); returns how many rows were written.

    ``raw`` is for rows of plain str/int/float/bool/None values on the bulk-ingest path."""
    if raw and conn.dialect.name == "postgresql":
        # One INSERT ... SELECT FROM unnest(arrays) per batch instead of one statement per
        # row: PostgreSQL plans once and the rows cross the wire as columns (several times
        # faster than executemany, and rowcount is exact for a single statement). Callers
        # pass rows with unique keys, as ON CONFLICT DO UPDATE needs within one statement.
        columns = list(rows[0])
        stmt = on_conflict(_unnest_insert(table, columns))
        # preserve_rowcount: SQLAlchemy 2.x only keeps an INSERT's rowcount when asked.
        result = conn.execute(
            stmt.execution_options(preserve_rowcount=True),
            {c: [r[c] for r in rows] for c in columns},
        )
        return max(result.rowcount, 0)
    stmt = on_conflict(dialect_insert(conn, table))
    if not raw:
        # rowcount after executemany is unreliable across drivers; RETURNING counts exactly.
        primary = next(iter(table.primary_key.columns))
        return len(conn.execute(stmt.returning(primary), list(rows)).all())
    # SQLite: executemany straight to the driver skips SQLAlchemy's per-row parameter
    # processing (3x faster on bulk ingest).
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(rows[0]))
    if compiled.positiontup is not None:
        order = compiled.positiontup
        params: list[Any] = [tuple(row[k] for k in order) for row in rows]
    else:
        params = list(rows)
    return max(conn.exec_driver_sql(compiled.string, params).rowcount, 0)


def _upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    keep: Iterable[str] = (),
    raw: bool = False,
) -> None:
    """Insert rows; on a key clash fill in every non-null new value except the ``keep`` columns."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    updatable = [c for c in rows[0] if c not in keys and c not in set(keep)]

    def on_conflict(stmt: Any) -> Any:
        if not updatable:
            return stmt.on_conflict_do_nothing(index_elements=keys)
        return stmt.on_conflict_do_update(
            index_elements=keys,
            set_={c: func.coalesce(stmt.excluded[c], table.c[c]) for c in updatable},
        )

    _write(conn, table, rows, on_conflict, raw=raw)


def _insert_new(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, raw: bool = False
) -> int:
    if not rows:
        return 0
    return _write(conn, table, rows, lambda stmt: stmt.on_conflict_do_nothing(), raw=raw)


def _artist_row(artist: Artist) -> dict[str, Any]:
    return {
        "id": artist.id,
        "name": artist.name,
        "spotify_uri": artist.spotify_uri,
        "genres": GENRE_SEPARATOR.join(artist.genres) if artist.genres else None,
    }


def _album_row(album: Album) -> dict[str, Any]:
    return {"id": album.id, "name": album.name, "artist_id": album.artist_id}


def _track_row(track: Track) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": track.id,
        "name": track.name,
        "artist_id": track.artist.id,
        "album_id": track.album.id if track.album else None,
        "match_key": match_key(track.artist.name, track.name),
        "duration_ms": track.duration_ms,
        "popularity": track.popularity,
        "explicit": track.explicit,
        "year": track.year,
        "decade": track.decade,
        "genre": track.genre,
    }
    for name in FEATURE_NAMES:
        row[name] = getattr(track.features, name)
    return row


def upsert_artists(*, conn: Connection, artists: Iterable[Artist]) -> None:
    """Add artists; a known artist keeps its first-seen name and gains new genres or URI."""
    rows = {a.id: _artist_row(a) for a in artists}
    _upsert(
        conn,
        _ARTISTS,
        sorted(rows.values(), key=lambda r: r["id"]),
        keep=("name",),
        raw=True,
    )


def upsert_tracks(*, conn: Connection, tracks: Iterable[Track]) -> None:
    """Add tracks with their artists and albums; known tracks gain any new non-null facts."""
    unique = {t.id: t for t in tracks}
    upsert_artists(conn=conn, artists=(t.artist for t in unique.values()))
    albums = {t.album.id: _album_row(t.album) for t in unique.values() if t.album}
    _upsert(
        conn,
        _ALBUMS,
        sorted(albums.values(), key=lambda r: r["id"]),
        keep=("name", "artist_id"),
        raw=True,
    )
    # Sorted keys give every writer the same lock order, so concurrent ingests can't deadlock.
    rows = [_track_row(unique[k]) for k in sorted(unique)]
    _upsert(conn, _TRACKS, rows, keep=_TRACK_IDENTITY, raw=True)


def insert_playlists(
    *, conn: Connection, playlists: Sequence[Playlist], known_tracks: Container[str] = frozenset()
) -> int:
    """Add playlists not seen before (with their tracks); returns how many were new.

    ``known_tracks`` are ids the caller wrote moments ago with the same facts; skipping them
    saves re-upserting the popular tracks that recur across a corpus."""
    ids = [p.id for p in playlists]
    existing = set(conn.scalars(select(PlaylistRow.id).where(PlaylistRow.id.in_(ids))))
    fresh = list({p.id: p for p in playlists if p.id not in existing}.values())
    if not fresh:
        return 0
    upsert_tracks(
        conn=conn, tracks=(t for p in fresh for t in p.tracks if t.id not in known_tracks)
    )
    added = _insert_new(
        conn,
        _PLAYLISTS,
        [
            {
                "id": p.id,
                "name": p.name,
                "description": p.description,
                "num_followers": p.num_followers,
                "num_tracks": len(p.tracks),
                "modified_at": p.modified_at,
                "collaborative": p.collaborative,
            }
            for p in fresh
        ],
        raw=True,
    )
    items = [
        {"playlist_id": p.id, "position": pos, "track_id": t.id}
        for p in fresh
        for pos, t in enumerate(p.tracks)
    ]
    _insert_new(conn, _ITEMS, items, raw=True)
    return added


def get_or_create_user(*, conn: Connection, name: str) -> int:
    """The id of the user called ``name``, created on first use."""
    _insert_new(conn, _USERS, [{"name": name}])
    return conn.execute(select(UserRow.id).where(UserRow.name == name)).scalar_one()


def tracks_by_match_key(*, conn: Connection, keys: Iterable[str]) -> dict[str, TrackId]:
    """Catalog track ids for artist+title keys; Spotify-URI tracks win over name-derived ones."""
    wanted = sorted(set(keys))
    found: dict[str, TrackId] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = conn.execute(
            select(TrackRow.match_key, TrackRow.id).where(TrackRow.match_key.in_(chunk))
        )
        for key, track_id in rows:
            if key not in found or track_id.startswith("spotify:"):
                found[key] = TrackId(track_id)
    return found


def insert_listening_events(
    *, conn: Connection, user_id: int, events: Iterable[ListeningEvent], source: str
) -> int:
    """Add plays not recorded before; returns how many were new."""
    rows = {
        (e.track.id, e.played_at): {
            "user_id": user_id,
            "track_id": e.track.id,
            "played_at": e.played_at,
            "ms_played": e.ms_played,
            "source": source,
        }
        for e in events
    }
    return _insert_new(conn, _EVENTS, list(rows.values()))


def count_catalog(*, conn: Connection) -> CatalogCounts:
    def count(model: Any) -> int:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()

    return CatalogCounts(
        tracks=count(TrackRow),
        artists=count(ArtistRow),
        albums=count(AlbumRow),
        playlists=count(PlaylistRow),
        playlist_items=count(PlaylistItemRow),
        users=count(UserRow),
        listening_events=count(ListeningEventRow),
    )


def get_meta(*, conn: Connection, key: str) -> str | None:
    return conn.execute(select(AppMetaRow.value).where(AppMetaRow.key == key)).scalar_one_or_none()


def set_meta(*, conn: Connection, key: str, value: str) -> None:
    _upsert(conn, _META, [{"key": key, "value": value}])
