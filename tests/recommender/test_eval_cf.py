"""The CF evaluation harness: its protocol on toy data, and a smoke run on the real MPD sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import eval_cf
from recommender.interactions import build_interactions

PLAYLISTS = [(f"p{i}", tuple(f"t{j}" for j in range(i, i + 6))) for i in range(20)]


def test_split_is_seeded_disjoint_and_complete() -> None:
    kept, held = eval_cf.split(PLAYLISTS, fraction=0.1, seed=7)
    assert len(held) == 2 and len(kept) == 18
    assert {p for p, _ in kept} | {p for p, _ in held} == {p for p, _ in PLAYLISTS}
    assert eval_cf.split(PLAYLISTS, fraction=0.1, seed=7) == (kept, held)
    assert eval_cf.split(PLAYLISTS, fraction=0.1, seed=8)[1] != held


def test_cases_seed_with_the_first_half_and_hide_only_known_tracks() -> None:
    known = {"a", "b", "d", "e"}.__contains__
    held = [("p", ("a", "x", "b", "d", "y", "e")), ("q", ("x", "y", "a", "b"))]
    cases = eval_cf.make_cases(held, known, mode="first", seed=1)
    assert cases.cases == [eval_cf.Case(seed=("a", "b"), hidden=frozenset({"d", "e"}))]
    assert cases.skipped == 1  # q's first half holds no known track
    shuffled = eval_cf.make_cases(held, known, mode="random", seed=1)
    for case in shuffled.cases:
        assert not set(case.seed) & case.hidden


def test_rankers_exclude_the_seed_and_popularity_ranks_by_support() -> None:
    train = build_interactions(eval_cf.pairs_of(PLAYLISTS))
    pop = eval_cf.popularity_ranker(train)
    ranked = pop(["t10"])
    assert "t10" not in ranked
    assert ranked[:2] == ["t5", "t6"]  # held by 6 playlists each, first seen first
    knn = eval_cf.knn_ranker(train, 5, pop)
    near = knn(["t3", "t4"])
    assert near[0] in {"t2", "t5"} and not {"t3", "t4"} & set(near)


def test_missing_data_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        eval_cf.main(["--data", str(tmp_path / "absent")])
    assert "no data folder at" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="no MPD slice files"):
        eval_cf.load_mpd(tmp_path)


@pytest.mark.shared_data
def test_als_beats_popularity_on_a_reduced_mpd_run(shared_data: Path) -> None:
    small = {"als": {"factors": 32}}  # the default 128 factors take twice as long
    report = eval_cf.run(
        shared_data / "mpd", grid=False, families=("als",), max_files=250, params=small
    )
    rows = {row.model: row for row in report.test_rows}
    assert report.test_cases > 100
    assert rows["ALS"].recall10 > 1.5 * rows["popularity"].recall10
    assert rows["ALS"].recall50 > rows["popularity"].recall50
    text = eval_cf.markdown(report)
    assert "| ALS |" in text and f"{report.test_cases} test playlists evaluated" in text
    json.dumps(report, default=lambda o: o.__dict__)
