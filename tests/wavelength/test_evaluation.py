"""``wavelength eval``: the split, the leak guard, the evaluators on the known-answer world,
and the command end to end on a small slice of the real MPD sample."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from recommender.cf import AlsEmbedder
from tests.support.factories import playlist
from tests.support.fakes import HashingEncoder
from tests.support.world import World, world_fixture, world_playlists, world_tracks
from wavelength.cli import spread_multi_paths
from wavelength.domain import ArtistId, Playlist, TrackId
from wavelength.evaluation import DataError, EvalOptions, evaluate, markdown, mood, to_json
from wavelength.evaluation import continuation as cont
from wavelength.evaluation.data import distinct, load_mpd, split
from wavelength.evaluation.learning import learning_curves
from wavelength.evaluation.rankers import ItemKnn, Popularity, Query
from wavelength.evaluation.run import interactions
from wavelength.evaluation.scoring import ArtistLookup, Scores, score_all

SECRET = "zyxwv"  # a word only test playlists' titles hold


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from world_fixture(tmp_path_factory.mktemp("eval-world"))


def lookup(world: World) -> ArtistLookup:
    def artists(ids: Iterable[TrackId]) -> Mapping[TrackId, ArtistId]:
        return {t: world.tracks[t].artist.id for t in ids if t in world.tracks}

    return artists


def held_out(seed: int = 99) -> list[Playlist]:
    """Fresh playlists of the world's kind (same titles and genres), never trained on."""
    return [
        playlist(1000 + i, list(p.tracks), name=p.name)
        for i, p in enumerate(world_playlists(world_tracks(), seed=seed))
    ]


def by_name(rows: Sequence[Scores]) -> dict[str, Scores]:
    return {row.ranker: row for row in rows}


# --------------------------------------------------------------------------- split


def test_split_is_seeded_disjoint_and_tests_only_long_playlists() -> None:
    tracks = world_tracks()
    lists = [playlist(i, tracks[i : i + (5 if i % 3 == 0 else 12)]) for i in range(30)]
    first = split(lists, test_size=6, seed=7)
    assert split(lists, test_size=6, seed=7) == first
    assert split(lists, test_size=6, seed=8).test != first.test
    train_ids = {p.id for p in first.train}
    test_ids = {p.id for p in first.test}
    assert not train_ids & test_ids and len(train_ids | test_ids) == 30
    assert len(first.test) == 6 and first.qualifying == 20
    assert all(len(distinct(p)) >= 10 for p in first.test)
    with pytest.raises(DataError, match="lower --test-size"):
        split(lists, test_size=21, seed=7)


# --------------------------------------------------------------------------- leak guard


class RecordingEncoder(HashingEncoder):
    """Remembers every text it was asked to encode."""

    def __init__(self) -> None:
        super().__init__(dim=128)
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.texts += texts
        return super().encode(texts, progress=progress)


def write_slices(folder: Path, lists: Sequence[Playlist], *, per_file: int = 30) -> None:
    """The playlists as MPD slice files (the trimmed schema the real sample uses)."""
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(lists), per_file):
        chunk = lists[start : start + per_file]
        slice_ = {
            "info": {"slice": f"{start}-{start + len(chunk) - 1}"},
            "playlists": [
                {
                    "name": p.name,
                    "pid": start + i,
                    "num_followers": 10,
                    "tracks": [
                        {"artist_name": t.artist.name, "track_uri": t.id, "track_name": t.name}
                        for t in p.tracks
                    ],
                }
                for i, p in enumerate(chunk)
            ],
        }
        path = folder / f"mpd.slice.{start}-{start + len(chunk) - 1}.json"
        path.write_text(json.dumps(slice_), encoding="utf-8")


