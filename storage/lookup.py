"""Finding catalog items by what people type: ids, links, "Artist - Title", names."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from storage.models import ArtistRow, PlaylistItemRow, PlaylistRow, TrackRow
from wavelength.ids import artist_id, match_key, normalize_name, spotify_uri

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.engine import Connection


@dataclass(frozen=True, slots=True)
class Found:
    kind: str  # "track" or "artist"
    id: str
    label: str


def track_label(name: str, artist: str) -> str:
    return f"{name} — {artist}"


def labels(*, conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    """Printable names for track, artist and playlist ids (unknown ids are left out)."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        tracks = conn.execute(
            select(TrackRow.id, TrackRow.name, ArtistRow.name)
            .join(ArtistRow, ArtistRow.id == TrackRow.artist_id)
            .where(TrackRow.id.in_(chunk))
        )
        out.update({tid: track_label(name, artist) for tid, name, artist in tracks})
        for model in (ArtistRow, PlaylistRow):
            rows = conn.execute(select(model.id, model.name).where(model.id.in_(chunk)))
            out.update((key, name) for key, name in rows)
    return out


def find(*, conn: Connection, query: str) -> Found | None:
    """A track by Spotify URI/link/id or "Artist - Title"; else an artist by name; else a track
    by title (the most popular of that name). None when nothing matches exactly."""
    query = query.strip()
    if uri := spotify_uri(query, "track"):
        return _track(conn, TrackRow.id == uri)
    if " - " in query:
        artist, _, title = query.partition(" - ")
        found = _track(conn, TrackRow.match_key == match_key(artist, title))
        if found:
            return found
    aid = artist_id(query)
    name = conn.scalar(select(ArtistRow.name).where(ArtistRow.id == aid))
    if name is not None:
        return Found("artist", aid, name)
    title = normalize_name(query)
    if title:
        # match_key is "artist\x1ftitle"; a suffix match finds the title under any artist.
        return _track(conn, TrackRow.match_key.endswith("\x1f" + title))
    return None


def _track(conn: Connection, condition: object) -> Found | None:
    row = conn.execute(
        select(TrackRow.id, TrackRow.name, ArtistRow.name)
        .join(ArtistRow, ArtistRow.id == TrackRow.artist_id)
        .where(condition)  # type: ignore[arg-type]
        .order_by(func.coalesce(TrackRow.popularity, -1).desc(), TrackRow.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    return Found("track", row[0], track_label(row[1], row[2]))


def suggestions(*, conn: Connection, query: str, n: int = 5) -> list[str]:
    """Close artist names for a "did you mean" reply."""
    wanted = normalize_name(query)
    names = {
        normalize_name(name): name
        for (name,) in conn.execution_options(yield_per=5000).execute(select(ArtistRow.name))
    }
    close = difflib.get_close_matches(wanted, list(names), n=n, cutoff=0.75)
    return [names[c] for c in close]


def playlist_by_name(*, conn: Connection, name: str) -> tuple[str, str, list[str]] | None:
    """A playlist whose title matches ``name`` (normalised; the most followed wins), with its
    track ids in playlist order."""
    wanted = normalize_name(name)
    if not wanted:
        return None
    best: tuple[int, str, str] | None = None
    rows = conn.execution_options(yield_per=5000).execute(
        select(PlaylistRow.id, PlaylistRow.name, PlaylistRow.num_followers)
    )
    for pid, title, followers in rows:
        if normalize_name(title) == wanted and (best is None or (followers or 0) > best[0]):
            best = (followers or 0, pid, title)
    if best is None:
        return None
    tracks = conn.scalars(
        select(PlaylistItemRow.track_id)
        .where(PlaylistItemRow.playlist_id == best[1])
        .order_by(PlaylistItemRow.position)
    )
    return best[1], best[2], list(tracks)
