"""Reading Million Playlist Dataset slices, full and trimmed, whole and broken."""

from __future__ import annotations

import gzip
import json
from typing import TYPE_CHECKING

import pytest

from ingest.files import InputError
from ingest.mpd import read_playlists
from tests.ingest.samples import mpd_full_track, mpd_playlist, mpd_slice, mpd_track, uri
from wavelength.ids import artist_id

if TYPE_CHECKING:
    from pathlib import Path

    from ingest.problems import ProblemLog
    from tests.ingest.samples import Writer


def test_full_schema_playlist_keeps_every_field(write: Writer, problems: ProblemLog) -> None:
    raw = mpd_playlist(
        7,
        [mpd_full_track(1, 0), mpd_full_track(2, 1)],
        description="for rainy days",
        collaborative="false",
        modified_at=1493424000,
        num_followers=42,
        num_edits=3,
        duration_ms=360_003,
        num_artists=1,
        num_albums=1,
    )
    path = write("mpd.slice.0-999.json", mpd_slice(raw))

    [playlist] = read_playlists(path, problems)

    assert (playlist.id, playlist.name, playlist.description) == (
        "mpd:7",
        "mix 7",
        "for rainy days",
    )
    assert (playlist.num_followers, playlist.modified_at, playlist.collaborative) == (
        42,
        1493424000,
        False,
    )
    first = playlist.tracks[0]
    assert (first.id, first.name, first.duration_ms) == (uri(1), "Song 1", 180_001)
    assert (first.artist.id, first.artist.name) == (artist_id("Nina Simone"), "Nina Simone")
    assert first.artist.spotify_uri == uri(900, "artist")
    assert first.album is not None
    assert (first.album.id, first.album.name, first.album.artist_id) == (
        uri(800, "album"),
        "Pastel Blues",
        first.artist.id,
    )
    assert len(problems) == 0


def test_trimmed_schema_playlist_has_tracks_without_album_or_duration(
    write: Writer, problems: ProblemLog
) -> None:
    path = write("mpd.slice.0-999.json", mpd_slice(mpd_playlist(3, [mpd_track(5)])))

    [playlist] = read_playlists(path, problems)

    assert playlist.id == "mpd:3"
    assert (playlist.description, playlist.collaborative, playlist.modified_at) == (
        None,
        None,
        None,
    )
    [track] = playlist.tracks
    assert (track.id, track.name, track.artist.name) == (uri(5), "Song 5", "Nina Simone")
    assert (track.album, track.duration_ms, track.artist.spotify_uri) == (None, None, None)
    assert len(problems) == 0


def test_track_order_is_the_list_order_with_repeats_kept(
    write: Writer, problems: ProblemLog
) -> None:
    numbers = [9, 2, 7, 2, 1]
    path = write("s.json", mpd_slice(mpd_playlist(1, [mpd_track(n) for n in numbers])))

    [playlist] = read_playlists(path, problems)

    assert [t.id for t in playlist.tracks] == [uri(n) for n in numbers]


def test_playlists_come_out_in_file_order(write: Writer, problems: ProblemLog) -> None:
    pids = [30, 10, 20]
    path = write("s.json", mpd_slice(*(mpd_playlist(p, [mpd_track(p)]) for p in pids)))

    assert [p.id for p in read_playlists(path, problems)] == ["mpd:30", "mpd:10", "mpd:20"]


def test_bad_tracks_are_skipped_and_reported(write: Writer, problems: ProblemLog) -> None:
    tracks = [
        mpd_track(1),
        {"artist_name": "Nina Simone", "track_name": "no uri"},
        {**mpd_track(2), "track_uri": uri(2, "album")},  # a URI of the wrong kind
        {**mpd_track(3), "track_name": "  "},
        {**mpd_track(4), "artist_name": None},
        "spotify:track:not-an-object",
        mpd_track(5),
    ]
    path = write("s.json", mpd_slice(mpd_playlist(8, tracks)))

    [playlist] = read_playlists(path, problems)

    assert [t.id for t in playlist.tracks] == [uri(1), uri(5)]
    assert [p.message.split(" lacks")[0] for p in problems.problems] == [
        f"playlist pid=8 track #{i}" for i in (1, 2, 3, 4, 5)
    ]
    assert all(p.path == path for p in problems.problems)


def test_bad_playlists_are_skipped_and_reported(write: Writer, problems: ProblemLog) -> None:
    playlists = [
        mpd_playlist(1, [mpd_track(1)]),
        {"name": "no pid", "tracks": [mpd_track(2)]},
        ["not", "an", "object"],
        {"pid": 3, "name": "no tracks list"},
        mpd_playlist(4, [{"track_name": "only a name"}]),
        mpd_playlist(5, [mpd_track(5)]),
    ]
    path = write("s.json", mpd_slice(*playlists))  # type: ignore[arg-type]

    kept = list(read_playlists(path, problems))

    assert [p.id for p in kept] == ["mpd:1", "mpd:5"]
    messages = [p.message for p in problems.problems]
    assert messages[0] == "playlist #1 has no integer 'pid'; skipped"
    assert messages[1] == "playlist #2 is not a JSON object; skipped"
    assert messages[2] == "playlist pid=3 has no 'tracks' list; skipped"
    assert messages[-1] == "playlist pid=4 has no usable tracks; skipped"
    assert len(messages) == 5  # plus the one for pid 4's unusable track


