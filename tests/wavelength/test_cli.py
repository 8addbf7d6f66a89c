"""The command line end to end, as a user runs it: a real process, real files, real databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from tests.conftest import REPO

SUBCOMMANDS = [
    [],
    ["run"],
    ["serve"],
    ["console"],
    ["stats"],
    ["ingest"],
    ["ingest", "playlists"],
    ["ingest", "tracks"],
    ["ingest", "artists"],
    ["ingest", "history"],
    ["ingest", "demo"],
    ["db"],
    ["db", "upgrade"],
    ["db", "downgrade"],
    ["db", "current"],
    ["train"],
    ["similar"],
    ["search"],
]


def wl(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wavelength", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def stats(env: dict[str, str] | None = None) -> dict[str, int]:
    result = wl("stats", "--json", env=env)
    assert result.returncode == 0, result.stderr
    counts: dict[str, int] = json.loads(result.stdout)
    return counts


@pytest.mark.parametrize("args", SUBCOMMANDS, ids=lambda a: " ".join(a) or "top")
def test_every_command_has_help(args: list[str]) -> None:
    result = wl(*args, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_run_loads_the_demo_catalog_once_and_chats() -> None:
    first = wl("run", stdin="/stats\nlike daft punk but calmer\n/bogus\n/quit\n")
    assert first.returncode == 0, first.stderr
    assert "First start" in first.stderr
    assert "Building the catalog's vectors in the background" in first.stderr
    assert "42,554" in first.stdout
    # Stations wait for the vectors, and say so; the rest of the chat works meanwhile.
    assert "still building the catalog's vectors" in first.stdout
    assert "don't know the command /bogus" in first.stdout
    second = wl("run", stdin="/stats\n")
    assert second.returncode == 0, second.stderr
    assert "First start" not in second.stderr
    assert stats()["tracks"] == 42_554


def test_unreachable_database_is_one_clear_line() -> None:
    result = wl("stats", env={"DATABASE_URL": "postgresql://wl:hunter2@127.0.0.1:9/wl"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "cannot reach the database" in result.stderr
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


def test_nothing_readable_exits_non_zero(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_text("")
    result = wl("ingest", "playlists", str(tmp_path / "missing"), str(tmp_path / "empty.json"))
    assert result.returncode == 1
    assert f"{tmp_path / 'missing'}: no such file or folder" in result.stderr
    assert "empty.json: file is empty" in result.stderr
    assert "nothing could be read" in result.stderr


def test_bad_user_name_is_refused(tmp_path: Path) -> None:
    result = wl("ingest", "history", str(tmp_path), "--user", "   ")
    assert result.returncode == 2
    assert "--user" in result.stderr


def test_invalid_setting_is_one_clear_line() -> None:
    result = wl("stats", env={"WAVELENGTH_INGEST_BATCH_SIZE": "lots"})
    assert result.returncode == 2
    assert "invalid setting ingest_batch_size" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_commands_walk_the_schema() -> None:
    assert wl("db", "current").stdout.strip() == "empty (no schema yet)"
    assert wl("db", "upgrade").returncode == 0
    head = ScriptDirectory(str(REPO / "migrations")).get_current_head()
    assert wl("db", "current").stdout.strip() == head
    assert wl("db", "downgrade", "0001").returncode == 0
    assert wl("db", "current").stdout.strip() == "0001"
    assert wl("db", "downgrade", "base").returncode == 0
    assert wl("db", "current").stdout.strip() == "empty (no schema yet)"


@pytest.mark.shared_data
def test_real_data_ingests_and_stats_report_it(shared_data: Path) -> None:
    """The issue's acceptance check: every real file reads and `stats` counts it."""
    playlists = wl("ingest", "playlists", str(shared_data / "mpd"), "--no-progress")
    assert playlists.returncode == 0, playlists.stderr
    tracks = wl(
        "ingest",
        "tracks",
        str(shared_data / "tracks" / "hit_predictor"),
        str(shared_data / "tracks" / "Spotify-2000.csv"),
        "--no-progress",
    )
    assert tracks.returncode == 0, tracks.stderr
    artists = wl(
        "ingest", "artists", str(shared_data / "tracks" / "data_w_genres.csv"), "--no-progress"
    )
    assert artists.returncode == 0, artists.stderr
    history = wl(
        "ingest",
        "history",
        str(shared_data / "histories" / "zsteve_scrobbles.csv"),
        "--user",
        "zs",
        "--no-progress",
    )
    assert history.returncode == 0, history.stderr
    counts = stats()
    assert counts["playlists"] == 5_271
    assert counts["playlist_items"] == 511_995
    assert counts["users"] == 1
    assert counts["listening_events"] == 16_545
    # 6,650 hit-predictor URIs also appear in the MPD: joined, not duplicated.
    assert 165_470 + 42_554 - 6_650 - 10 <= counts["tracks"] <= 165_470 + 42_554 - 6_650 + 16_545
    again = wl("ingest", "playlists", str(shared_data / "mpd"), "--no-progress")
    assert "0 new" in again.stderr
    assert stats() == counts


@pytest.mark.postgres
@pytest.mark.shared_data
def test_postgres_backend_via_database_url(shared_data: Path, postgres_url: str) -> None:
    env = {"DATABASE_URL": postgres_url}
    assert wl("db", "downgrade", "base", env=env).returncode in (0, 1)
    sample = shared_data / "mpd_full_schema_sample"
    result = wl("ingest", "playlists", str(sample), "--no-progress", env=env)
    assert result.returncode == 0, result.stderr
    counts = stats(env)
    assert counts["playlists"] == 29
    assert counts["albums"] > 0
    assert wl("ingest", "playlists", str(sample), "--no-progress", env=env).returncode == 0
    assert stats(env) == counts


