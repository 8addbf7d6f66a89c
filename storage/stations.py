"""Repository functions for stations, what they showed, reactions, favourites and shares.

Functions take a Core ``Connection`` and return domain values, never rows. Callers own the
transaction. Timestamps are stored and returned in UTC (a naive ``now`` is taken as UTC).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage import catalog
from storage.models import (
    ActiveStationRow,
    Base,
    FavouriteRow,
    FeedbackRow,
    IdentityRow,
    StationPlayRow,
    StationRow,
)
from wavelength.domain import (
    ArtistId,
    Familiarity,
    Feedback,
    Mood,
    PlaylistId,
    Reaction,
    Station,
    StationId,
    Steer,
    Tilt,
    TrackId,
    Tuning,
    UserId,
)

if TYPE_CHECKING:
    import random
    from collections.abc import Sequence

    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Row

    from wavelength.domain import Pick

NAME_MAX = 100
_USER_NAME_MAX = 100  # users.name
SHARE_CODE_LENGTH = 8
# No 0/O or 1/I: a code read aloud or copied by hand can't be misread.
SHARE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_SYSTEM_RANDOM = secrets.SystemRandom()
_STATIONS = Base.metadata.tables["stations"]
_FEEDBACK = Base.metadata.tables["feedback"]
_PLAYS = Base.metadata.tables["station_plays"]
_ACTIVE = Base.metadata.tables["active_stations"]
_FAVOURITES = Base.metadata.tables["favourites"]
_IDENTITIES = Base.metadata.tables["identities"]


class DuplicateStationName(ValueError):
    """The owner already has a station of this name (names compare case-insensitively)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"you already have a station called {name!r}")
        self.name = name


@dataclass(frozen=True, slots=True)
class ShownTrack:
    """One track a station showed a listener: its batch, 1-based position and reason."""

    batch: int
    position: int
    track: TrackId
    reason: str
    source: str
    score: float
    shown_at: datetime


# --- JSON codec: tuples and enums come back exactly as they went in --------------------------


def _tilts_json(tilts: tuple[Tilt, ...]) -> list[dict[str, Any]]:
    return [{"feature": t.feature, "direction": t.direction} for t in tilts]


def _tilts(data: list[dict[str, Any]]) -> tuple[Tilt, ...]:
    return tuple(Tilt(feature=t["feature"], direction=t["direction"]) for t in data)


def _mood_json(mood: Mood) -> dict[str, Any]:
    return {
        "original": mood.original,
        "text": mood.text,
        "seed_artists": list(mood.seed_artists),
        "seed_tracks": list(mood.seed_tracks),
        "avoid_artists": list(mood.avoid_artists),
        "year_min": mood.year_min,
        "year_max": mood.year_max,
        "explicit": mood.explicit,
        "instrumental": mood.instrumental,
        "tilts": _tilts_json(mood.tilts),
    }


def _mood(data: dict[str, Any]) -> Mood:
    # .get with the field defaults lets rows written before a field existed still load.
    return Mood(
        original=data["original"],
        text=data["text"],
        seed_artists=tuple(ArtistId(a) for a in data.get("seed_artists", ())),
        seed_tracks=tuple(TrackId(t) for t in data.get("seed_tracks", ())),
        avoid_artists=tuple(ArtistId(a) for a in data.get("avoid_artists", ())),
        year_min=data.get("year_min"),
        year_max=data.get("year_max"),
        explicit=data.get("explicit"),
        instrumental=data.get("instrumental", False),
        tilts=_tilts(data.get("tilts", [])),
    )


def _tuning_json(tuning: Tuning) -> dict[str, Any]:
    return {
        "style": tuning.style,
        "like": tuning.like,
        "dislike": tuning.dislike,
        "familiarity": tuning.familiarity.value,
    }


def _tuning(data: dict[str, Any]) -> Tuning:
    default = Tuning()
    return Tuning(
        style=data.get("style", default.style),
        like=data.get("like", default.like),
        dislike=data.get("dislike", default.dislike),
        familiarity=Familiarity(data.get("familiarity", default.familiarity)),
    )


def _steers_json(steers: tuple[Steer, ...]) -> list[dict[str, Any]]:
    return [{"phrase": s.phrase, "sign": s.sign, "tilts": _tilts_json(s.tilts)} for s in steers]


