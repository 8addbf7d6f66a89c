"""Fixtures for the Spotify tests: the fake Spotify on loopback, the real spotipy adapter
pointed at it, and the service over a migrated SQLite database."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from spotify.auth import SpotifyConfig
from spotify.crypto import TokenBox
from storage import stations as station_repo
from tests.support.fake_spotify import FakeSpotify
from wavelength.domain import UserId
from wavelength.spotify_service import SpotifyService

SECRET = "test-secret-key-0123456789-abcdefghijklmnop"
_people = itertools.count(1)


@pytest.fixture
def fake() -> Iterator[FakeSpotify]:
    with FakeSpotify() as server:
        yield server


@pytest.fixture
def config(fake: FakeSpotify) -> SpotifyConfig:
    return SpotifyConfig(
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        redirect_uri=next(iter(fake.redirect_uris)),
        api_url=fake.api_url,
        accounts_url=fake.accounts_url,
        connect_timeout=2.0,
        read_timeout=2.0,
    )


@pytest.fixture
def box() -> TokenBox:
    return TokenBox(SECRET)


@dataclass
class Sleeps:
    """The service's sleep: records the pauses instead of taking them."""

    pauses: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def spotify(
    sqlite_engine: Engine, config: SpotifyConfig, box: TokenBox, sleeps: Sleeps
) -> SpotifyService:
    return SpotifyService(engine=sqlite_engine, config=config, box=box, sleep=sleeps)


def new_user(engine: Engine, name: str = "listener") -> UserId:
    with engine.begin() as conn:
        return station_repo.get_or_create_user(
            conn=conn, provider="test", external_id=f"{name}-{next(_people)}", display_name=None
        )


def link(spotify: SpotifyService, fake: FakeSpotify, user: UserId, spotify_id: str) -> None:
    """Link ``user`` to the fake's ``spotify_id`` the way a person does (paste flow)."""
    if spotify_id not in fake.users:
        fake.add_user(spotify_id, spotify_id.title())
    redirect = fake.consent(spotify.authorize_url(user), spotify_id)
    result = spotify.complete_pasted(user, redirect)
    assert result.linked, result.message


@pytest.fixture
def linked(spotify: SpotifyService, fake: FakeSpotify, sqlite_engine: Engine) -> UserId:
    """A Wavelength user linked to the fake's Spotify user "ana"."""
    user = new_user(sqlite_engine)
    link(spotify, fake, user, "ana")
    return user


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
