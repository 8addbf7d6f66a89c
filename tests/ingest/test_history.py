"""Reading listening histories: Spotify JSON exports, Last.fm-1K TSV and scrobble CSVs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from ingest import history
from ingest.files import InputError
from ingest.history import BadTimestampError, parse_time, read_history
from tests.ingest.samples import uri
from wavelength.ids import stable_track_id

if TYPE_CHECKING:
    from pathlib import Path

    from ingest.problems import ProblemLog
    from tests.ingest.samples import Writer


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# ---- timestamps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        (1_546_300_800, at(2019, 1, 1)),
        ("1546300800", at(2019, 1, 1)),
        ("1546300800000", at(2019, 1, 1)),  # milliseconds
        (1_546_300_800.5, at(2019, 1, 1, 0, 0, 0, 500_000)),
        ("2019-01-01T00:00:00Z", at(2019, 1, 1)),
        ("2019-01-01T02:00:00+02:00", at(2019, 1, 1)),  # converted to UTC
        ("2019-01-01 00:00:00", at(2019, 1, 1)),  # naive means UTC
        ("2019-01-01 13:42", at(2019, 1, 1, 13, 42)),  # StreamingHistory endTime
        ("01 Jan 2019, 13:42", at(2019, 1, 1, 13, 42)),  # Last.fm export
        ("01 Jan 2019 13:42", at(2019, 1, 1, 13, 42)),
        ("31/01/2019 13:42", at(2019, 1, 31, 13, 42)),
        ("2019/01/31 13:42:05", at(2019, 1, 31, 13, 42, 5)),
    ],
)
def test_parse_time_reads_epochs_and_text(value: Any, moment: datetime) -> None:
    assert parse_time(value) == moment


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "timestamp 0 is a missing value"),
        (0, "timestamp 0 is a missing value"),
        ("", "no timestamp"),
        (None, "no timestamp"),
        ("1970-01-01 00:00", "is implausible"),
        ("86400", "is implausible"),  # one day after the epoch: a placeholder, not a play
        ("2999-01-01T00:00:00Z", "is implausible"),
        ("yesterday", "unreadable timestamp 'yesterday'"),
    ],
)
def test_parse_time_rejects_missing_and_implausible_values(value: Any, message: str) -> None:
    with pytest.raises(BadTimestampError, match=message):
        parse_time(value)


class _LeapDay(datetime):
    """A clock stopped on 29 February, the one day a year has no twin in the next."""

    @classmethod
    def now(cls, tz: Any = None) -> _LeapDay:
        return cls(2028, 2, 29, 12, 0, tzinfo=tz)


def test_parse_time_works_on_the_29th_of_february(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "datetime", _LeapDay)
    assert parse_time("2020-06-01T00:00:00Z") == at(2020, 6, 1)
    with pytest.raises(BadTimestampError, match="implausible"):
        parse_time("2029-06-01T00:00:00Z")


# ---- Spotify JSON -------------------------------------------------------------------------


def extended(
    ts: str, ms: int, track: str | None, artist: str | None, n: int | None
) -> dict[str, Any]:
    """One entry of Spotify's extended streaming history (endsong_*.json), trimmed."""
    return {
        "ts": ts,
        "platform": "android",
        "ms_played": ms,
        "master_metadata_track_name": track,
        "master_metadata_album_artist_name": artist,
        "master_metadata_album_album_name": "Pastel Blues" if track else None,
        "spotify_track_uri": uri(n) if n is not None else None,
        "episode_name": None if track else "Episode 12",
        "spotify_episode_uri": None if track else "spotify:episode:0000000000000000000012",
        "skipped": None,
    }


def test_spotify_extended_history(write: Writer, problems: ProblemLog) -> None:
    entries = [
        extended("2021-03-04T12:00:00Z", 183_000, "Sinnerman", "Nina Simone", 1),
        extended("2021-03-04T12:30:00Z", 1_800_000, None, None, None),  # a podcast episode
        extended("2021-03-04T13:00:00Z", 4_000, "Feeling Good", "Nina Simone", 2),
    ]
    path = write("endsong_0.json", json.dumps(entries))

    first, second = read_history(path, problems)

    assert (first.track.id, first.track.name, first.track.artist.name) == (
        uri(1),
        "Sinnerman",
        "Nina Simone",
    )
    assert first.track.album is not None and first.track.album.name == "Pastel Blues"
    assert (first.played_at, first.ms_played) == (at(2021, 3, 4, 12), 183_000)
    assert (second.track.id, second.ms_played) == (uri(2), 4_000)
    assert len(problems) == 0  # the podcast is skipped without a complaint