def _steers(data: list[dict[str, Any]]) -> tuple[Steer, ...]:
    return tuple(
        Steer(phrase=s["phrase"], sign=s["sign"], tilts=_tilts(s.get("tilts", []))) for s in data
    )


# --- helpers ------------------------------------------------------------------------------------


def _utc(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; PostgreSQL aware ones in the session's zone.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's own INSERT, which has ``on_conflict_do_*`` on both backends."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _clean_name(name: str) -> tuple[str, str]:
    """The stripped name and its casefolded key; ValueError when empty or too long."""
    clean = name.strip()
    if not clean:
        raise ValueError("a station needs a name")
    key = clean.casefold()
    if max(len(clean), len(key)) > NAME_MAX:
        raise ValueError(f"station names are at most {NAME_MAX} characters, got {len(clean)}")
    return clean, key


def _name_taken(
    conn: Connection, owner: UserId, key: str, *, other_than: StationId | None = None
) -> bool:
    stmt = select(StationRow.id).where(StationRow.owner_id == owner, StationRow.name_key == key)
    if other_than is not None:
        stmt = stmt.where(StationRow.id != other_than)
    return conn.execute(stmt.limit(1)).first() is not None


def _station(row: Row[Any]) -> Station:
    return Station(
        id=StationId(row.id),
        owner=UserId(row.owner_id),
        name=row.name,
        mood=_mood(row.mood),
        tuning=_tuning(row.tuning),
        steers=_steers(row.steers),
        banned_artists=tuple(ArtistId(a) for a in row.banned_artists),
        seed_playlist=PlaylistId(row.seed_playlist_id) if row.seed_playlist_id else None,
        share_code=row.share_code,
        created_at=_utc(row.created_at),
    )


def _feedback(row: Row[Any]) -> Feedback:
    return Feedback(
        id=row.id,
        user=UserId(row.user_id),
        station=StationId(row.station_id) if row.station_id is not None else None,
        track=TrackId(row.track_id),
        reaction=Reaction(row.reaction),
        at=_utc(row.created_at),
        copied=row.copied,
    )


def _live_feedback() -> Select[Any]:
    return select(_FEEDBACK).where(FeedbackRow.undone_at.is_(None))


# --- users --------------------------------------------------------------------------------------


def get_or_create_user(
    *, conn: Connection, provider: str, external_id: str, display_name: str | None
) -> UserId:
    """The user behind a chat-platform account, created (with its identity) on first sight."""
    if not provider or len(provider) > 20 or not external_id or len(external_id) > 128:
        raise ValueError(f"invalid identity {provider!r}/{external_id!r}")
    found = conn.execute(
        select(IdentityRow.user_id, IdentityRow.display_name).where(
            IdentityRow.provider == provider, IdentityRow.external_id == external_id
        )
    ).first()
    if found is not None:
        if display_name is not None and display_name != found.display_name:
            conn.execute(
                update(IdentityRow)
                .where(IdentityRow.provider == provider, IdentityRow.external_id == external_id)
                .values(display_name=display_name)
            )
        return UserId(found.user_id)
    # users.name is unique and at most 100 characters; long platform ids are hashed to fit.
    name = f"{provider}:{external_id}"
    if len(name) > _USER_NAME_MAX:
        name = f"{provider}:{hashlib.sha256(external_id.encode()).hexdigest()[:40]}"
    user_id = catalog.get_or_create_user(conn=conn, name=name)
    conn.execute(
        _insert(conn, _IDENTITIES)
        .values(
            user_id=user_id,
            provider=provider,
            external_id=external_id,
            display_name=display_name,
        )
        .on_conflict_do_nothing()
    )
    # Re-read: a concurrent first sight may have linked the identity first.
    return UserId(
        conn.execute(
            select(IdentityRow.user_id).where(
                IdentityRow.provider == provider, IdentityRow.external_id == external_id
            )
        ).scalar_one()
    )


# --- stations -----------------------------------------------------------------------------------


def _insert_station(
    conn: Connection,
    *,
    owner: UserId,
    name: str,
    mood: Mood,
    tuning: Tuning,
    steers: tuple[Steer, ...],
    banned_artists: tuple[ArtistId, ...],
    seed_playlist: PlaylistId | None,
    now: datetime,
) -> Station:
    clean, key = _clean_name(name)
    if _name_taken(conn, owner, key):
        raise DuplicateStationName(clean)
    at = _utc(now)
    station_id = conn.execute(
        insert(_STATIONS)
        .values(
            owner_id=owner,
            name=clean,
            name_key=key,
            mood=_mood_json(mood),
            tuning=_tuning_json(tuning),
            steers=_steers_json(steers),
            banned_artists=list(banned_artists),
            seed_playlist_id=seed_playlist,
            share_code=None,
            created_at=at,
            updated_at=at,
        )
        .returning(_STATIONS.c.id)
    ).scalar_one()
    return Station(
        id=StationId(station_id),
        owner=owner,
        name=clean,
        mood=mood,
        tuning=tuning,
        steers=tuple(steers),
        banned_artists=tuple(banned_artists),
        seed_playlist=seed_playlist,
        created_at=at,
    )


def create_station(
    *,
    conn: Connection,
    owner: UserId,
    name: str,
    mood: Mood,
    tuning: Tuning = Tuning(),  # noqa: B008 (frozen, so sharing the default is safe)
    steers: Sequence[Steer] = (),
    seed_playlist: PlaylistId | None = None,
    now: datetime,
) -> Station:
    """A new station; DuplicateStationName when ``owner`` has one of that name in any case."""
    return _insert_station(
        conn,
        owner=owner,
        name=name,
        mood=mood,
        tuning=tuning,
        steers=tuple(steers),
        banned_artists=(),
        seed_playlist=seed_playlist,
        now=now,
    )


def get_station(*, conn: Connection, station_id: StationId) -> Station | None:
    row = conn.execute(select(_STATIONS).where(StationRow.id == station_id)).first()
    return _station(row) if row is not None else None


def list_stations(*, conn: Connection, owner: UserId) -> list[Station]:
    """The owner's stations, oldest first."""
    rows = conn.execute(
        select(_STATIONS)
        .where(StationRow.owner_id == owner)
        .order_by(StationRow.created_at, StationRow.id)
    )
    return [_station(r) for r in rows]


def find_station(*, conn: Connection, owner: UserId, name: str) -> Station | None:
    """The owner's station called ``name``, ignoring case and surrounding spaces."""
    key = name.strip().casefold()
    row = conn.execute(
        select(_STATIONS).where(StationRow.owner_id == owner, StationRow.name_key == key)
    ).first()
    return _station(row) if row is not None else None


def station_by_share_code(*, conn: Connection, code: str) -> Station | None:
    row = conn.execute(
        select(_STATIONS).where(StationRow.share_code == code.strip().upper())
    ).first()
    return _station(row) if row is not None else None


def save_station(*, conn: Connection, station: Station, now: datetime) -> None:
    """Write the station's editable fields; its id and owner say which row."""
    clean, key = _clean_name(station.name)
    if _name_taken(conn, station.owner, key, other_than=station.id):
        raise DuplicateStationName(clean)
    result = conn.execute(
        update(_STATIONS)
        .where(StationRow.id == station.id, StationRow.owner_id == station.owner)
        .values(
            name=clean,
            name_key=key,
            mood=_mood_json(station.mood),
            tuning=_tuning_json(station.tuning),
            steers=_steers_json(station.steers),
            banned_artists=list(station.banned_artists),
            seed_playlist_id=station.seed_playlist,
            share_code=station.share_code.upper() if station.share_code else None,
            updated_at=_utc(now),
        )
    )
    if result.rowcount == 0:
        raise LookupError(f"no station {station.id} owned by user {station.owner}")


def delete_station(*, conn: Connection, owner: UserId, station_id: StationId) -> bool:
    """Delete the owner's station; False when it does not exist or belongs to someone else.

    Its plays and active pointers go with it; its reactions stay as user-wide taste."""
    result = conn.execute(
        delete(StationRow).where(StationRow.id == station_id, StationRow.owner_id == owner)
    )
    return result.rowcount > 0


def new_share_code(
    *, conn: Connection, station_id: StationId, rng: random.Random = _SYSTEM_RANDOM
) -> str:
    """The station's share code, drawn on first use; codes are unique and uppercase."""
    row = conn.execute(select(StationRow.share_code).where(StationRow.id == station_id)).first()
    if row is None:
        raise LookupError(f"no station {station_id}")
    if row.share_code:
        return str(row.share_code)
    # 32**8 codes: a clash is rare, a few retries make one vanishingly unlikely.
    for _ in range(20):
        code = "".join(rng.choice(SHARE_ALPHABET) for _ in range(SHARE_CODE_LENGTH))
        clash = conn.execute(select(StationRow.id).where(StationRow.share_code == code)).first()
        if clash is None:
            conn.execute(
                update(StationRow).where(StationRow.id == station_id).values(share_code=code)
            )
            return code
    raise RuntimeError("could not draw a free share code; is the random source stuck?")


def copy_station(
    *, conn: Connection, source: Station, new_owner: UserId, name: str, now: datetime
) -> Station:
    """A copy for ``new_owner`` with the source's settings and its live reactions.

    Copied reactions steer the copy but never count as the new owner's own taste."""
    copy = _insert_station(
        conn,
        owner=new_owner,
        name=name,
        mood=source.mood,
        tuning=source.tuning,
        steers=source.steers,
        banned_artists=source.banned_artists,
        seed_playlist=None,
        now=now,
    )
    rows = [
        {
            "user_id": new_owner,
            "station_id": copy.id,
            "track_id": f.track,
            "reaction": f.reaction.value,
            "created_at": _utc(now),
            "copied": True,
        }
        for f in feedback_for_station(conn=conn, station=source.id)
    ]
    if rows:
        conn.execute(insert(_FEEDBACK), rows)
    return copy


# --- the active station -------------------------------------------------------------------------


def set_active(
    *, conn: Connection, user: UserId, station_id: StationId | None, read_only: bool = False
) -> None:
    """Point the user at a station (``read_only`` for someone else's); None clears it."""
    if station_id is None:
        conn.execute(delete(ActiveStationRow).where(ActiveStationRow.user_id == user))
        return
    stmt = _insert(conn, _ACTIVE).values(user_id=user, station_id=station_id, read_only=read_only)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id"],
            set_={"station_id": station_id, "read_only": read_only},
        )
    )


