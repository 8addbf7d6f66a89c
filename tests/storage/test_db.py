from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import (
    DatabaseUnavailableError,
    check_reachable,
    make_engine,
    open_database,
    safe_url,
)


def test_safe_url_masks_the_password() -> None:
    assert safe_url("postgresql://wl:s3cret@db:5432/x") == "postgresql://wl:***@db:5432/x"
    assert "s3cret" not in safe_url("postgresql+psycopg://wl:s3cret@db/x")


def test_unreachable_postgres_gives_one_clear_line() -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    engine = make_engine("postgresql://wl:s3cret@127.0.0.1:9/wavelength")
    with pytest.raises(DatabaseUnavailableError) as caught:
        check_reachable(engine)
    message = str(caught.value)
    assert (
        "cannot reach the database at postgresql+psycopg://wl:***@127.0.0.1:9/wavelength" in message
    )
    assert "s3cret" not in message
    assert "\n" not in message


@pytest.mark.parametrize("url", ["nonsense", "mysql://root@localhost/x"])
def test_unsupported_urls_are_explained(url: str) -> None:
    with pytest.raises(DatabaseUnavailableError, match=r"(?i)sqlite.*postgres"):
        make_engine(url)


def test_sqlite_file_and_folder_are_created(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "wl.db"
    engine = open_database(f"sqlite:///{target}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
    assert target.is_file()