def test_spotify_account_data_history(write: Writer, problems: ProblemLog) -> None:
    entries = [
        {
            "endTime": "2020-01-05 13:42",
            "artistName": "Beyoncé",
            "trackName": "Halo",
            "msPlayed": 261_000,
        },
        {"endTime": "2020-01-05 13:50", "artistName": "Unknown", "trackName": None, "msPlayed": 5},
        {"endTime": "not a time", "artistName": "Beyoncé", "trackName": "Halo", "msPlayed": 1},
    ]
    path = write("StreamingHistory0.json", json.dumps(entries, indent=2))

    [play] = read_history(path, problems)

    assert play.track.id == stable_track_id("Beyoncé", "Halo")  # no URI in this export
    assert (play.played_at, play.ms_played) == (at(2020, 1, 5, 13, 42), 261_000)
    assert [p.message for p in problems.problems] == [
        "entry #2: unreadable timestamp 'not a time'; skipped"
    ]


@pytest.mark.parametrize("name", ["StreamingHistory0.json", "StreamingHistory0.json.gz"])
def test_spotify_history_with_a_utf8_bom(write: Writer, problems: ProblemLog, name: str) -> None:
    entries = [
        {"endTime": "2020-01-05 13:42", "artistName": "Beyoncé", "trackName": "Halo", "msPlayed": 1}
    ]
    path = write(name, json.dumps(entries), "utf-8-sig")

    [play] = read_history(path, problems)

    assert play.track.artist.name == "Beyoncé"
    assert len(problems) == 0


def test_truncated_spotify_history_keeps_what_came_before(
    write: Writer, problems: ProblemLog
) -> None:
    entries = [
        extended(f"2021-03-04T12:0{i}:00Z", 1000, f"Song {i}", "Nina Simone", i) for i in range(3)
    ]
    text = json.dumps(entries)
    path = write("endsong_0.json", text[: text.index('"Song 2"')])

    plays = list(read_history(path, problems))

    assert [p.track.name for p in plays] == ["Song 0", "Song 1"]
    [problem] = problems.problems
    assert problem.message.startswith("invalid or truncated JSON after entry #1")


def test_a_json_object_is_not_a_history(write: Writer, problems: ProblemLog) -> None:
    path = write("data.json", json.dumps({"playlists": []}))

    assert list(read_history(path, problems)) == []
    assert [p.message for p in problems.problems] == [
        "no listening entries: expected a JSON list of plays (Spotify streaming history)"
    ]


# ---- Last.fm-1K TSV -----------------------------------------------------------------------

LASTFM_1K = (
    "user_000001\t2009-05-04T23:08:57Z\t\tNina Simone\t\tSinnerman\n"
    "user_000001\t2009-05-04T13:54:10Z\tmbid-a\tNina Simone\tmbid-t\tFeeling Good\n"
    "user_000002\t2009-05-05T10:00:00Z\t\tBeyoncé\t\tHalo\n"
    "user_000002\t2009-05-05T11:00:00Z\t\t\t\tno artist\n"
    "user_000001\tnot a date\t\tNina Simone\t\tSinnerman\n"
    "user_000001\t2009-05-06T10:00:00Z\ttoo few fields\n"
)


def test_lastfm_1k_tsv_without_header(write: Writer, problems: ProblemLog) -> None:
    path = write("userid-timestamp-artid-artname-traid-traname.tsv", LASTFM_1K)

    plays = list(read_history(path, problems))

    assert [(p.track.artist.name, p.track.name) for p in plays] == [
        ("Nina Simone", "Sinnerman"),
        ("Nina Simone", "Feeling Good"),
        ("Beyoncé", "Halo"),
    ]
    assert plays[0].played_at == at(2009, 5, 4, 23, 8, 57)
    assert plays[0].ms_played is None
    assert [(p.line, p.message) for p in problems.problems] == [
        (4, "no artist or track name; skipped"),
        (5, "unreadable timestamp 'not a date'; skipped"),
        (6, "expected 6 tab-separated fields, found 3; skipped"),
    ]
    assert problems.notes == [
        f"{path} holds plays of 2 Last.fm users, all imported into one Wavelength user; "
        "pass --source-user to import one of them"
    ]


def test_lastfm_1k_source_user_keeps_one_user(write: Writer, problems: ProblemLog) -> None:
    path = write("lastfm.tsv", LASTFM_1K)

    plays = list(read_history(path, problems, source_user="user_000002"))

    assert [p.track.name for p in plays] == ["Halo"]
    assert problems.notes == []


def test_lastfm_1k_quotes_are_part_of_names_on_every_line(
    write: Writer, problems: ProblemLog
) -> None:
    # The TSV has no quoting: a quote is just a character, on the first line as on the others.
    line = 'user_000001\t2009-05-04T23:08:57Z\t\t"Weird Al" Yankovic\t\t"Heroes\n'
    path = write("lastfm.tsv", line + line.replace("23:08", "23:18"))

    plays = list(read_history(path, problems))

    assert [(p.track.artist.name, p.track.name) for p in plays] == [
        ('"Weird Al" Yankovic', '"Heroes'),
        ('"Weird Al" Yankovic', '"Heroes'),
    ]
    assert len(problems) == 0


