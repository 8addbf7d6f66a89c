"""Repository functions for users and their identities, stations, shares and the active station.

Functions take a Core ``Connection`` and return domain values, never rows. Callers own the
transaction. Timestamps are stored and returned in UTC (a naive ``now`` is taken as UTC).
What a station showed and the reactions to it live in ``storage.feedback``.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, insert, select, update

from storage import catalog, feedback
from storage._sql import dialect_insert, per_dialect, utc
from storage.models import ActiveStationRow, Base, IdentityRow, StationRow
from storage.station_codec import (
    mood_from_json,
    mood_to_json,
    steers_from_json,
    steers_to_json,
    tuning_from_json,
    tuning_to_json,
)
from wavelength.domain import ArtistId, Mood, PlaylistId, Station, StationId, Steer, Tuning, UserId

if TYPE_CHECKING:
    import random
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection, Row

NAME_MAX = 100
_USER_NAME_MAX = 100  # users.name
SHARE_CODE_LENGTH = 8
# No 0/O or 1/I: a code read aloud or copied by hand can't be misread.
SHARE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_SYSTEM_RANDOM = secrets.SystemRandom()
_STATIONS = Base.metadata.tables["stations"]
_ACTIVE = Base.metadata.tables["active_stations"]
_IDENTITIES = Base.metadata.tables["identities"]
# The hot path's statements, built once: building a statement costs more Python than
# executing it from SQLAlchemy's compiled cache, and only the parameter values change.
_GET_STATION = select(_STATIONS).where(StationRow.id == bindparam("station"))
_GET_ACTIVE = select(ActiveStationRow.station_id, ActiveStationRow.read_only).where(
    ActiveStationRow.user_id == bindparam("user")
)
_CLEAR_ACTIVE = delete(ActiveStationRow).where(ActiveStationRow.user_id == bindparam("user"))


class DuplicateStationName(ValueError):
    """The owner already has a station of this name (names compare case-insensitively)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"you already have a station called {name!r}")
        self.name = name


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
        mood=mood_from_json(row.mood),
        tuning=tuning_from_json(row.tuning),
        steers=steers_from_json(row.steers),
        banned_artists=tuple(ArtistId(a) for a in row.banned_artists),
        seed_playlist=PlaylistId(row.seed_playlist_id) if row.seed_playlist_id else None,
        share_code=row.share_code,
        created_at=utc(row.created_at),
    )


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
        dialect_insert(conn, _IDENTITIES)
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
    at = utc(now)
    station_id = conn.execute(
        insert(_STATIONS)
        .values(
            owner_id=owner,
            name=clean,
            name_key=key,
            mood=mood_to_json(mood),
            tuning=tuning_to_json(tuning),
            steers=steers_to_json(steers),
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
    row = conn.execute(_GET_STATION, {"station": station_id}).first()
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
            mood=mood_to_json(station.mood),
            tuning=tuning_to_json(station.tuning),
            steers=steers_to_json(station.steers),
            banned_artists=list(station.banned_artists),
            seed_playlist_id=station.seed_playlist,
            share_code=station.share_code.upper() if station.share_code else None,
            updated_at=utc(now),
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
    feedback.copy_reactions(conn=conn, source=source.id, target=copy.id, owner=new_owner, now=now)
    return copy


# --- the active station -------------------------------------------------------------------------


def set_active(
    *, conn: Connection, user: UserId, station_id: StationId | None, read_only: bool = False
) -> None:
    """Point the user at a station (``read_only`` for someone else's); None clears it."""
    if station_id is None:
        conn.execute(_CLEAR_ACTIVE, {"user": user})
        return
    conn.execute(_set_active(conn), {"user": user, "station": station_id, "read_only": read_only})


_set_active = per_dialect(
    lambda insert: (
        insert(_ACTIVE)
        .values(
            user_id=bindparam("user"),
            station_id=bindparam("station"),
            read_only=bindparam("read_only"),
        )
        .on_conflict_do_update(
            index_elements=["user_id"],
            set_={"station_id": bindparam("station"), "read_only": bindparam("read_only")},
        )
    )
)


def get_active(*, conn: Connection, user: UserId) -> tuple[StationId, bool] | None:
    """The user's active station and whether it is read-only, or None."""
    row = conn.execute(_GET_ACTIVE, {"user": user}).first()
    return (StationId(row.station_id), bool(row.read_only)) if row is not None else None


def named_stations(
    *, conn: Connection, owners: Sequence[UserId], name: str
) -> dict[UserId, Station]:
    """Each owner's station called ``name`` (case-insensitive), where they have one."""
    _, key = _clean_name(name)
    rows = conn.execute(
        select(_STATIONS).where(StationRow.owner_id.in_(list(owners)), StationRow.name_key == key)
    )
    return {UserId(r.owner_id): _station(r) for r in rows}


def set_moods(*, conn: Connection, moods: Sequence[tuple[StationId, Mood]], now: datetime) -> None:
    """Replace the moods of many stations in one statement."""
    if not moods:
        return
    conn.execute(
        update(_STATIONS)
        .where(_STATIONS.c.id == bindparam("sid"))
        .values(mood=bindparam("new_mood"), updated_at=utc(now)),
        [{"sid": s, "new_mood": mood_to_json(m)} for s, m in moods],
    )
