"""``wavelength eval-mixes``: its pieces on tiny inputs, and the three evaluations on the real
data (a smaller run than the documented one), each beating its baselines."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cf import AlsEmbedder
from wavelength.cli import app
from wavelength.evaluation import DataError
from wavelength.evaluation.buddies import COSINE as BUDDIES_COSINE
from wavelength.evaluation.buddies import ENGINE as BUDDIES_ENGINE
from wavelength.evaluation.buddies import FOLLOWERS, RANDOM, BuddiesSetup
from wavelength.evaluation.centers import ENGINE as CENTERS_ENGINE
from wavelength.evaluation.centers import SINGLE, CentersSetup
from wavelength.evaluation.histories import load_histories
from wavelength.evaluation.measure import Measured, Paired
from wavelength.evaluation.nostalgia import ENGINE as NOSTALGIA_ENGINE
from wavelength.evaluation.nostalgia import MOST_PLAYED, NostalgiaSetup
from wavelength.evaluation.nostalgia import RANDOM as NOSTALGIA_RANDOM
from wavelength.evaluation.personal import (
    MixEvalOptions,
    evaluate_mixes,
    markdown,
    parse_only,
    to_json,
)


def test_measures_and_paired_differences() -> None:
    m = Measured.of("x", [0.0, 1.0, 1.0, 0.0])
    assert (m.mean, m.cases) == (0.5, 4) and m.se == pytest.approx(0.288675, abs=1e-6)
    p = Paired.of("a", "b", [1.0, 0.5, 0.2], [0.5, 0.5, 0.4])
    assert (p.wins, p.ties, p.losses) == (1, 1, 1) and p.diff == pytest.approx(0.1)
    with pytest.raises(ValueError, match="length"):
        Paired.of("a", "b", [1.0], [])


def test_histories_are_one_anonymous_listener_per_file(tmp_path: Path) -> None:
    folder = tmp_path / "h"
    folder.mkdir()
    (folder / "somebody.csv").write_text(
        "artist,track,timestamp\nA,One,1500000000\nA,One,1500000100\nB,Two,1500000200\n"
    )
    (folder / "else.csv").write_text("artist,track,timestamp\nC,Three,1600000000\n")
    listeners = load_histories(folder)
    assert [x.label for x in listeners] == ["listener 1", "listener 2"]
    second = listeners[1]  # somebody.csv sorts after else.csv
    assert len(second.plays) == 3 and len(second.tracks) == 2
    assert second.plays.items.tolist() == [0, 0, 1]


def test_only_takes_the_three_parts() -> None:
    assert parse_only(["buddies,centers"]) == {"buddies", "centers"}
    assert parse_only(None) == {"buddies", "centers", "nostalgia"}
    options = MixEvalOptions(Path(), Path(), seed=1, only=frozenset({"mood"}))
    with pytest.raises(DataError, match="--only"):
        options.check()


def test_the_command_says_what_is_missing(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "eval-mixes",
            "--playlists",
            str(tmp_path),
            "--histories",
            str(tmp_path / "none"),
            "--holdout-seed",
            "7",
        ],
    )
    assert result.exit_code == 2
    assert "no folder at" in result.output


@pytest.mark.shared_data
def test_each_method_beats_its_baselines_on_real_data(shared_data: Path) -> None:
    """A smaller run than docs/evaluation.md (200 test playlists, ALS f32, sparser cutoffs),
    about 30 s on two cores."""
    options = MixEvalOptions(
        playlists=shared_data / "mpd",
        histories=shared_data / "histories",
        seed=7,
        test_size=200,
        buddies=BuddiesSetup(ranker_size=300),
        centers=CentersSetup(step_days=42),
        nostalgia=NostalgiaSetup(step_days=90),
    )
    embedder = AlsEmbedder(factors=32, iterations=8, threads=2, use_gpu=False)
    report = evaluate_mixes(options, embedder=embedder, echo=lambda _: None)
    assert report.buddies is not None and report.centers is not None
    assert report.nostalgia is not None

    buddies = {row.method: row for row in report.buddies.rows}
    assert report.buddies.cases == 200
    engine = buddies[BUDDIES_ENGINE]
    for baseline in (FOLLOWERS, RANDOM):
        assert engine.mrr.mean > buddies[baseline].mrr.mean + 0.5
        assert engine.hits[1].mean > buddies[baseline].hits[1].mean  # Hit@5
    assert buddies[BUDDIES_COSINE].mrr.mean > 0.5  # the KNN score alone is already strong

    centers = {m.method: m for part, m in report.centers.rows if part == "all"}
    assert centers[CENTERS_ENGINE].cases >= 60
    assert centers[CENTERS_ENGINE].mean > centers[SINGLE].mean

    nostalgia = {m.method: m for m in report.nostalgia.rows}
    assert nostalgia[NOSTALGIA_ENGINE].cases >= 30
    for baseline in (MOST_PLAYED, NOSTALGIA_RANDOM):
        assert nostalgia[NOSTALGIA_ENGINE].mean > nostalgia[baseline].mean
    assert len(report.nostalgia.listeners) == 2  # the third history is under two years

    text = markdown(report)
    assert "1 positive among 50" in text and "precision@50" in text
    assert '"seed": 7' in to_json(report)