def get_active(*, conn: Connection, user: UserId) -> tuple[StationId, bool] | None:
    """The user's active station and whether it is read-only, or None."""
    row = conn.execute(
        select(ActiveStationRow.station_id, ActiveStationRow.read_only).where(
            ActiveStationRow.user_id == user
        )
    ).first()
    return (StationId(row.station_id), bool(row.read_only)) if row is not None else None


# --- what a station showed ----------------------------------------------------------------------


def _latest_batch(conn: Connection, station: StationId, listener: UserId) -> int:
    return int(
        conn.execute(
            select(func.max(StationPlayRow.batch)).where(
                StationPlayRow.station_id == station, StationPlayRow.listener_id == listener
            )
        ).scalar_one_or_none()
        or 0
    )


def record_batch(
    *, conn: Connection, station: StationId, listener: UserId, picks: Sequence[Pick], now: datetime
) -> int:
    """Record a batch shown to ``listener``; returns its number (1, 2, ... per listener)."""
    if not picks:
        raise ValueError("a batch needs at least one pick")
    batch = _latest_batch(conn, station, listener) + 1
    at = _utc(now)
    rows = [
        {
            "station_id": station,
            "listener_id": listener,
            "track_id": p.track,
            "batch": batch,
            "position": position,
            "reason": p.reason,
            "source": p.source,
            "score": p.score,
            "shown_at": at,
        }
        for position, p in enumerate(picks, start=1)
    ]
    conn.execute(insert(_PLAYS), rows)
    return batch


