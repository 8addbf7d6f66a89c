from __future__ import annotations

import pytest

from wavelength.ids import (
    album_id,
    artist_id,
    match_key,
    normalize_name,
    spotify_uri,
    stable_track_id,
)

ID = "4uLU6hMCjMI75M1A2tKUQC"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"spotify:track:{ID}", f"spotify:track:{ID}"),
        (f"https://open.spotify.com/track/{ID}?si=abc", f"spotify:track:{ID}"),
        (f"https://open.spotify.com/intl-de/track/{ID}", f"spotify:track:{ID}"),
        (ID, f"spotify:track:{ID}"),
        (f"spotify:album:{ID}", None),
        ("not an id", None),
        ("", None),
    ],
)
def test_spotify_uri(value: str, expected: str | None) -> None:
    assert spotify_uri(value, "track") == expected


def test_normalize_name_folds_case_accents_and_punctuation() -> None:
    assert normalize_name("  Beyoncé ") == "beyonce"
    assert normalize_name("AC/DC") == "ac dc"
    assert normalize_name("Sigur Rós") == normalize_name("sigur ros")
    assert normalize_name("坂本龍一") == "坂本龍一"


def test_stable_ids_ignore_spelling_noise_but_not_content() -> None:
    assert stable_track_id("Beyoncé", "Crazy In Love") == stable_track_id(
        "BEYONCE", "crazy in love!"
    )
    assert stable_track_id("Beyoncé", "Crazy In Love") != stable_track_id("Beyoncé", "Halo")
    assert stable_track_id("a", "b c") != stable_track_id("a b", "c")  # fields don't run together
    assert artist_id("Earth, Wind & Fire") == artist_id("earth wind & fire")
    assert match_key("Beyoncé", "Halo") == "beyonce\x1fhalo"


def test_album_id_prefers_the_spotify_uri() -> None:
    assert album_id("x", "y", f"spotify:album:{ID}") == f"spotify:album:{ID}"
    assert album_id("x", "y").startswith("wl:album:")
