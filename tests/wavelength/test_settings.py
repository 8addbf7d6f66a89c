from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from wavelength.settings import Environment, Settings


def test_defaults_put_sqlite_in_the_data_home(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.data_home == tmp_path / "home"
    assert settings.database_url == f"sqlite:///{tmp_path / 'home' / 'wavelength.db'}"
    assert settings.environment is Environment.DEVELOPMENT


def test_database_url_switches_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://wl:pw@db:5432/wavelength")
    assert Settings().database_url == "postgresql://wl:pw@db:5432/wavelength"


def test_api_threads_fit_the_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().api_lane_threads == 1  # SQLite and embedded Qdrant: CPU work only
    monkeypatch.setenv("QDRANT_URL", "http://qdrant:6333")
    assert Settings().api_lane_threads == 8
    monkeypatch.delenv("QDRANT_URL")
    monkeypatch.setenv("DATABASE_URL", "postgresql://wl:pw@db:5432/wavelength")
    assert Settings().api_lane_threads == 8
    monkeypatch.setenv("WAVELENGTH_API_THREADS", "3")
    assert Settings().api_lane_threads == 3  # set by hand, it is kept


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("WAVELENGTH_INGEST_BATCH_SIZE=42\nTELEGRAM_TOKEN=abc:123\n")
    settings = Settings()
    assert settings.ingest_batch_size == 42
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == "abc:123"
    assert "abc:123" not in repr(settings)  # secrets never show in logs or tracebacks


def test_placeholder_secret_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAVELENGTH_ENVIRONMENT", "production")
    monkeypatch.setenv("DISCORD_TOKEN", "changeme")
    with pytest.raises(ValidationError, match="placeholder"):
        Settings()


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAVELENGTH_INGEST_BATCH_SIZE", "0")
    with pytest.raises(ValidationError):
        Settings()