def test_test_titles_never_reach_training_and_the_report_names_its_inputs(
    tmp_path: Path,
) -> None:
    # Every title gets a word of its own, so any title found in a description is traceable.
    lists = [
        playlist(i, list(p.tracks), name=f"{p.name} {SECRET}{i}")
        for i, p in enumerate(world_playlists(world_tracks(), seed=3))
    ]
    write_slices(tmp_path / "mpd", lists)
    encoder = RecordingEncoder()
    options = EvalOptions(
        playlists=tmp_path / "mpd", seed=5, test_size=4, k=10, batches=2,
        workdir=tmp_path / "work", progress=False,
    )  # fmt: skip
    embedder = AlsEmbedder(factors=8, iterations=10, threads=1, use_gpu=False)
    report = evaluate(options, encoder=encoder, embedder=embedder, echo=lambda _: None)

    parts = split(load_mpd(tmp_path / "mpd").playlists, test_size=4, seed=5)
    moods = {p.name for p in parts.test}  # what the stations encode when they are asked
    training = [t for t in encoder.texts if t not in moods]
    described = set(re.findall(rf"{SECRET}\d+", " ".join(training)))
    assert {p.name.split()[-1] for p in parts.train} <= described  # the check can see titles
    assert not {p.name.split()[-1] for p in parts.test} & described, "a test title leaked"
    assert report.test == 4 and report.train == 76 and report.seed == 5
    assert report.qualifying == 8  # the eight crossover playlists hold 10 tracks
    assert [s.ranker for s in report.mood] == [
        mood.ENGINE, mood.POPULARITY, mood.TEXT_ONLY, mood.PLAYLISTS_ONLY,
    ]  # fmt: skip
    assert [s.ranker for s in report.continuation] == [
        cont.ENGINE, cont.POPULARITY, cont.KNN, cont.NO_TITLE,
    ]  # fmt: skip
    assert all(s.cases == 4 for s in (*report.mood, *report.continuation))
    text = markdown(report)
    assert "Split seed 5: 4 test playlists" in text and "76 train playlists" in text
    assert "K = 10" in text and "CPU cores" in text
    stored = json.loads(to_json(report))
    assert stored["seed"] == 5 and stored["k"] == 10 and stored["data"] == str(tmp_path / "mpd")
    assert set(stored["seconds"]) >= {"load", "ingest", "train", "mood", "continuation", "learning"}

    # The same inputs reuse the trained folder: nothing is encoded for training again.
    again = RecordingEncoder()
    second = evaluate(options, encoder=again, embedder=embedder, echo=lambda _: None)
    assert second.reused_workspace and not report.reused_workspace
    for first, repeat in zip(report.mood, second.mood, strict=True):
        assert (first.r_precision, first.recall) == (repeat.r_precision, repeat.recall)
    assert set(again.texts) <= {p.name for p in parts.test}  # test titles as moods, nothing else