TRACKS_CSV = """track_uri,track_name,artist_name,genres,year,energy,acousticness,valence,tempo
spotify:track:0000000000000000000001,Blue Mood,Miles Quiet,cool jazz,1959,0.1,0.9,0.2,70
spotify:track:0000000000000000000002,Slow Smoke,Miles Quiet,cool jazz,1960,0.15,0.95,0.3,68
spotify:track:0000000000000000000003,Rain Piano,Bill Soft,cool jazz,1961,0.05,0.97,0.25,60
spotify:track:0000000000000000000004,Skull Crusher,Iron Noise,thrash metal,1988,0.98,0.01,0.4,180
spotify:track:0000000000000000000005,Riot Engine,Iron Noise,thrash metal,1990,0.97,0.02,0.5,175
spotify:track:0000000000000000000006,Steel Storm,Black Forge,thrash metal,1991,0.99,0.01,0.3,190
"""


def _mpd_slice() -> str:
    def item(n: int, artist: str, title: str) -> dict[str, object]:
        return {"track_uri": f"spotify:track:{n:022d}", "artist_name": artist, "track_name": title}

    jazz = [item(1, "Miles Quiet", "Blue Mood"), item(2, "Miles Quiet", "Slow Smoke"),
            item(3, "Bill Soft", "Rain Piano")]  # fmt: skip
    metal = [item(4, "Iron Noise", "Skull Crusher"), item(5, "Iron Noise", "Riot Engine"),
             item(6, "Black Forge", "Steel Storm")]  # fmt: skip
    playlists = [
        {"pid": pid, "name": "jazz" if pid % 2 else "metal", "tracks": jazz if pid % 2 else metal}
        for pid in range(12)
    ]
    return json.dumps({"info": {}, "playlists": playlists})


def test_train_then_similar_and_search_on_the_embedded_store(tmp_path: Path) -> None:
    (tmp_path / "tracks.csv").write_text(TRACKS_CSV)
    (tmp_path / "mpd.slice.0-11.json").write_text(_mpd_slice())
    assert wl("ingest", "tracks", str(tmp_path / "tracks.csv"), "--no-progress").returncode == 0
    assert (
        wl("ingest", "playlists", str(tmp_path / "mpd.slice.0-11.json"), "--no-progress").returncode
        == 0
    )

    trained = wl("train", "--no-progress")
    assert trained.returncode == 0, trained.stderr
    assert "indexed 6 tracks, 4 artists, 12 playlists" in trained.stdout
    assert "text encoder: all-MiniLM-L6-v2 on cpu" in trained.stderr

    near = wl("similar", "Iron Noise", "-n", "3")
    assert near.returncode == 0, near.stderr
    assert "similar artists:" in near.stdout
    assert "Steel Storm — Black Forge" in near.stdout.split("tracks by other artists:")[1]

    mood = wl("search", "calm acoustic cool jazz from the sixties", "-n", "3")
    assert mood.returncode == 0, mood.stderr
    assert "Skull Crusher" not in mood.stdout and "Rain Piano" in mood.stdout

    again = wl("train", "--no-progress", "--cf", "none")
    assert again.returncode == 0, again.stderr
    assert "0 encoded" in again.stdout  # every description came from the cache


def test_similar_for_an_unknown_name_suggests_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "tracks.csv").write_text(TRACKS_CSV)
    assert wl("ingest", "tracks", str(tmp_path / "tracks.csv"), "--no-progress").returncode == 0
    result = wl("similar", "Iron Noize")
    assert result.returncode == 1
    assert "Did you mean: Iron Noise?" in result.stderr
    assert "Traceback" not in result.stderr


def test_training_an_empty_catalog_or_searching_nothing_is_one_clear_line() -> None:
    empty = wl("train", "--no-progress", env={"WAVELENGTH_DEMO_CATALOG": "false"})
    assert empty.returncode == 2
    assert "catalog is empty" in empty.stderr and "Traceback" not in empty.stderr


def test_a_dead_qdrant_server_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "tracks.csv").write_text(TRACKS_CSV)
    assert wl("ingest", "tracks", str(tmp_path / "tracks.csv"), "--no-progress").returncode == 0
    result = wl("similar", "Iron Noise", env={"QDRANT_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2
    assert "127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr


def test_run_plays_a_station_once_trained(tmp_path: Path) -> None:
    (tmp_path / "tracks.csv").write_text(TRACKS_CSV)
    (tmp_path / "mpd.slice.0-11.json").write_text(_mpd_slice())
    env = {"WAVELENGTH_DEMO_CATALOG": "false"}
    for kind, name in (("tracks", "tracks.csv"), ("playlists", "mpd.slice.0-11.json")):
        assert wl("ingest", kind, str(tmp_path / name), "--no-progress", env=env).returncode == 0
    assert wl("train", "--no-progress", env=env).returncode == 0
    chat = wl("run", stdin="calm cool jazz\n👍 1\nnext\n/stations\n/quit\n", env=env)
    assert chat.returncode == 0, chat.stderr
    assert "background" not in chat.stderr  # trained already: no warm-up
    assert '📻 "Calm cool jazz" · batch 1' in chat.stdout
    assert "Liked" in chat.stdout and "batch 2" in chat.stdout
    assert "▶ 1. Calm cool jazz" in chat.stdout
