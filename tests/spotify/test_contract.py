"""The fake behaves like Spotify's documented API for every call Wavelength makes: request
and response shapes, paging, limits, errors and the 2026 Development Mode refusals. Run
over loopback through spotipy, our adapter and plain HTTP."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler

from spotify.api import (
    SCOPES,
    Forbidden,
    NotFound,
    RateLimited,
    Unavailable,
)
from spotify.auth import SpotifyConfig
from spotify.spotipy_api import SpotipyApi
from tests.support.fake_spotify import FakeSpotify, Fault


def _authorize(fake: FakeSpotify, config: SpotifyConfig, scopes: tuple[str, ...] = SCOPES) -> str:
    """An authorization code for "ana", through spotipy's own authorize URL."""
    oauth = spotipy.SpotifyOAuth(
        client_id=config.client_id,
        client_secret=config.client_secret,
        redirect_uri=config.redirect_uri,
        scope=list(scopes),
        cache_handler=MemoryCacheHandler(),
        requests_session=False,
    )
    oauth.OAUTH_AUTHORIZE_URL = config.authorize_url
    redirect = fake.consent(oauth.get_authorize_url(state="s-1"), "ana")
    query = parse_qs(urlsplit(redirect).query)
    assert query["state"] == ["s-1"]
    return query["code"][0]


def _exchange(http: requests.Session, config: SpotifyConfig, code: str) -> requests.Response:
    return http.post(
        config.token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": config.redirect_uri,
        },
        auth=(config.client_id, config.client_secret),
        timeout=5,
    )


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def token(fake: FakeSpotify, config: SpotifyConfig, http: requests.Session) -> str:
    fake.add_user("ana", "Ana", market="DE")
    answer = _exchange(http, config, _authorize(fake, config))
    assert answer.status_code == 200
    return str(answer.json()["access_token"])


@pytest.fixture
def api(config: SpotifyConfig, token: str) -> Iterator[SpotipyApi]:
    cache = MemoryCacheHandler(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_at": int(time.time()) + 3600,
            "refresh_token": "unused",
            "scope": " ".join(sorted(SCOPES)),
        }
    )
    with SpotipyApi(config, cache) as client:
        yield client


def _get(
    http: requests.Session, fake: FakeSpotify, path: str, token: str | None, **params: str
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.get(fake.api_url + path, headers=headers, params=params, timeout=5)


# --- accounts service -------------------------------------------------------------------------


def test_the_code_grant_answers_oauth_token_json_and_the_code_works_once(
    fake: FakeSpotify, config: SpotifyConfig, http: requests.Session
) -> None:
    fake.add_user("ana")
    code = _authorize(fake, config)
    answer = _exchange(http, config, code)
    body = answer.json()
    assert answer.status_code == 200
    assert body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == set(SCOPES)
    assert body["expires_in"] == 3600
    assert body["access_token"] and body["refresh_token"]
    again = _exchange(http, config, code)
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid authorization code",
    }


def test_the_token_endpoint_checks_client_credentials_and_the_redirect_uri(
    fake: FakeSpotify, config: SpotifyConfig, http: requests.Session
) -> None:
    fake.add_user("ana")
    wrong_secret = http.post(
        config.token_url,
        data={
            "grant_type": "authorization_code",
            "code": _authorize(fake, config),
            "redirect_uri": config.redirect_uri,
        },
        headers={
            "Authorization": "Basic " + base64.b64encode(b"wavelength-test-client:nope").decode()
        },
        timeout=5,
    )
    assert wrong_secret.json()["error"] == "invalid_client"
    other_redirect = http.post(
        config.token_url,
        data={
            "grant_type": "authorization_code",
            "code": _authorize(fake, config),
            "redirect_uri": "http://127.0.0.1:1/x",
        },
        auth=(config.client_id, config.client_secret),
        timeout=5,
    )
    assert other_redirect.json()["error"] == "invalid_grant"


