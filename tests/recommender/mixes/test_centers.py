"""Taste centers on vectors whose clusters are obvious: how many, where, and stable day to day."""

from __future__ import annotations

import random

import numpy as np
import pytest

from recommender.mixes import fit_centers, recency_weights
from recommender.vectors import normalize_rows

DIM = 16


def blob(axis: int, n: int, *, seed: int, spread: float = 0.15) -> np.ndarray:
    """``n`` unit vectors around the ``axis``-th basis direction."""
    rng = np.random.default_rng(seed)
    base = np.zeros(DIM)
    base[axis] = 1.0
    return normalize_rows(base + spread * rng.standard_normal((n, DIM)))


def test_two_tastes_give_two_centers_weighted_by_listening() -> None:
    jazz, metal = blob(0, 30, seed=1), blob(5, 10, seed=2)
    x = np.vstack([jazz, metal])
    w = np.concatenate([np.full(30, 3.0), np.full(10, 1.0)])  # jazz has 90 of the 100 weight
    fit = fit_centers(x, w, rng=random.Random(0))
    assert len(fit.centers) == 2
    heavy, light = fit.centers
    assert heavy.share == pytest.approx(0.9)
    assert light.share == pytest.approx(0.1)
    assert heavy.vector[0] > 0.9 and light.vector[5] > 0.9
    assert set(fit.labels[:30].tolist()) == {0} and set(fit.labels[30:].tolist()) == {1}


def test_one_taste_gives_one_center_not_slices_of_it() -> None:
    fit = fit_centers(blob(3, 40, seed=4), np.ones(40), max_centers=5, rng=random.Random(0))
    assert len(fit.centers) == 1
    assert fit.centers[0].share == pytest.approx(1.0)


def test_a_taste_below_min_share_is_no_center() -> None:
    x = np.vstack([blob(0, 40, seed=1), blob(9, 2, seed=2)])
    fit = fit_centers(x, np.ones(42), min_share=0.1, rng=random.Random(0))
    assert len(fit.centers) == 1
    assert (fit.labels >= 0).all()  # the stray tracks still belong to the remaining center


def test_centers_keep_their_ids_from_day_to_day() -> None:
    jazz, metal, ambient = blob(0, 30, seed=1), blob(5, 20, seed=2), blob(10, 25, seed=3)
    day1 = fit_centers(np.vstack([jazz, metal]), np.ones(50), rng=random.Random(1))
    ids = {int(np.argmax(c.vector)): c.id for c in day1.centers}
    # Day 2: more metal than jazz now (so the order by weight flips), and a new taste appears.
    x = np.vstack([jazz, metal, ambient])
    w = np.concatenate([np.ones(30), np.full(20, 3.0), np.ones(25)])
    day2 = fit_centers(x, w, previous=day1.centers, rng=random.Random(99))
    by_axis = {int(np.argmax(c.vector)): c for c in day2.centers}
    assert set(by_axis) == {0, 5, 10}
    assert by_axis[0].id == ids[0] and by_axis[5].id == ids[5]
    assert by_axis[10].id not in ids.values()
    old = {c.id: c.vector for c in day1.centers}
    for axis in (0, 5):
        assert float(old[ids[axis]] @ by_axis[axis].vector) > 0.99  # barely moved


def test_same_listening_another_seed_same_ids() -> None:
    """Yesterday's centers, not the random seed, decide which taste has which id."""
    x = np.vstack([blob(0, 30, seed=1), blob(5, 30, seed=2)])
    a = fit_centers(x, np.ones(60), rng=random.Random(1))
    b = fit_centers(x, np.ones(60), previous=a.centers, rng=random.Random(2))
    ids_a = {int(np.argmax(c.vector)): c.id for c in a.centers}
    ids_b = {int(np.argmax(c.vector)): c.id for c in b.centers}
    assert ids_a == ids_b and len(ids_a) == 2


def test_recency_weights_halve_every_half_life() -> None:
    w = recency_weights([0.0, 30.0, 60.0, -5.0], half_life_days=30.0)
    assert w.tolist() == pytest.approx([1.0, 0.5, 0.25, 1.0])


def test_nothing_to_cluster_gives_no_centers() -> None:
    fit = fit_centers(np.zeros((3, DIM)), np.ones(3), rng=random.Random(0))
    assert fit.centers == () and fit.labels.tolist() == [-1, -1, -1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_centers": 0}, "max_centers"),
        ({"min_share": 1.0}, "min_share"),
        ({"iterations": 0}, "iterations"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_centers(blob(0, 3, seed=0), np.ones(3), rng=random.Random(0), **kwargs)  # type: ignore[arg-type]


def test_weights_must_match_rows() -> None:
    with pytest.raises(ValueError, match="one per row"):
        fit_centers(blob(0, 3, seed=0), np.ones(2), rng=random.Random(0))


def test_a_center_needs_enough_tracks_for_a_mix() -> None:
    """Twelve equally weighted, loosely related tracks: no eight slivers of one or two each."""
    x = normalize_rows(np.random.default_rng(5).standard_normal((12, DIM)) * 0.5 + 1.0)
    fit = fit_centers(
        x, np.ones(12), max_centers=8, min_share=0.05, min_members=5, rng=random.Random(0)
    )
    sizes = [len(fit.members(k)) for k in range(len(fit.centers))]
    assert sizes and min(sizes) >= 5
