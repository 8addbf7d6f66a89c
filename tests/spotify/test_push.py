"""Pushing a playlist: one per (user, purpose), updated in place, re-created when the user
deleted it, written in chunks of 100, with catalog tracks matched by search."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from storage import catalog
from storage import spotify as repo
from tests.support.factories import track
from tests.support.fake_spotify import FakeSpotify
from wavelength.domain import TrackId, UserId
from wavelength.spotify_service import SpotifyService


def _songs(fake: FakeSpotify, n: int, artist: str = "Nina") -> list[TrackId]:
    return [TrackId(fake.add_track(f"Song {i}", artist)) for i in range(n)]


def test_the_first_push_creates_a_private_playlist_with_the_tracks_in_order(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId
) -> None:
    songs = _songs(fake, 5)
    report = spotify.push(linked, "daily", "Wavelength · daily picks", "Picked for you", songs)
    assert report.created and not report.recreated and report.tracks == 5
    made = fake.playlists[report.playlist_id]
    assert (made.owner, made.name, made.description, made.public) == (
        "ana", "Wavelength · daily picks", "Picked for you", False,
    )  # fmt: skip
    assert made.uris == songs
    assert report.url == f"https://open.spotify.com/playlist/{report.playlist_id}"


def test_a_second_push_updates_the_same_playlist_in_place(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId
) -> None:
    songs = _songs(fake, 8)
    first = spotify.push(linked, "daily", "Daily", "Monday", songs[:5])
    second = spotify.push(linked, "daily", "Daily picks", "Tuesday", songs[3:])
    assert second.playlist_id == first.playlist_id and not second.created
    assert fake.uris(first.playlist_id) == songs[3:]
    assert (fake.playlists[first.playlist_id].name, fake.playlists[first.playlist_id].description) == (
        "Daily picks", "Tuesday",
    )  # fmt: skip
    assert len(fake.owned("ana")) == 1
    other = spotify.push(linked, "station:7", "Rainy jazz", "", songs[:2])
    assert other.playlist_id != first.playlist_id and len(fake.owned("ana")) == 2


def test_a_playlist_the_user_deleted_is_made_again(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId
) -> None:
    songs = _songs(fake, 3)
    first = spotify.push(linked, "daily", "Daily", "", songs)
    fake.unfollow("ana", first.playlist_id)  # "delete" in Spotify's apps
    second = spotify.push(linked, "daily", "Daily", "", songs)
    assert second.recreated and not second.created and second.playlist_id != first.playlist_id
    fake.delete_playlist(second.playlist_id)  # gone for good: 404
    third = spotify.push(linked, "daily", "Daily", "", songs)
    assert third.recreated and fake.uris(third.playlist_id) == songs
    assert [p.id for p in fake.owned("ana")] == [third.playlist_id]


def test_more_than_100_tracks_go_as_a_replace_of_100_then_adds_of_up_to_100(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId
) -> None:
    songs = _songs(fake, 250)
    first = spotify.push(linked, "daily", "Daily", "", songs[:10])
    fake.calls.clear()
    report = spotify.push(linked, "daily", "Daily", "", songs)
    writes = [
        (c.method, len(c.body["uris"])) for c in fake.calls if c.path.endswith("/items") and c.body
    ]
    assert writes == [("PUT", 100), ("POST", 100), ("POST", 50)]
    assert fake.uris(first.playlist_id) == songs and report.tracks == 250


def test_only_2026_paths_are_used(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId
) -> None:
    spotify.push(linked, "daily", "Daily", "", _songs(fake, 120))
    paths = {c.path for c in fake.calls}
    assert not [p for p in paths if p.startswith("/v1/users/") or p.endswith("/tracks")]
    assert "/v1/tracks" not in paths  # the batch endpoint is gone for Development Mode
    assert all(c.status < 400 for c in fake.calls)


def test_long_names_and_descriptions_are_cut_to_spotifys_limits(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId
) -> None:
    report = spotify.push(
        linked, "daily", "N" * 150, "line one\nline two " + "d" * 400, _songs(fake, 1)
    )
    made = fake.playlists[report.playlist_id]
    assert len(made.name) == 100 and made.name.endswith("…")
    assert len(made.description) == 300 and made.description.startswith("line one line two")


def test_catalog_tracks_without_a_uri_are_matched_by_search_once(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId, sqlite_engine: Engine
) -> None:
    known = fake.add_track("Blue in Green", "Miles Quiet")
    local = [
        track(name="Blue in Green", artist_name="Miles Quiet", uri=False),
        track(name="Nowhere Song", artist_name="Nobody Known", uri=False),
    ]
    with sqlite_engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=local)
    ids = [local[0].id, local[1].id, TrackId("wl:track:not-in-catalog")]
    report = spotify.push(linked, "daily", "Daily", "", ids)
    assert fake.uris(report.playlist_id) == [known]
    assert (report.tracks, report.unmatched) == (1, 2)
    with sqlite_engine.connect() as conn:
        assert repo.get_matches(conn=conn, track_ids=[t.id for t in local]) == {
            local[0].id: known,
            local[1].id: None,
        }
    fake.calls.clear()
    spotify.push(linked, "daily", "Daily", "", ids)
    assert not [c for c in fake.calls if c.path == "/v1/search"]  # remembered


def test_tracks_unplayable_in_the_users_market_are_skipped_and_counted(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId
) -> None:
    playable = _songs(fake, 2)
    locked = TrackId(fake.add_track("US only", "Nina", markets=frozenset({"US"})))
    report = spotify.push(
        linked, "daily", "Daily", "", [playable[0], locked, playable[1], playable[0]]
    )
    assert fake.uris(report.playlist_id) == playable  # and the repeat is dropped
    assert report.unplayable == 1


def test_an_empty_push_empties_the_playlist(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId
) -> None:
    first = spotify.push(linked, "daily", "Daily", "", _songs(fake, 3))
    assert spotify.push(linked, "daily", "Daily", "", []).tracks == 0
    assert fake.uris(first.playlist_id) == []


def test_status_lists_the_playlists_kept(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId
) -> None:
    report = spotify.push(linked, "daily", "Daily", "", _songs(fake, 2))
    [shown] = spotify.status(linked).playlists
    assert (shown.purpose, shown.url, shown.done, shown.tracks) == ("daily", report.url, True, 2)
