"""HTTP API keys: created for a user, found by the key, revoked. Only hashes are stored.

A key is ``wl_`` and 43 characters of ``secrets.token_urlsafe(32)``: 256 random bits, so a
plain SHA-256 is enough to make a stolen table useless (there is nothing to guess).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, insert, select, update

from storage import stations
from storage._sql import utc
from storage.models import ApiKeyRow, UserRow
from wavelength.domain import UserId

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.engine import Connection

PREFIX = "wl_"
LABEL_MAX = 100
# Every API request looks its key up: built once, as rebuilding it costs more than running it.
_USER_FOR_KEY = select(ApiKeyRow.user_id).where(
    ApiKeyRow.key_hash == bindparam("hash"), ApiKeyRow.revoked_at.is_(None)
)


@dataclass(frozen=True, slots=True)
class NewKey:
    id: int
    user: UserId
    key: str  # shown once; only its hash is stored


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(*, conn: Connection, user: UserId, label: str, now: datetime) -> NewKey:
    clean = label.strip()
    if not clean or len(clean) > LABEL_MAX:
        raise ValueError(f"a key label has 1 to {LABEL_MAX} characters")
    key = PREFIX + secrets.token_urlsafe(32)
    key_id = conn.execute(
        insert(ApiKeyRow)
        .values(user_id=user, key_hash=hash_key(key), label=clean, created_at=utc(now))
        .returning(ApiKeyRow.id)
    ).scalar_one()
    return NewKey(key_id, user, key)


def user_for_key(*, conn: Connection, key: str) -> UserId | None:
    """The user a live key belongs to; None for an unknown or revoked key."""
    if not key.startswith(PREFIX) or len(key) > 200:
        return None
    found = conn.execute(_USER_FOR_KEY, {"hash": hash_key(key)}).scalar_one_or_none()
    return None if found is None else UserId(found)


def revoke(*, conn: Connection, key_id: int, now: datetime) -> bool:
    done = conn.execute(
        update(ApiKeyRow)
        .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
        .values(revoked_at=utc(now))
    )
    return done.rowcount == 1


def user_named(*, conn: Connection, name: str) -> UserId:
    """The user ``name`` means: an existing user of that exact name ("telegram:1234"), else
    the one behind the "api" identity ``name``, created on first use."""
    found = conn.execute(select(UserRow.id).where(UserRow.name == name)).scalar_one_or_none()
    if found is not None:
        return UserId(found)
    return stations.get_or_create_user(
        conn=conn, provider="api", external_id=name, display_name=name
    )