def test_a_folder_holding_other_files_is_refused(tmp_path: Path) -> None:
    write_slices(tmp_path / "mpd", world_playlists(world_tracks(), seed=3))
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "notes.txt").write_text("mine", encoding="utf-8")
    options = EvalOptions(
        playlists=tmp_path / "mpd", seed=1, test_size=2, workdir=tmp_path / "work", progress=False
    )
    with pytest.raises(DataError, match="holds other files"):
        evaluate(options, encoder=HashingEncoder(), embedder=None, echo=lambda _: None)
    assert (tmp_path / "work" / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_missing_and_empty_folders_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no folder at"):
        load_mpd(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no MPD slice files"):
        load_mpd(tmp_path / "empty")


# --------------------------------------------------------------------------- evaluators


def test_the_engine_beats_popularity_on_titles_in_the_known_answer_world(world: World) -> None:
    train = interactions(world_playlists(world_tracks(), seed=3))
    rankers = mood.mood_rankers(
        store=world.store, encoder=world.encoder, catalog=world.catalog,
        popularity=Popularity(train),
    )  # fmt: skip
    rows = by_name(score_all(rankers, mood.mood_cases(held_out()), k=20, artists=lookup(world)))
    engine, popular = rows[mood.ENGINE], rows[mood.POPULARITY]
    assert engine.recall > 2 * popular.recall
    assert engine.r_precision > 2 * popular.r_precision
    assert engine.clicks <= popular.clicks
    assert rows[mood.TEXT_ONLY].recall > popular.recall


def test_the_engine_beats_popularity_on_continuation(world: World) -> None:
    train = interactions(world_playlists(world_tracks(), seed=3))
    popularity = Popularity(train)
    rankers = cont.continuation_rankers(
        composer=world.composer(), popularity=popularity,
        knn=ItemKnn(train, k=50, fill=popularity),
    )  # fmt: skip
    cases = cont.continuation_cases(held_out(), cont.SeedMode.HALF)
    assert all(not set(c.query.seed) & c.relevant for c in cases)
    rows = by_name(score_all(rankers, cases, k=20, artists=lookup(world)))
    assert rows[cont.ENGINE].recall > 2 * rows[cont.POPULARITY].recall
    assert rows[cont.KNN].recall > rows[cont.POPULARITY].recall


def test_baselines_never_return_the_seed() -> None:
    lists = world_playlists(world_tracks(), seed=3)
    train = interactions(lists)
    seed = distinct(lists[0])[:3]
    popularity = Popularity(train)
    for ranker in (popularity, ItemKnn(train, k=20, fill=popularity)):
        ids, scores = ranker.recommend(Query(seed=seed), n=30)
        assert len(ids) == len(scores) == 30 and not set(seed) & set(ids)
        assert list(scores) == sorted(scores, reverse=True)


def test_a_station_learns_a_listener_its_title_says_nothing_about(world: World) -> None:
    # Each listener loves one genre but names their station "songs": only reactions can tell.
    rng = random.Random(4)
    listeners = [
        playlist(2000 + i, rng.sample(world.by_genre(genre), 10), name="songs")
        for i, genre in enumerate(["cool jazz", "thrash metal", "ambient", "hip hop"] * 2)
    ]
    learning, static = learning_curves(world.composer(), listeners, batches=5, seed=3)
    assert learning.artist_hits[0] == static.artist_hits[0]  # the same first batch
    assert learning.track_hits[0] == static.track_hits[0]
    late = sum(learning.artist_hits[-2:]) / 2
    assert late > learning.artist_hits[0] + 0.2, learning.artist_hits
    assert late > sum(static.artist_hits[-2:]) / 2 + 0.2, static.artist_hits


# --------------------------------------------------------------------------- the command


def test_multi_path_options_take_several_paths() -> None:
    argv = ["eval", "--tracks", "a.csv", "b/", "--artists", "c.csv", "--k", "5"]
    assert spread_multi_paths(argv) == [
        "eval", "--tracks", "a.csv", "--tracks", "b/", "--artists", "c.csv", "--k", "5",
    ]  # fmt: skip
    assert spread_multi_paths(["ingest", "tracks", "a", "b"]) == ["ingest", "tracks", "a", "b"]


def wl(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wavelength", *args],
        capture_output=True, text=True, timeout=timeout, env=dict(os.environ), check=False,
    )  # fmt: skip


def test_eval_has_help_and_bad_folders_are_one_line_exit_2(tmp_path: Path) -> None:
    assert "--holdout-seed" in wl("eval", "--help").stdout
    for folder, message in ((tmp_path / "absent", "no folder at"), (tmp_path, "no MPD slice")):
        result = wl("eval", "--playlists", str(folder), "--holdout-seed", "1")
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr


@pytest.mark.shared_data
def test_eval_runs_end_to_end_on_a_slice_of_the_real_mpd(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    result = wl(
        "eval", "--playlists", str(shared_data / "mpd"), "--holdout-seed", "7",
        "--max-files", "1", "--test-size", "2", "--batches", "2", "--k", "20",
        "--no-progress", "--json", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "### Mood → tracks (title only), 2 playlists" in result.stdout
    assert "| popularity |" in result.stdout and "### Learning curve" in result.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["seed"] == 7 and report["test"] == 2 and report["files"] == 1
    assert report["encoder"] == "all-MiniLM-L6-v2" and report["cf_model"].startswith("als")
    assert len(report["learning"][0]["artist_hits"]) == 2
