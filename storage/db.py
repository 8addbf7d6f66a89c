"""Engines, reachability checks and migrations for SQLite and PostgreSQL."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


class DatabaseUnavailableError(RuntimeError):
    """The configured database cannot be reached or used; the message says what to do."""


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _normalize(url: str) -> str:
    # Plain postgresql:// would pick psycopg2, which we do not ship; psycopg 3 is the driver.
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the bot read while an ingest writes. NORMAL in WAL: a commit survives the
    # process being killed; a power cut or OS crash may lose the last commits (never corrupts).
    # FULL would fsync every reaction; PostgreSQL is the choice where that matters.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 64 MB page cache: index maintenance on bulk ingest is mostly cache misses otherwise.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; SQLite files get their folder created and WAL mode."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailableError(
            f"DATABASE_URL is not a valid database URL ({exc}). "
            "Use sqlite:///path/to/file.db or postgresql://user:password@host:5432/dbname."
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise DatabaseUnavailableError(
            f"unsupported database {parsed.get_backend_name()!r}: Wavelength runs on SQLite or PostgreSQL"
        )
    return create_engine(_normalize(url), pool_pre_ping=True, connect_args={"connect_timeout": 5})


def check_reachable(engine: Engine) -> None:
    """Raise DatabaseUnavailableError with one clear line when the database can't be used."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, ProgrammingError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise DatabaseUnavailableError(
            f"cannot reach the database at {safe_url(str(engine.url))}: {reason}. "
            "Check DATABASE_URL, or start the server (PostgreSQL: "
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)."
        ) from None


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine``; migrations ship inside the package."""
    config = Config()
    config.set_main_option("script_location", str(files("migrations")))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def open_database(url: str) -> Engine:
    """Engine for ``url``, checked reachable and migrated to the newest schema."""
    engine = make_engine(url)
    check_reachable(engine)
    upgrade(engine)
    return engine
