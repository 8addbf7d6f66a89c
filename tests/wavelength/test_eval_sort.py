"""``wavelength eval-sort``: how test users are built, and a small run on the real playlists
in which the sorter beats the nearest-centroid baseline at k = 5."""

from __future__ import annotations

from pathlib import Path

from recommender.cf import AlsEmbedder
from recommender.sorter import Method
from tests.support.factories import playlist, track
from wavelength.evaluation.sort import (
    SortEvalOptions,
    clearly_different,
    evaluate_sort,
    markdown,
    title_words,
)


def test_titles_differ_clearly_when_they_share_no_real_word() -> None:
    assert title_words("The Best of Chill!") == {"best", "chill"}
    songs = [track(i) for i in range(1, 21)]
    a = playlist(1, songs[:10], "chill vibes")
    assert clearly_different(a, playlist(2, songs[10:], "Workout"), max_overlap=0.1)
    assert not clearly_different(a, playlist(3, songs[10:], "Chill mix"), max_overlap=0.1)
    assert not clearly_different(a, playlist(4, songs[5:15], "gym"), max_overlap=0.1)


def test_the_sorter_beats_the_centroid_baseline_at_k5(shared_data: Path) -> None:
    options = SortEvalOptions(
        playlists=shared_data / "mpd",
        seed=3,
        users=40,
        ks=(5,),
        methods=(Method.CENTROID, Method.SPREAD),
    )
    embedder = AlsEmbedder(factors=32, iterations=8, threads=2, use_gpu=False)
    report = evaluate_sort(options, embedder=embedder, echo=lambda _: None)
    assert report.users >= 30
    rows = {(r.method, r.mode): r for r in report.rows}
    base = rows[("centroid", "random")]
    spread = rows[("spread", "random")]
    assert spread.versus_baseline is not None and spread.versus_baseline.diff > 0
    assert spread.accuracy.mean > base.accuracy.mean > 0.5
    assert spread.macro_f1.mean > 0.5 and 0.0 < spread.void_precision.mean <= 1.0
    assert "| spread | 5 | random |" in markdown(report)
