"""The pure helpers: resuming a cut-short write, Spotify's limits, search matches, redirects."""

from __future__ import annotations

import pytest

from spotify.api import SpotifyTrack, check_batch
from spotify.auth import Redirect, parse_redirect
from spotify.plan import best_match, chunks, clip, resume_point, to_track, unique


@pytest.mark.parametrize(
    ("current", "intended", "expected"),
    [
        ([], ["a", "b"], 0),
        (["a"], ["a", "b"], 1),
        (["a", "b"], ["a", "b"], 2),
        (["b"], ["a", "b"], None),  # not a prefix: replace
        (["a", "b", "c"], ["a", "b"], None),  # too long: replace
        (["a", "a"], ["a", "b"], None),
    ],
)
def test_resume_point(current: list[str], intended: list[str], expected: int | None) -> None:
    assert resume_point(current, intended) == expected


def test_chunks_of_100_and_the_batch_limit() -> None:
    items = [str(i) for i in range(250)]
    assert [len(c) for c in chunks(items)] == [100, 100, 50]
    assert check_batch(items[:100]) == items[:100]
    with pytest.raises(ValueError, match="at most 100"):
        check_batch(items[:101])


def test_clip_makes_one_line_within_the_limit() -> None:
    assert clip("  a\n\tb  ", 10) == "a b"
    assert clip("x" * 120, 100) == "x" * 99 + "…"


def test_unique_keeps_the_first_of_each() -> None:
    assert unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def _found(name: str, artist: str, n: int, playable: bool | None = True) -> SpotifyTrack:
    return SpotifyTrack(
        uri=f"spotify:track:{n:022d}", name=name, artists=(artist,), playable=playable
    )


def test_best_match_wants_the_same_song_by_the_same_artist() -> None:
    candidates = [
        _found("Blue in Green - Cover", "Someone Else", 1),
        _found("Blue in Green - Remastered 2011", "Miles Davis", 2, playable=False),
        _found("Blue in Green (Live)", "Miles Davis", 3),
    ]
    assert best_match(candidates, title="Blue in Green", artist="Miles Davis") == candidates[2]
    assert best_match(candidates[:2], title="Blue in Green", artist="Miles Davis") == candidates[1]
    assert best_match(candidates, title="So What", artist="Miles Davis") is None
    featuring = [_found("Get Lucky", "Daft Punk", 4)]
    assert best_match(featuring, title="Get Lucky", artist="Daft Punk, Pharrell Williams")


def test_to_track_keeps_what_spotify_says() -> None:
    t = to_track(
        SpotifyTrack(
            uri="spotify:track:" + "1" * 22, name="Song", artists=("Nina", "Guest"),
            artist_uris=("spotify:artist:" + "2" * 22,), album="LP", album_uri="spotify:album:" + "3" * 22,
            year=1967, duration_ms=1000, explicit=False,
        )
    )  # fmt: skip
    assert (t.id, t.artist.name, t.year, t.decade) == (
        "spotify:track:" + "1" * 22,
        "Nina",
        1967,
        1960,
    )
    assert t.album is not None and t.album.id == "spotify:album:" + "3" * 22
    assert t.artist.spotify_uri == "spotify:artist:" + "2" * 22


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("http://127.0.0.1:8888/spotify/callback?code=abc&state=xyz", Redirect("xyz", "abc", None)),
        ("?code=abc&state=xyz", Redirect("xyz", "abc", None)),
        ("code=abc&state=xyz", Redirect("xyz", "abc", None)),
        ("https://x/cb?error=access_denied&state=s", Redirect("s", None, "access_denied")),
        ("no url here", Redirect(None, None, None)),
    ],
)
def test_parse_redirect(pasted: str, expected: Redirect) -> None:
    assert parse_redirect(pasted) == expected
