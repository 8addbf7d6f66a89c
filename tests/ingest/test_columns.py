"""Column detection and cell parsing shared by the CSV readers."""

from __future__ import annotations

import pytest

from ingest import history, tracks_csv
from ingest.columns import (
    detect,
    find_column,
    header_key,
    parse_bool,
    parse_float,
    split_list,
    split_names,
)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Top Genre", "top genre"),
        ("track_name", "track name"),
        ("\ufeffTitle", "title"),  # a BOM left on the first header cell
        ('"Artist"', "artist"),
        ("  Loudness  (dB) ", "loudness (db)"),
        ("master_metadata_track_name", "master metadata track name"),
    ],
)
def test_header_key_normalizes_case_spaces_underscores_and_quotes(raw: str, key: str) -> None:
    assert header_key(raw) == key


def test_find_column_prefers_the_earlier_alias_not_the_earlier_column() -> None:
    header = ["name", "track_name", "artist"]
    assert find_column(header, ("track name", "name")) == 1
    assert find_column(header, ("title",)) is None


def test_detect_gives_each_column_to_one_field_only() -> None:
    # "name" is an alias of both; the first wanted field claims it.
    wanted = {"artist": ("artist", "name"), "track": ("track", "name")}
    assert detect(["name", "year"], wanted) == {"artist": 0}


def test_track_aliases_cover_the_hit_predictor_and_top_2000_headers() -> None:
    hit = "track,artist,uri,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,duration_ms,time_signature,chorus_hit,sections,target"
    top = "Index,Title,Artist,Top Genre,Year,Beats Per Minute (BPM),Energy,Danceability,Loudness (dB),Liveness,Valence,Length (Duration),Acousticness,Speechiness,Popularity"
    hit_columns = detect(hit.split(","), tracks_csv.COLUMNS)
    top_columns = detect(top.split(","), tracks_csv.COLUMNS)
    assert (hit_columns["name"], hit_columns["artist"], hit_columns["uri"]) == (0, 1, 2)
    assert hit_columns["duration_ms"] == 14
    assert "duration_s" not in hit_columns
    assert (top_columns["name"], top_columns["artist"], top_columns["genre"]) == (1, 2, 3)
    assert (top_columns["tempo"], top_columns["loudness"], top_columns["duration_s"]) == (5, 8, 11)
    assert "uri" not in top_columns  # "Index" is not an id


def test_history_aliases_cover_spotify_and_scrobble_headers() -> None:
    spotify = ["ts", "ms_played", "master_metadata_track_name", "master_metadata_album_artist_name"]
    scrobbles = ["", "artist", "album", "track", "timestamp", "datetime"]
    assert detect(spotify, history.COLUMNS) == {
        "artist": 3,
        "track": 2,
        "text_time": 0,
        "ms_played": 1,
    }
    assert detect(scrobbles, history.COLUMNS) == {
        "artist": 1,
        "track": 3,
        "album": 2,
        "epoch": 4,
        "text_time": 5,
    }


@pytest.mark.parametrize(
    ("cell", "items"),
    [
        ("['indie rock', 'shoegaze']", ["indie rock", "shoegaze"]),
        ('["hip hop", "r&b"]', ["hip hop", "r&b"]),
        ("[]", []),
        ("", []),
        ("  ", []),
        ("[indie rock, shoegaze]", ["indie rock", "shoegaze"]),  # brackets but not a literal
        ("rock|pop", ["rock", "pop"]),
        ("rock; pop", ["rock", "pop"]),
        ("rock, pop", ["rock", "pop"]),
        ("adult standards", ["adult standards"]),
    ],
)
def test_split_list_reads_literals_and_separated_values(cell: str, items: list[str]) -> None:
    assert split_list(cell) == items


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        ("Earth, Wind & Fire", ["Earth, Wind & Fire"]),
        ("Crosby, Stills, Nash & Young", ["Crosby, Stills, Nash & Young"]),
        ("['Jay-Z', 'Beyoncé']", ["Jay-Z", "Beyoncé"]),
        ("['Earth, Wind & Fire']", ["Earth, Wind & Fire"]),
        (" Nina Simone ", ["Nina Simone"]),
        ("", []),
    ],
)
def test_artist_names_with_commas_stay_whole(cell: str, names: list[str]) -> None:
    assert split_names(cell) == names


@pytest.mark.parametrize(
    ("cell", "number"),
    [
        ("0.5", 0.5),
        (" 12 ", 12.0),
        ("-14", -14.0),
        ("1e-3", 0.001),
        # Thousands separators, as in four of Spotify-2000's "Length (Duration)" cells.
        ("1,412", 1412.0),
        ("12,345,678.5", 12345678.5),
        ("-1,000", -1000.0),
    ],
)
def test_parse_float_reads_numbers(cell: str, number: float) -> None:
    assert parse_float(cell) == pytest.approx(number)


@pytest.mark.parametrize("cell", ["", "nan", "NaN", "null", "None", "N/A", "abc", "0,5", "1,41"])
def test_parse_float_gives_none_for_missing_or_ambiguous_values(cell: str) -> None:
    # "0,5" and "1,41" look like decimal commas, not thousands: guessing would be wrong.
    assert parse_float(cell) is None


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("True", True),
        ("1", True),
        ("yes", True),
        ("false", False),
        ("0", False),
        ("", None),
        ("maybe", None),
    ],
)
def test_parse_bool(cell: str, value: bool | None) -> None:
    assert parse_bool(cell) is value
