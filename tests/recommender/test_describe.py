from __future__ import annotations

import pytest

from recommender.describe import (
    clean_tag,
    describe_artist,
    describe_playlist,
    describe_track,
    era_words,
    feature_words,
    tempo_band,
)
from wavelength.domain import Artist, ArtistId, AudioFeatures, Track, TrackId

BATHS = Artist(id=ArtistId("a:baths"), name="Baths")


def track(**kwargs: object) -> Track:
    return Track(id=TrackId("t:1"), name="Stupor", artist=BATHS, **kwargs)  # type: ignore[arg-type]


def test_calm_acoustic_sad_instrumental_slow_track_says_so() -> None:
    f = AudioFeatures(energy=0.1, acousticness=0.9, instrumentalness=0.8, valence=0.1, tempo=70.0)
    words = str(feature_words(f))
    for expected in ("calm", "acoustic", "instrumental", "no vocals", "sad", "slow tempo"):
        assert expected in words
    assert "energetic" not in words and "happy" not in words


def test_energetic_danceable_happy_fast_track_says_so() -> None:
    f = AudioFeatures(energy=0.95, danceability=0.85, valence=0.9, tempo=150.0, speechiness=0.5)
    words = str(feature_words(f))
    for expected in ("energetic", "danceable", "happy", "fast tempo", "rapping"):
        assert expected in words
    assert "calm" not in words


def test_middling_or_missing_features_add_no_words() -> None:
    assert feature_words(AudioFeatures()).words == ()
    assert feature_words(AudioFeatures(energy=0.5, valence=0.5, danceability=0.5)).words == ()


@pytest.mark.parametrize(
    ("bpm", "band"), [(60, "slow"), (95, "mid"), (120, "upbeat"), (174, "fast")]
)
def test_tempo_bands(bpm: float, band: str) -> None:
    assert tempo_band(bpm).startswith(band)


def test_era_words_from_year_or_decade() -> None:
    assert era_words(1994, None) == "1994, 1990s (90s)"
    assert era_words(None, 1970) == "1970s (70s)"
    assert era_words(2003, 2000) == "2003, 2000s (00s)"
    assert era_words(None, None) is None


def test_track_description_carries_every_known_fact() -> None:
    text = describe_track(
        track(year=2010, explicit=True, features=AudioFeatures(energy=0.9)),
        genres=("chillwave", "art pop"),
        tags=("late night", "chill", "Late Night"),
    )
    assert "Stupor" not in text and "Baths" not in text  # names are matched by lookup
    assert text.startswith("Genres: chillwave, art pop.")
    assert "2010s" in text and "energetic" in text.lower()
    assert "Explicit lyrics." in text
    assert "Playlists: late night, chill." in text  # duplicates dropped, case-insensitively


def test_bare_track_description_is_just_title_and_artist() -> None:
    assert describe_track(track()) == "Stupor by Baths."
    assert describe_track(track(explicit=True)) == "Stupor by Baths. Explicit lyrics."


def test_track_genre_and_artist_genres_merge_without_duplicates() -> None:
    text = describe_track(track(genre="chillwave, wonky"), genres=("Chillwave", "art pop"))
    assert "Genres: chillwave, wonky, art pop." in text


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        ("Chill Vibes 🌙", "chill vibes"),
        ("  ROAD   trip!!! ", "road trip"),
        ("90's R&B", "90's r&b"),
        ("🔥🔥🔥", None),
        ("ｗｉｄｅ", "wide"),
    ],
)
def test_playlist_names_become_clean_tags(name: str, tag: str | None) -> None:
    assert clean_tag(name) == tag


def test_artist_description() -> None:
    text = describe_artist(
        "Baths",
        genres=("chillwave",),
        features=AudioFeatures(energy=0.2),
        decades=(2010, 2000),
        tags=("chill",),
    )
    assert text == (
        "Genres: chillwave. Active in the 2010s, 2000s. "
        "Typically calm, mellow, quiet. Playlists: chill."
    )
    assert describe_artist("Baths") == "Baths, artist."


def test_playlist_description() -> None:
    assert describe_playlist(" rainy days ", "for reading") == "rainy days. for reading"
    assert describe_playlist("gym", "  ") == "gym"
