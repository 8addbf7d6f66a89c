"""Tiny SQL helpers the storage repositories share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection


def utc(at: datetime) -> datetime:
    """``at`` in UTC; a naive datetime is taken as UTC already."""
    # SQLite hands back naive datetimes; PostgreSQL aware ones in the session's zone.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _insert_of(dialect_name: str) -> Callable[[Table], Any]:
    """The dialect's own ``insert``, which has ``on_conflict_do_*`` on both backends."""
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


def dialect_insert(conn: Connection, table: Table) -> Any:
    """The dialect's own INSERT, which has ``on_conflict_do_*`` on both backends."""
    return _insert_of(conn.dialect.name)(table)


def per_dialect(build: Callable[[Any], Any]) -> Callable[[Connection], Any]:
    """``build(dialect_insert)`` made once per database kind, for hot statements with an
    ON CONFLICT clause (it differs between SQLite and PostgreSQL; the rest does not)."""
    made: dict[str, Any] = {}

    def statement(conn: Connection) -> Any:
        name = conn.dialect.name
        if name not in made:
            made[name] = build(_insert_of(name))
        return made[name]

    return statement


def is_unique_violation(exc: IntegrityError) -> bool:
    """A unique index refused the row (not a foreign key or a NOT NULL)."""
    orig = exc.orig
    return (
        getattr(orig, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_UNIQUE"
        or getattr(orig, "sqlstate", None) == "23505"  # PostgreSQL's unique_violation
    )