# ---- scrobble CSVs ------------------------------------------------------------------------


def test_scrobble_csv_with_epoch_timestamps(write: Writer, problems: ProblemLog) -> None:
    path = write(
        "scrobbles.csv",
        ",artist,album,track,timestamp,datetime\n"
        "0,Nina Simone,Pastel Blues,Sinnerman,1546300800,01 Jan 2019 00:00\n"
        '1,"Earth, Wind & Fire",,September,1546300860,01 Jan 2019 00:01\n',
    )

    sinnerman, september = read_history(path, problems)

    assert (sinnerman.played_at, sinnerman.track.album.name if sinnerman.track.album else None) == (
        at(2019, 1, 1),
        "Pastel Blues",
    )
    assert (september.track.artist.name, september.track.album) == ("Earth, Wind & Fire", None)
    assert september.played_at == at(2019, 1, 1, 0, 1)
    assert september.track.id == stable_track_id("Earth, Wind & Fire", "September")
    assert len(problems) == 0


def test_scrobble_csv_with_text_dates(write: Writer, problems: ProblemLog) -> None:
    path = write(
        "scrobbles.csv",
        '"","date","artist","track","album"\n'
        '"1","2020-04-13 05:01:31","Nina Simone","Sinnerman","Pastel Blues"\n'
        '"2","13 Apr 2020, 05:09","Nina Simone","Feeling Good",""\n',
    )

    plays = list(read_history(path, problems))

    assert [p.played_at for p in plays] == [at(2020, 4, 13, 5, 1, 31), at(2020, 4, 13, 5, 9)]
    assert len(problems) == 0


def test_scrobbles_with_timestamp_zero_are_reported_and_skipped(
    write: Writer, problems: ProblemLog
) -> None:
    path = write(
        "scrobbles.csv",
        "artist,album,track,timestamp,datetime\n"
        "Nina Simone,,Sinnerman,1546300800,01 Jan 2019 00:00\n"
        "Nina Simone,,Sinnerman,0,01 Jan 1970 00:00\n"
        "Nina Simone,,,1546300900,01 Jan 2019 00:01\n"
        "Nina Simone,,Sinnerman,,\n",
    )

    plays = list(read_history(path, problems))

    assert [p.played_at for p in plays] == [at(2019, 1, 1)]
    assert [(p.line, p.message) for p in problems.problems] == [
        (3, "timestamp 0 is a missing value; skipped"),
        (4, "no artist or track name; skipped"),
        (5, "no timestamp; skipped"),
    ]


def test_the_text_date_is_used_when_the_epoch_is_missing(
    write: Writer, problems: ProblemLog
) -> None:
    path = write("s.csv", "artist,track,uts,date\nNina Simone,Sinnerman,,01 Jan 2019 00:00\n")

    [play] = read_history(path, problems)

    assert play.played_at == at(2019, 1, 1)


def test_spotify_uris_and_ms_played_in_a_csv_are_kept(write: Writer, problems: ProblemLog) -> None:
    path = write(
        "spotify.csv",
        f"ts,ms_played,master_metadata_track_name,master_metadata_album_artist_name,spotify_track_uri\n"
        f"2021-03-04T12:00:00Z,183000,Sinnerman,Nina Simone,{uri(1)}\n",
    )

    [play] = read_history(path, problems)

    assert (play.track.id, play.ms_played) == (uri(1), 183_000)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("\n\n", "empty"),
        ("artist,album,plays\nNina Simone,Pastel Blues,12\n", "can't tell the format"),
    ],
    ids=["empty", "blank", "no-timestamp-column"],
)
def test_unrecognised_files_are_input_errors(
    write: Writer, problems: ProblemLog, content: str, message: str
) -> None:
    path = write("h.csv", content)
    with pytest.raises(InputError, match=message):
        list(read_history(path, problems))


# ---- the real exports (counts only: personal data) ----------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "plays", "problem_count"),
    [
        ("spacedlevo_scrobbles.csv", 42_673, 1),  # one row has no artist
        ("krishkumar_lastfm_scrobbles.csv", 16_860, 643),  # rows with timestamp 0
        ("zsteve_scrobbles.csv", 16_545, 0),
    ],
)
def test_real_scrobble_exports_read(
    shared_data: Path, problems: ProblemLog, name: str, plays: int, problem_count: int
) -> None:
    events = list(read_history(shared_data / "histories" / name, problems))
    assert len(events) == plays
    assert len(problems) == problem_count
    assert all(2005 <= e.played_at.year <= 2020 for e in events)