def test_refresh_rotates_the_refresh_token_and_revocation_answers_invalid_grant(
    fake: FakeSpotify, config: SpotifyConfig, http: requests.Session
) -> None:
    fake.add_user("ana")
    first = _exchange(http, config, _authorize(fake, config)).json()

    def refresh(token: str) -> requests.Response:
        return http.post(
            config.token_url,
            data={"grant_type": "refresh_token", "refresh_token": token},
            auth=(config.client_id, config.client_secret),
            timeout=5,
        )

    renewed = refresh(first["refresh_token"])
    assert renewed.status_code == 200
    assert renewed.json()["refresh_token"] != first["refresh_token"]
    assert refresh(first["refresh_token"]).json()["error"] == "invalid_grant"  # rotated away
    fake.revoke("ana")
    dead = refresh(renewed.json()["refresh_token"])
    assert dead.status_code == 400
    assert dead.json()["error"] == "invalid_grant"


def test_authorize_redirects_with_state_and_reports_a_refusal(
    fake: FakeSpotify, config: SpotifyConfig, http: requests.Session
) -> None:
    fake.add_user("ana")
    url = f"{config.authorize_url}?client_id={config.client_id}&response_type=code&redirect_uri={config.redirect_uri}&state=xyz"
    denied = parse_qs(urlsplit(fake.consent(url, "ana", deny=True)).query)
    assert denied == {"error": ["access_denied"], "state": ["xyz"]}
    unregistered = http.get(
        config.authorize_url,
        params={
            "client_id": config.client_id,
            "response_type": "code",
            "redirect_uri": "http://evil.example/cb",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert unregistered.status_code == 400


# --- tokens and scopes ------------------------------------------------------------------------


def test_bearer_tokens_are_checked_with_spotify_error_bodies(
    fake: FakeSpotify, token: str, http: requests.Session
) -> None:
    assert _get(http, fake, "me", None).json() == {
        "error": {"status": 401, "message": "No token provided"}
    }
    assert _get(http, fake, "me", "bogus").json()["error"]["message"] == "Invalid access token"
    fake.expire_access_tokens()
    expired = _get(http, fake, "me", token)
    assert expired.status_code == 401
    assert expired.json()["error"]["message"] == "The access token expired"


def test_scopes_are_checked(
    fake: FakeSpotify, config: SpotifyConfig, http: requests.Session
) -> None:
    fake.add_user("ana")
    narrow = _exchange(http, config, _authorize(fake, config, ("user-library-read",))).json()
    assert _get(http, fake, "me/tracks", narrow["access_token"]).status_code == 200
    refused = _get(http, fake, "me/top/tracks", narrow["access_token"])
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Insufficient client scope"


def test_the_profile_has_no_fields_removed_in_2026(
    fake: FakeSpotify, token: str, http: requests.Session, api: SpotipyApi
) -> None:
    me = _get(http, fake, "me", token).json()
    assert me["id"] == "ana" and me["type"] == "user" and me["uri"] == "spotify:user:ana"
    assert not {"country", "email", "product", "followers"} & me.keys()
    assert api.profile().display_name == "Ana"


def test_development_mode_allows_listed_users_only(
    fake: FakeSpotify, token: str, api: SpotipyApi
) -> None:
    fake.allowlist = {"someone-else"}
    with pytest.raises(Forbidden, match="not registered"):
        api.profile()


# --- reading ----------------------------------------------------------------------------------


def test_recently_played_pages_by_the_before_cursor(
    fake: FakeSpotify, token: str, http: requests.Session, api: SpotipyApi
) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    song = fake.add_track("Loop", "Nina")
    fake.users["ana"].recent = [(song[14:], start + timedelta(minutes=i)) for i in range(60)]
    first = _get(http, fake, "me/player/recently-played", token, limit="50").json()
    assert (
        len(first["items"]) == 50 and first["items"][0]["played_at"] == "2026-11-01T00:59:00.000Z"
    )
    assert "before=" in first["next"] and first["cursors"]["before"]
    assert (
        _get(http, fake, "me/player/recently-played", token, after="1", before="2").status_code
        == 400
    )
    plays = api.recently_played(limit=100)
    assert len(plays) == 60
    assert [p.at for p in plays] == sorted((p.at for p in plays), reverse=True)


def test_saved_tracks_page_by_offset_with_next_links_and_a_limit_of_50(
    fake: FakeSpotify, token: str, http: requests.Session, api: SpotipyApi
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(120):
        uri = fake.add_track(f"Song {i}", "Nina")
        fake.users["ana"].saved.append((uri[14:], start + timedelta(hours=i)))
    page = _get(http, fake, "me/tracks", token, limit="50", offset="100").json()
    assert page["total"] == 120 and len(page["items"]) == 20 and page["next"] is None
    assert set(page["items"][0]) == {"added_at", "track"}
    assert (
        _get(http, fake, "me/tracks", token, limit="51").json()["error"]["message"]
        == "Invalid limit"
    )
    saved = api.saved_tracks(limit=1000)
    assert len(saved) == 120 and saved[0].track.name == "Song 119"


def test_top_tracks_take_a_time_range(
    fake: FakeSpotify, token: str, http: requests.Session, api: SpotipyApi
) -> None:
    uris = [fake.add_track(f"Top {i}", "Nina") for i in range(3)]
    fake.users["ana"].top = {"short_term": [u[14:] for u in uris]}
    assert [t.uri for t in api.top_tracks(time_range="short_term")] == uris
    assert api.top_tracks(time_range="long_term") == []
    assert _get(http, fake, "me/top/tracks", token, time_range="forever").status_code == 400


# --- playlists --------------------------------------------------------------------------------


def test_playlists_are_created_under_me_and_items_come_as_item_and_track(
    fake: FakeSpotify, token: str, http: requests.Session, api: SpotipyApi
) -> None:
    made = api.create_playlist(name="Daily picks", description="Rock & roll")
    assert made.owner == "ana" and made.public is False and made.snapshot_id
    uris = [fake.add_track(f"Song {i}", "Nina") for i in range(60)]
    first = api.add_items(made.id, uris[:50])
    second = api.add_items(made.id, uris[50:])
    assert first != second  # each change makes a new snapshot
    page = _get(http, fake, f"playlists/{made.id}/items", token, limit="50").json()
    entry = page["items"][0]
    assert entry["item"]["uri"] == uris[0] and entry["track"] == entry["item"]
    assert {"added_at", "added_by", "is_local"} <= entry.keys()
    assert page["total"] == 60 and page["next"]
    assert [t.uri for t in api.playlist_items(made.id)] == uris
    listed = {p.id: p for p in api.playlists()}
    assert listed[made.id].total == 60
    assert listed[made.id].description == "Rock &amp; roll"  # handed back HTML-escaped


def test_replace_and_remove_items(fake: FakeSpotify, api: SpotipyApi) -> None:
    made = api.create_playlist(name="p", description="")
    uris = [fake.add_track(f"Song {i}", "Nina") for i in range(5)]
    api.replace_items(made.id, uris + uris[:2])
    api.remove_items(made.id, uris[:1])
    assert fake.uris(made.id) == uris[1:] + uris[1:2]
    api.replace_items(made.id, [])
    assert fake.uris(made.id) == []


def test_at_most_100_items_per_request(
    fake: FakeSpotify, token: str, api: SpotipyApi, config: SpotifyConfig
) -> None:
    made = api.create_playlist(name="p", description="")
    uris = [fake.add_track(f"Song {i}", "Nina") for i in range(101)]
    with pytest.raises(ValueError, match="at most 100"):
        api.add_items(made.id, uris)  # refused before it is sent
    with requests.Session() as session:
        raw = spotipy.Spotify(auth=token, requests_session=session, retries=0, status_retries=0)
        raw.prefix = config.api_url
        with pytest.raises(spotipy.SpotifyException) as refused:
            raw.playlist_add_items(made.id, uris)  # spotipy's own call, a bare JSON list
        assert refused.value.http_status == 400
        raw.playlist_add_items(made.id, uris[:100])
    assert len(fake.uris(made.id)) == 100


def test_details_are_limited_to_100_and_300_characters(fake: FakeSpotify, api: SpotipyApi) -> None:
    made = api.create_playlist(name="p", description="")
    api.change_details(made.id, name="n" * 100, description="d" * 300)
    assert fake.playlists[made.id].name == "n" * 100
    with pytest.raises(Exception, match="400"):
        api.change_details(made.id, name="n" * 101, description="")


def test_deleted_playlists_404_and_unfollowed_ones_leave_the_library(
    fake: FakeSpotify, token: str, http: requests.Session, api: SpotipyApi
) -> None:
    gone, left = (
        api.create_playlist(name="a", description=""),
        api.create_playlist(name="b", description=""),
    )
    fake.delete_playlist(gone.id)
    with pytest.raises(NotFound):
        api.playlist_items(gone.id)
    assert _get(http, fake, f"playlists/{gone.id}", token).json() == {
        "error": {"status": 404, "message": "Resource not found"}
    }
    fake.unfollow("ana", left.id)
    assert _get(http, fake, f"playlists/{left.id}", token).status_code == 200
    assert [p.id for p in api.playlists()] == []


def test_paths_removed_for_development_mode_answer_403(
    fake: FakeSpotify, token: str, http: requests.Session
) -> None:
    made = http.post(
        fake.api_url + "me/playlists",
        json={"name": "x"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).json()
    uri = fake.add_track("Song", "Nina")
    for method, path in (
        ("GET", "users/ana/playlists"),
        ("POST", "users/ana/playlists"),
        ("GET", f"playlists/{made['id']}/tracks"),
        ("POST", f"playlists/{made['id']}/tracks"),
        ("GET", f"tracks?ids={uri[14:]}"),
    ):
        answer = http.request(
            method, fake.api_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert answer.status_code == 403, (method, path)
        assert answer.json() == {"error": {"status": 403, "message": "Forbidden"}}
    fake.dev_mode = False  # an Extended Quota Mode app still has the batch endpoint
    assert _get(http, fake, "tracks", token, ids=uri[14:]).json()["tracks"][0]["uri"] == uri


# --- catalog ----------------------------------------------------------------------------------


def test_search_pages_by_10_and_says_whether_tracks_play_in_the_market(
    fake: FakeSpotify, token: str, http: requests.Session, api: SpotipyApi
) -> None:
    fine = fake.add_track("Blue in Green", "Miles Quiet")
    fake.add_track("Blue in Green", "Miles Quiet", album="Live", markets=frozenset({"US"}))
    fake.add_track("Green Onions", "Booker")
    found = api.search_tracks(title="Blue in Green", artist="Miles Quiet")
    assert [t.playable for t in found] == [True, False]
    assert found[0].uri == fine and found[0].year == 2001
    too_many = _get(http, fake, "search", token, q="blue", type="track", limit="11")
    assert too_many.json()["error"]["message"] == "Invalid limit"
    assert _get(http, fake, "search", token, q="", type="track").status_code == 400


def test_a_single_track_tells_playability_for_the_market(
    fake: FakeSpotify, token: str, http: requests.Session, api: SpotipyApi
) -> None:
    locked = fake.add_track("Only in US", "Nina", markets=frozenset({"US"}))
    assert api.track(locked).playable is False
    shown = _get(http, fake, f"tracks/{locked[14:]}", token, market="from_token").json()
    assert shown["restrictions"] == {"reason": "market"}
    assert "is_playable" not in _get(http, fake, f"tracks/{locked[14:]}", token).json()
    with pytest.raises(NotFound):
        api.track("spotify:track:" + "0" * 22)


# --- faults, through the adapter --------------------------------------------------------------


def test_429_comes_back_with_its_retry_after_and_is_never_slept_on(
    fake: FakeSpotify, api: SpotipyApi
) -> None:
    fake.inject(Fault(429, path="/me$", retry_after=3600))
    started = time.monotonic()
    with pytest.raises(RateLimited) as limited:
        api.profile()
    assert limited.value.retry_after == 3600
    assert time.monotonic() - started < 1.0
    assert sum(1 for c in fake.calls if c.path == "/v1/me") == 1  # urllib3 did not retry it


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_unavailable_and_not_retried_underneath(
    fake: FakeSpotify, api: SpotipyApi, status: int
) -> None:
    made = api.create_playlist(name="p", description="")
    uri = fake.add_track("Song", "Nina")
    fake.inject(Fault(status, method="POST", path="/items$", after_apply=True))
    with pytest.raises(Unavailable):
        api.add_items(made.id, [uri])
    assert fake.uris(made.id) == [uri]  # applied once, although the answer failed
    assert sum(1 for c in fake.calls if c.method == "POST" and c.path.endswith("/items")) == 1


def test_a_slow_answer_times_out_as_unavailable(
    fake: FakeSpotify, config: SpotifyConfig, token: str
) -> None:
    from dataclasses import replace

    quick = replace(config, read_timeout=0.2)
    cache = MemoryCacheHandler(
        {"access_token": token, "token_type": "Bearer", "expires_at": int(time.time()) + 3600,
         "refresh_token": "x", "scope": " ".join(sorted(SCOPES))}
    )  # fmt: skip
    fake.inject(Fault(0, path="/me$", delay=0.6))
    with SpotipyApi(quick, cache) as api, pytest.raises(Unavailable):
        api.profile()
