"""Linking a Spotify account: the callback and the pasted-URL flows, and every way a state
can be wrong (unknown, reused, expired, someone else's, refused)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from spotify.auth import SpotifyConfig, parse_redirect, state_hash
from spotify.crypto import TokenBox
from spotify.web import callback_app, start_callback_server
from storage.models import SpotifyAuthStateRow
from tests.spotify.conftest import FakeClock, Sleeps, link, new_user
from tests.support.fake_spotify import FakeSpotify
from wavelength.domain import TrackId, UserId
from wavelength.spotify_service import LinkResult, SpotifyService


def _state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def test_the_authorize_url_asks_for_our_scopes_with_a_fresh_state(
    spotify: SpotifyService, config: SpotifyConfig, sqlite_engine: Engine
) -> None:
    user = new_user(sqlite_engine)
    first, second = spotify.authorize_url(user), spotify.authorize_url(user)
    query = parse_qs(urlsplit(first).query)
    assert first.startswith(config.authorize_url)
    assert query["client_id"] == [config.client_id]
    assert query["redirect_uri"] == [config.redirect_uri]
    assert {"playlist-modify-private", "user-read-recently-played"} <= set(
        query["scope"][0].split()
    )
    assert _state(first) != _state(second)
    with sqlite_engine.connect() as conn:
        stored = set(conn.scalars(select(SpotifyAuthStateRow.state_hash)))
    assert state_hash(_state(first)) in stored
    assert _state(first) not in stored  # only hashes are kept


def test_the_callback_links_the_user_behind_the_state(
    spotify: SpotifyService, fake: FakeSpotify, sqlite_engine: Engine
) -> None:
    fake.add_user("ana", "Ana Lima")
    user = new_user(sqlite_engine)
    redirect = parse_redirect(fake.consent(spotify.authorize_url(user), "ana"))
    result = spotify.complete(redirect.state, redirect.code)
    assert result == LinkResult(user, True, "Linked to Spotify as Ana Lima.", "Ana Lima")
    status = spotify.status(user)
    assert status.linked and not status.broken and status.spotify_id == "ana"


def test_a_pasted_redirect_url_links_and_a_state_works_once(
    spotify: SpotifyService, fake: FakeSpotify, sqlite_engine: Engine
) -> None:
    fake.add_user("ana")
    user = new_user(sqlite_engine)
    redirect = fake.consent(spotify.authorize_url(user), "ana")
    assert spotify.complete_pasted(user, f"  <{redirect}>  ").linked
    again = spotify.complete_pasted(user, redirect)
    assert not again.linked and "used already" in again.message


def test_unknown_states_and_garbage_are_refused(
    spotify: SpotifyService, sqlite_engine: Engine
) -> None:
    user = new_user(sqlite_engine)
    assert "unknown" in spotify.complete("made-up", "code").message
    assert not spotify.complete_pasted(user, "hello there").linked
    assert not spotify.complete(None, None).linked
    assert spotify.status(user).linked is False


def test_an_expired_state_is_refused(
    sqlite_engine: Engine, config: SpotifyConfig, box: TokenBox, fake: FakeSpotify
) -> None:
    clock = FakeClock()
    service = SpotifyService(engine=sqlite_engine, config=config, box=box, clock=clock)
    fake.add_user("ana")
    user = new_user(sqlite_engine)
    redirect = fake.consent(service.authorize_url(user), "ana")
    clock.advance(minutes=10, seconds=1)
    result = service.complete_pasted(user, redirect)
    assert not result.linked and "expired" in result.message


def test_a_state_made_for_someone_else_is_refused_and_spent(
    spotify: SpotifyService, fake: FakeSpotify, sqlite_engine: Engine
) -> None:
    fake.add_user("ana")
    victim, thief = new_user(sqlite_engine), new_user(sqlite_engine)
    redirect = fake.consent(spotify.authorize_url(victim), "ana")
    assert "someone else" in spotify.complete_pasted(thief, redirect).message
    assert not spotify.complete_pasted(victim, redirect).linked  # spent: nobody can use it
    assert not spotify.status(thief).linked and not spotify.status(victim).linked


def test_declining_on_spotify_links_nothing(
    spotify: SpotifyService, fake: FakeSpotify, sqlite_engine: Engine
) -> None:
    fake.add_user("ana")
    user = new_user(sqlite_engine)
    redirect = fake.consent(spotify.authorize_url(user), "ana", deny=True)
    result = spotify.complete_pasted(user, redirect)
    assert not result.linked and "access_denied" in result.message


def test_a_user_off_the_development_mode_list_is_told_why(
    spotify: SpotifyService, fake: FakeSpotify, sqlite_engine: Engine
) -> None:
    fake.add_user("ana")
    fake.allowlist = {"owner"}
    user = new_user(sqlite_engine)
    result = spotify.complete_pasted(user, fake.consent(spotify.authorize_url(user), "ana"))
    assert not result.linked and "5 people" in result.message


def test_one_spotify_account_links_to_one_user(
    spotify: SpotifyService, fake: FakeSpotify, sqlite_engine: Engine
) -> None:
    first, second = new_user(sqlite_engine), new_user(sqlite_engine)
    link(spotify, fake, first, "ana")
    result = spotify.complete_pasted(second, fake.consent(spotify.authorize_url(second), "ana"))
    assert not result.linked and "another Wavelength user" in result.message


def test_relinking_another_account_forgets_the_old_accounts_playlists(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId, sqlite_engine: Engine
) -> None:
    song = fake.add_track("Song", "Nina")
    spotify.push(linked, "daily", "Daily", "", [TrackId(song)])
    assert spotify.status(linked).playlists
    link(spotify, fake, linked, "bea")
    assert spotify.status(linked).playlists == ()
    assert spotify.status(linked).spotify_id == "bea"


def test_unlink_removes_the_link_its_token_and_its_playlist_records(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId, sqlite_engine: Engine
) -> None:
    spotify.push(linked, "daily", "Daily", "", [TrackId(fake.add_track("Song", "Nina"))])
    assert spotify.unlink(linked)
    assert not spotify.unlink(linked)
    with sqlite_engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM spotify_links")).scalar_one()
        pushes = conn.execute(text("SELECT count(*) FROM spotify_pushes")).scalar_one()
    assert (left, pushes) == (0, 0)


def test_the_callback_endpoint_links_and_tells_the_chat(
    sqlite_engine: Engine,
    config: SpotifyConfig,
    box: TokenBox,
    fake: FakeSpotify,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.add_user("ana", "Ana")
    user = new_user(sqlite_engine)
    told: list[LinkResult] = []

    async def notify(result: LinkResult) -> None:
        told.append(result)

    async def scenario() -> tuple[str, list[tuple[int, str, str | None]]]:
        services: list[SpotifyService] = []
        app = callback_app(complete=lambda *query: services[0].complete(*query), notify=notify)
        runner = await start_callback_server(app, host="127.0.0.1", port=0)
        try:
            redirect_uri = f"http://127.0.0.1:{runner.addresses[0][1]}/spotify/callback"
            fake.redirect_uris.add(redirect_uri)
            services.append(
                SpotifyService(
                    engine=sqlite_engine,
                    config=replace(config, redirect_uri=redirect_uri),
                    box=box,
                    sleep=sleeps,
                )
            )
            location = await asyncio.to_thread(fake.consent, services[0].authorize_url(user), "ana")
            answers = []
            async with aiohttp.ClientSession() as http:
                for _ in range(2):  # the second time, the state is spent
                    async with http.get(location) as answer:
                        answers.append(
                            (
                                answer.status,
                                await answer.text(),
                                answer.headers.get("Cache-Control"),
                            )
                        )
            return location, answers
        finally:
            await runner.cleanup()

    location, (first, second) = asyncio.run(scenario())
    assert first[0] == 200 and "Linked to Spotify as Ana" in first[1]
    assert first[2] == "no-store"
    assert second[0] == 400 and "used already" in second[1]
    assert [r.linked for r in told] == [True, False]
    assert told[0].user == user
    assert "GET /spotify/callback 200" in caplog.text  # the access log, without its query
    code = parse_qs(urlsplit(location).query)["code"][0]
    assert code not in caplog.text and _state(location) not in caplog.text