def last_batch(*, conn: Connection, station: StationId, listener: UserId) -> list[ShownTrack]:
    """The newest batch shown to ``listener`` on ``station`` in order; empty before the first."""
    batch = _latest_batch(conn, station, listener)
    rows = conn.execute(
        select(_PLAYS)
        .where(
            StationPlayRow.station_id == station,
            StationPlayRow.listener_id == listener,
            StationPlayRow.batch == batch,
        )
        .order_by(StationPlayRow.position)
    )
    return [
        ShownTrack(
            batch=r.batch,
            position=r.position,
            track=TrackId(r.track_id),
            reason=r.reason,
            source=r.source,
            score=r.score,
            shown_at=_utc(r.shown_at),
        )
        for r in rows
    ]


def played(
    *, conn: Connection, station: StationId, listener: UserId, limit: int = 2000
) -> list[TrackId]:
    """Distinct tracks the station showed ``listener``, most recently shown first."""
    rows = conn.execute(
        select(StationPlayRow.track_id)
        .where(StationPlayRow.station_id == station, StationPlayRow.listener_id == listener)
        .group_by(StationPlayRow.track_id)
        .order_by(func.max(StationPlayRow.shown_at).desc(), func.max(StationPlayRow.id).desc())
        .limit(limit)
    )
    return [TrackId(t) for t in rows.scalars()]


