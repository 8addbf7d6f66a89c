"""Shared fixtures: databases (SQLite file and PostgreSQL), the real-data folder, problems,
and the known-answer world with a station service and its listeners."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from ingest.problems import ProblemLog
from storage.db import make_engine, upgrade

if TYPE_CHECKING:
    from bot.chat import ChatEngine
    from tests.support.world import World
    from wavelength.domain import UserId
    from wavelength.stations import StationService

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("WAVELENGTH_SHARED_DATA", REPO.parent / "shared" / "data"))
PG_ADMIN_URL = os.environ.get(
    "WAVELENGTH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's real data home, .env or database."""
    monkeypatch.setenv("WAVELENGTH_DATA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def shared_data() -> Path:
    """The real data folder beside the repository; skipped where a fresh clone lacks it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (set WAVELENGTH_SHARED_DATA); CI has it")
    return SHARED_DATA


@pytest.fixture
def problems() -> ProblemLog:
    return ProblemLog()


def _postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except OperationalError:
        return False
    return True


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    if not _postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but {PG_ADMIN_URL} is unreachable")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}; CI starts it (.ci/run)")
    name = f"wavelength_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once for a SQLite file and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated, empty database on each backend."""
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database, for tests whose logic does not depend on the backend."""
    engine = make_engine(f"sqlite:///{tmp_path / 'fast.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


# --- the known-answer world and a station service over it ----------------------------------------

# The engine, qdrant and the service are imported on first use: every test run loads this
# file, and most tests need none of them (they add seconds to a one-test run).

_listeners = itertools.count(1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The known-answer radio world (tests/support/world.py), built once per test module."""
    from tests.support.world import world_fixture

    yield from world_fixture(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def service(world: World) -> StationService:
    """The station service over ``world``, with a seeded random source."""
    return world.service(0)


@pytest.fixture
def user(service: StationService) -> UserId:
    """A fresh listener per test: tests never see each other's stations."""
    return service.user("test", f"listener-{next(_listeners)}")


@pytest.fixture
def other(service: StationService) -> UserId:
    return service.user("test", f"other-{next(_listeners)}")


@pytest.fixture
def chat_engine(world: World, service: StationService) -> Iterator[ChatEngine]:
    """The async chat engine over ``world`` (roomy flood limits; use fresh account ids per
    test so tests never share a listener)."""
    import asyncio

    from tests.support.chat import make_chat_engine

    engine = make_chat_engine(world, service)
    yield engine
    asyncio.run(engine.close())
