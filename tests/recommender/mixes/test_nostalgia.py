"""Nostalgia on synthetic histories whose pattern is known: each listener goes back to what
they played a fixed time ago, and the model must find that time and those tracks."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.mixes import NostalgiaModel, Plays, candidates, nostalgic_period, rank_nostalgia

DAY = 86_400.0
NOW = 2_000_000_000.0  # 2033-05-18


def patterned(lag_days: float, *, years: int = 6, heavy_era_days: float | None = None) -> Plays:
    """Every 60 days a new "era" of 8 tracks, each played 10 times within 3 weeks; ``lag_days``
    later the listener comes back to each of them once. Plus a steady trickle of one-off
    tracks (never repeated), and current favourites played in the last weeks.

    ``heavy_era_days``: one era that far back is played twice as much and never revisited.
    """
    items: list[int] = []
    times: list[float] = []
    rng = np.random.default_rng(7)
    start = NOW - years * 365 * DAY
    item = 0
    t = start
    while t < NOW - 30 * DAY:
        heavy = heavy_era_days is not None and abs((NOW - t) / DAY - heavy_era_days) < 30
        era = list(range(item, item + 8))
        item += 8
        for track in era:
            for _ in range(20 if heavy else 10):
                items.append(track)
                times.append(t + rng.uniform(0, 21) * DAY)
            back = t + lag_days * DAY + rng.uniform(0, 20) * DAY
            if back < NOW and not heavy:
                items.append(track)
                times.append(back)
        t += 60 * DAY
    for k in range(int((NOW - start) / (5 * DAY))):  # one-offs every five days
        items.append(item)
        times.append(start + k * 5 * DAY)
        item += 1
    for _ in range(50):  # this month's favourites
        items.append(item + rng.integers(0, 5))
        times.append(NOW - rng.uniform(1, 20) * DAY)
    return Plays.of(items, times)


def test_candidates_leave_out_anything_played_lately() -> None:
    plays = Plays.of(
        [1, 2, 3, 1], [NOW - 400 * DAY, NOW - 300 * DAY, NOW - 10 * DAY, NOW - 5 * DAY]
    )
    assert candidates(plays, NOW, recent_days=56).tolist() == [2]


@pytest.mark.parametrize("lag", [180.0, 730.0])
def test_the_nostalgic_period_is_the_listeners_own(lag: float) -> None:
    period = nostalgic_period(patterned(lag), NOW)
    assert period is not None
    near, far = (NOW - period.end) / DAY, (NOW - period.start) / DAY
    assert lag - 30 <= near <= far <= lag + 40


def test_too_few_returns_is_no_period() -> None:
    plays = Plays.of([1, 2, 1], [NOW - 400 * DAY, NOW - 300 * DAY, NOW - 100 * DAY])
    assert nostalgic_period(plays, NOW, min_returns=10) is None


def test_the_mix_is_what_they_would_go_back_to_not_the_most_played() -> None:
    """500 days is this listener's lag; a heavier era five years back was never revisited."""
    plays = patterned(500.0, heavy_era_days=5 * 365)
    picked, scores, period = rank_nostalgia(plays, NOW, n=8)
    assert period is not None
    last_main_play = {}
    for i, t in zip(plays.items.tolist(), plays.times.tolist(), strict=True):
        last_main_play.setdefault(i, t)
    ages = [(NOW - last_main_play[i]) / DAY for i in picked.tolist()]
    assert all(440 <= a <= 560 for a in ages), ages  # the eras about 500 days ago
    assert list(scores) == sorted(scores, reverse=True)
    counts = np.bincount(plays.items)
    most = candidates(plays, NOW)[np.argsort(-counts[candidates(plays, NOW)], kind="stable")][:8]
    assert not set(most.tolist()) & set(picked.tolist())  # most played picks the heavy era


def test_the_model_never_reads_the_future() -> None:
    plays = patterned(730.0)
    cut = NOW - 200 * DAY
    later = Plays.of(
        np.concatenate([plays.items, [0, 1, 2]]),
        np.concatenate([plays.times, [cut + DAY, cut + 2 * DAY, cut + 3 * DAY]]),
    )
    a = rank_nostalgia(plays, cut, n=10)
    b = rank_nostalgia(later, cut, n=10)
    assert a[0].tolist() == b[0].tolist()
    assert np.allclose(a[1], b[1])


def test_a_short_history_still_ranks_by_plays_without_learning() -> None:
    plays = Plays.of([1, 1, 1, 2, 3, 3], [NOW - d * DAY for d in (200, 190, 180, 170, 160, 150)])
    model = NostalgiaModel.fit(plays, NOW)
    assert model.weights is None and model.cutoffs < 3
    picked, _, _ = rank_nostalgia(plays, NOW, n=3)
    assert picked.tolist() == [1, 3, 2]


def test_bad_plays_are_refused() -> None:
    with pytest.raises(ValueError, match="one time per play"):
        Plays.of([1, 2], [NOW])
    with pytest.raises(ValueError, match="n must"):
        rank_nostalgia(Plays.of([1], [NOW - 100 * DAY]), NOW, n=0)
