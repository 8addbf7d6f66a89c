"""``wavelength api-key create`` prints a key that the stored hash recognises, once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from storage import api_keys
from storage.db import make_engine
from storage.models import ApiKeyRow, UserRow
from wavelength.cli import app


def test_api_key_create_prints_a_working_key(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["api-key", "create", "--user", "alice"])
    again = runner.invoke(app, ["api-key", "create", "--user", "alice", "--label", "laptop"])
    assert first.exit_code == 0 and again.exit_code == 0, first.output
    key, other = first.stdout.strip().splitlines()[-1], again.stdout.strip().splitlines()[-1]
    assert key.startswith("wl_") and key != other
    engine = make_engine(f"sqlite:///{tmp_path / 'home' / 'wavelength.db'}")
    with engine.connect() as conn:
        owner = api_keys.user_for_key(conn=conn, key=key)
        assert owner is not None and owner == api_keys.user_for_key(conn=conn, key=other)
        assert conn.execute(select(UserRow.name).where(UserRow.id == owner)).scalar() == "api:alice"
        hashes = conn.execute(select(ApiKeyRow.key_hash)).scalars().all()
    engine.dispose()
    assert key not in hashes and api_keys.hash_key(key) in hashes
    assert runner.invoke(app, ["api-key", "create", "--user", " "]).exit_code == 2