# --- reactions and favourites -------------------------------------------------------------------


def add_feedback(
    *,
    conn: Connection,
    user: UserId,
    station: StationId | None,
    track: TrackId,
    reaction: Reaction,
    now: datetime,
    copied: bool = False,
) -> Feedback:
    """Record a reaction; a LOVE of the user's own also saves the track to favourites."""
    at = _utc(now)
    feedback_id = conn.execute(
        insert(_FEEDBACK)
        .values(
            user_id=user,
            station_id=station,
            track_id=track,
            reaction=reaction.value,
            created_at=at,
            copied=copied,
        )
        .returning(_FEEDBACK.c.id)
    ).scalar_one()
    if reaction is Reaction.LOVE and not copied:
        conn.execute(
            _insert(conn, _FAVOURITES)
            .values(user_id=user, track_id=track, created_at=at)
            .on_conflict_do_nothing()
        )
    return Feedback(
        id=feedback_id,
        user=user,
        station=station,
        track=track,
        reaction=reaction,
        at=at,
        copied=copied,
    )


def undo_last(*, conn: Connection, user: UserId, now: datetime) -> Feedback | None:
    """Undo the user's newest live reaction of their own and return it; None when none is left.

    Undoing a LOVE drops the favourite unless another live LOVE of that track remains."""
    row = conn.execute(
        _live_feedback()
        .where(FeedbackRow.user_id == user, FeedbackRow.copied.is_(False))
        .order_by(FeedbackRow.created_at.desc(), FeedbackRow.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    undone = _feedback(row)
    conn.execute(update(FeedbackRow).where(FeedbackRow.id == undone.id).values(undone_at=_utc(now)))
    if undone.reaction is Reaction.LOVE:
        still_loved = conn.execute(
            _live_feedback()
            .where(
                FeedbackRow.user_id == user,
                FeedbackRow.track_id == undone.track,
                FeedbackRow.reaction == Reaction.LOVE.value,
                FeedbackRow.copied.is_(False),
            )
            .limit(1)
        ).first()
        if still_loved is None:
            conn.execute(
                delete(FavouriteRow).where(
                    FavouriteRow.user_id == user, FavouriteRow.track_id == undone.track
                )
            )
    return undone


def feedback_for_station(*, conn: Connection, station: StationId) -> list[Feedback]:
    """Live reactions on the station (copied ones included), oldest first."""
    rows = conn.execute(
        _live_feedback()
        .where(FeedbackRow.station_id == station)
        .order_by(FeedbackRow.created_at, FeedbackRow.id)
    )
    return [_feedback(r) for r in rows]


def recent_feedback(*, conn: Connection, user: UserId, limit: int = 20) -> list[Feedback]:
    """The user's own live reactions (not copied ones), newest first."""
    rows = conn.execute(
        _live_feedback()
        .where(FeedbackRow.user_id == user, FeedbackRow.copied.is_(False))
        .order_by(FeedbackRow.created_at.desc(), FeedbackRow.id.desc())
        .limit(limit)
    )
    return [_feedback(r) for r in rows]


def disliked_tracks(*, conn: Connection, user: UserId) -> frozenset[TrackId]:
    """Tracks the user disliked on any station: never again for them, anywhere."""
    rows = conn.execute(
        select(FeedbackRow.track_id).where(
            FeedbackRow.user_id == user,
            FeedbackRow.reaction == Reaction.DISLIKE.value,
            FeedbackRow.copied.is_(False),
            FeedbackRow.undone_at.is_(None),
        )
    )
    return frozenset(TrackId(t) for t in rows.scalars())


def favourites(*, conn: Connection, user: UserId) -> list[TrackId]:
    """The user's favourite tracks, newest first."""
    rows = conn.execute(
        select(FavouriteRow.track_id)
        .where(FavouriteRow.user_id == user)
        .order_by(FavouriteRow.created_at.desc(), FavouriteRow.track_id)
    )
    return [TrackId(t) for t in rows.scalars()]