def test_a_syntax_error_keeps_earlier_playlists_and_names_its_line(
    write: Writer, problems: ProblemLog
) -> None:
    text = mpd_slice(*(mpd_playlist(p, [mpd_track(p)]) for p in (1, 2, 3)))
    lines = text.splitlines()
    broken_line = next(i for i, line in enumerate(lines) if '"name": "mix 3"' in line)
    lines[broken_line] = lines[broken_line].replace('"name": ', '"name" ')  # drop the colon
    path = write("s.json", "\n".join(lines))

    kept = list(read_playlists(path, problems))

    assert [p.id for p in kept] == ["mpd:1", "mpd:2"]
    [problem] = problems.problems
    assert (problem.path, problem.line) == (path, broken_line + 1)
    assert "invalid or truncated JSON" in problem.message
    assert problem.message.endswith("kept the 2 playlists before it")


def test_a_truncated_file_keeps_the_playlists_before_the_cut(
    write: Writer, problems: ProblemLog
) -> None:
    text = mpd_slice(*(mpd_playlist(p, [mpd_track(p)]) for p in (1, 2, 3)))
    cut = text[: text.index('"name": "mix 3"') + 5]
    path = write("s.json", cut)

    kept = list(read_playlists(path, problems))

    assert [p.id for p in kept] == ["mpd:1", "mpd:2"]
    [problem] = problems.problems
    assert problem.line == cut.count("\n") + 1  # the error is where the file stops
    assert problem.message.endswith("kept the 2 playlists before it")


def test_a_truncated_gzip_keeps_the_playlists_before_the_cut(
    write: Writer, problems: ProblemLog
) -> None:
    text = mpd_slice(*(mpd_playlist(p, [mpd_track(n) for n in range(50)]) for p in range(40)))
    packed = gzip.compress(text.encode(), mtime=0)
    path = write("s.json.gz", b"")
    path.write_bytes(packed[: len(packed) * 3 // 4])

    kept = list(read_playlists(path, problems))

    assert 0 < len(kept) < 40
    assert [p.id for p in kept] == [f"mpd:{pid}" for pid in range(len(kept))]
    [problem] = problems.problems
    assert problem.message.endswith(f"kept the {len(kept)} playlists before it")


@pytest.mark.parametrize("name", ["s.json", "s.json.gz"])
def test_a_slice_with_a_utf8_bom_reads(write: Writer, problems: ProblemLog, name: str) -> None:
    path = write(name, mpd_slice(mpd_playlist(1, [mpd_track(1)])), "utf-8-sig")

    [playlist] = read_playlists(path, problems)

    assert playlist.tracks[0].id == uri(1)
    assert len(problems) == 0


def test_gzipped_slice_reads_like_a_plain_one(write: Writer, problems: ProblemLog) -> None:
    text = mpd_slice(mpd_playlist(1, [mpd_track(1), mpd_track(2)]))
    plain = list(read_playlists(write("s.json", text), problems))
    packed = list(read_playlists(write("s.json.gz", text), problems))
    assert packed == plain
    assert len(plain[0].tracks) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("  \n ", "empty"),
        ("pid,name\n1,mix\n", "not an MPD slice"),
        ('[{"pid": 1}]', "not an MPD slice"),
    ],
    ids=["empty", "blank", "csv", "json-list"],
)
def test_files_that_are_not_slices_are_input_errors(
    write: Writer, problems: ProblemLog, content: str, message: str
) -> None:
    path = write("s.json", content)
    with pytest.raises(InputError, match=message):
        list(read_playlists(path, problems))


def test_an_empty_playlists_list_is_a_note_not_a_problem(
    write: Writer, problems: ProblemLog
) -> None:
    path = write("s.json", json.dumps({"info": {}, "playlists": []}))

    assert list(read_playlists(path, problems)) == []
    assert len(problems) == 0
    assert problems.notes == [f"{path} holds no playlists"]


def test_on_read_counts_the_whole_file(write: Writer, problems: ProblemLog) -> None:
    path = write("s.json", mpd_slice(mpd_playlist(1, [mpd_track(1)])))
    seen: list[int] = []
    list(read_playlists(path, problems, seen.append))
    assert sum(seen) == path.stat().st_size


@pytest.mark.shared_data
def test_real_trimmed_mpd_reads_whole(shared_data: Path, problems: ProblemLog) -> None:
    files = sorted((shared_data / "mpd").glob("*.json"))
    ids: set[str] = set()
    rows = 0
    for path in files:
        for playlist in read_playlists(path, problems):
            ids.add(playlist.id)
            rows += len(playlist.tracks)
    assert (len(files), len(ids), rows) == (700, 5_271, 511_995)
    assert len(problems) == 0
    # One slice kept none of its playlists after the follower filter.
    assert problems.notes == [
        f"{shared_data / 'mpd' / 'mpd.slice.16000-16999.json'} holds no playlists"
    ]


@pytest.mark.shared_data
def test_real_full_schema_sample_has_albums_and_durations(
    shared_data: Path, problems: ProblemLog
) -> None:
    [path] = (shared_data / "mpd_full_schema_sample").glob("*.json")
    playlists = list(read_playlists(path, problems))
    tracks = [t for p in playlists for t in p.tracks]
    assert (len(playlists), len(tracks)) == (29, 1_448)
    assert [p.id for p in playlists] == [f"mpd:{pid}" for pid in range(29)]
    assert all(t.album is not None and t.album.id.startswith("spotify:album:") for t in tracks)
    assert all(t.duration_ms and t.artist.spotify_uri for t in tracks)
    assert all(p.collaborative is not None and p.modified_at for p in playlists)
    assert len(problems) == 0
