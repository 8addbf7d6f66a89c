"""Tokens: sealed at rest, kept out of logs, refreshed before they expire, and a revoked one
turns into a broken link rather than an error loop. Plus the secret key's settings."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from spotify.auth import SpotifyConfig
from spotify.crypto import TokenBox, UnreadableToken, development_secret
from spotify.redact import redact
from storage import spotify as repo
from tests.spotify.conftest import SECRET, link, new_user
from tests.support.fake_spotify import FakeSpotify
from wavelength.domain import TrackId, UserId
from wavelength.settings import Settings
from wavelength.spotify_service import SpotifyLinkBroken, SpotifyService, build_spotify_service


def _sealed(engine: Engine, user: UserId) -> str:
    with engine.connect() as conn:
        found = repo.get_link(conn=conn, user=user)
    assert found is not None and found.token is not None
    return found.token


def _issued(fake: FakeSpotify) -> list[str]:
    return list(fake._access) + list(fake._refresh)


def test_tokens_are_unreadable_in_the_database_file_without_the_key(
    spotify: SpotifyService,
    fake: FakeSpotify,
    linked: UserId,
    sqlite_engine: Engine,
    tmp_path: Path,
) -> None:
    spotify.push(linked, "daily", "Daily", "", [TrackId(fake.add_track("Song", "Nina"))])
    tokens = _issued(fake)
    assert tokens
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("fast.db*"))  # the file and its WAL
    assert raw and b"spotify_links" in raw
    for token in tokens:
        assert token.encode() not in raw
    sealed = _sealed(sqlite_engine, linked)
    assert TokenBox(SECRET).open(sealed)["refresh_token"] in fake._refresh
    with pytest.raises(UnreadableToken):
        TokenBox("another-secret-key-of-enough-length-000").open(sealed)


def test_no_token_code_state_or_client_secret_reaches_the_logs(
    spotify: SpotifyService,
    fake: FakeSpotify,
    sqlite_engine: Engine,
    config: SpotifyConfig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in (
        "spotipy",
        "spotipy.client",
        "spotipy.oauth2",
        "urllib3",
        "urllib3.connectionpool",
    ):
        caplog.set_level(logging.DEBUG, logger=name)
    fake.add_user("ana")
    user = new_user(sqlite_engine)
    authorize = spotify.authorize_url(user)
    redirect = fake.consent(authorize, "ana")
    assert spotify.complete_pasted(user, redirect).linked
    fake.expire_access_tokens()  # a 401, a refresh, a retry: every path that logs
    spotify.push(user, "daily", "Daily", "", [TrackId(fake.add_track("Song", "Nina"))])
    logged = caplog.text
    assert "Sending POST" in logged and "Authorization" in logged  # spotipy did log requests
    secrets = [*_issued(fake), config.client_secret]
    secrets += [v for k, v in _query(redirect).items() if k in ("code", "state")]
    for secret in secrets:
        assert secret not in logged


def _query(url: str) -> dict[str, str]:
    from urllib.parse import parse_qs, urlsplit

    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_redaction_covers_headers_json_and_query_strings() -> None:
    line = (
        "Headers: {'Authorization': 'Bearer abc.DEF-123'} Basic Zm9vOmJhcg== "
        "Body: {'code': 'c0de', \"refresh_token\": \"r3fresh\"} GET /cb?code=xyz&state=s7&x=1"
    )
    cleaned = redact(line)
    for secret in ("abc.DEF-123", "Zm9vOmJhcg==", "c0de", "r3fresh", "xyz", "s7"):
        assert secret not in cleaned
    assert "x=1" in cleaned and "GET /cb" in cleaned


def test_a_token_near_expiry_is_refreshed_before_use_and_stored_sealed(
    sqlite_engine: Engine, config: SpotifyConfig, box: TokenBox
) -> None:
    with FakeSpotify(token_ttl=30) as fake:  # spotipy refreshes within 60 s of expiry
        service = SpotifyService(
            engine=sqlite_engine,
            config=SpotifyConfig(
                client_id=fake.client_id, client_secret=fake.client_secret,
                redirect_uri=config.redirect_uri, api_url=fake.api_url,
                accounts_url=fake.accounts_url,
            ),
            box=box,
        )  # fmt: skip
        user = new_user(sqlite_engine)
        link(service, fake, user, "ana")
        before = box.open(_sealed(sqlite_engine, user))
        service.push(user, "daily", "Daily", "", [TrackId(fake.add_track("Song", "Nina"))])
        after = box.open(_sealed(sqlite_engine, user))
        grants = [c.body for c in fake.calls if c.path == "/api/token"]
        assert any("grant_type=refresh_token" in str(g) for g in grants)
        assert not [c for c in fake.calls if c.status == 401]  # refreshed before, not after
        assert after["access_token"] != before["access_token"]
        assert after["refresh_token"] != before["refresh_token"]  # rotation kept


def test_a_token_spotify_ended_early_is_refreshed_once_and_the_call_repeated(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId
) -> None:
    fake.expire_access_tokens()
    report = spotify.push(linked, "daily", "Daily", "", [TrackId(fake.add_track("Song", "Nina"))])
    assert report.tracks == 1
    assert [c.status for c in fake.calls if c.status == 401] == [401]


def test_a_revoked_token_breaks_the_link_until_the_user_links_again(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId, sqlite_engine: Engine
) -> None:
    song = TrackId(fake.add_track("Song", "Nina"))
    fake.revoke("ana")
    with pytest.raises(SpotifyLinkBroken, match="/link"):
        spotify.push(linked, "daily", "Daily", "", [song])
    status = spotify.status(linked)
    assert status.broken and not status.linked
    calls = len(fake.calls)
    with pytest.raises(SpotifyLinkBroken):
        spotify.import_library(linked)
    assert len(fake.calls) == calls  # known broken: no more requests
    link(spotify, fake, linked, "ana")
    assert spotify.push(linked, "daily", "Daily", "", [song]).tracks == 1


def test_a_changed_secret_key_reads_as_a_broken_link(
    sqlite_engine: Engine, config: SpotifyConfig, fake: FakeSpotify, linked: UserId
) -> None:
    other = SpotifyService(
        engine=sqlite_engine, config=config, box=TokenBox("a-different-secret-key-0123456789xyz")
    )
    with pytest.raises(SpotifyLinkBroken):
        other.push(linked, "daily", "Daily", "", [TrackId(fake.add_track("Song", "Nina"))])


# --- the secret key ---------------------------------------------------------------------------


def test_production_refuses_to_start_without_a_real_secret_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WAVELENGTH_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="WAVELENGTH_SECRET_KEY is required"):
        Settings()
    monkeypatch.setenv("WAVELENGTH_SECRET_KEY", "changeme")
    with pytest.raises(ValidationError, match="placeholder or shorter"):
        Settings()
    monkeypatch.setenv("WAVELENGTH_SECRET_KEY", SECRET)
    assert Settings().secret_key is not None


def test_development_keeps_a_generated_key_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "home" / "secret.key"
    first = development_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and development_secret(path) == first
    path.chmod(0o644)
    assert development_secret(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_service_is_built_only_when_an_app_is_configured(
    monkeypatch: pytest.MonkeyPatch, sqlite_engine: Engine
) -> None:
    assert build_spotify_service(Settings(), sqlite_engine) is None
    monkeypatch.setenv("WAVELENGTH_SPOTIFY_CLIENT_ID", "id")
    monkeypatch.setenv("WAVELENGTH_SPOTIFY_CLIENT_SECRET", "client-secret-value")
    settings = Settings()
    assert build_spotify_service(settings, sqlite_engine) is not None
    assert settings.secret_key_path.is_file()  # development made its key
    assert "client-secret-value" not in repr(settings)
