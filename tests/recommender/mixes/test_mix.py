"""Composing a mix: the hard rules (caps, exclusions) and the familiar / new balance."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from recommender.mixes import MixItem, Pool, compose_mix, top_artists

DIM = 4
CENTER = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)


def pool(n: int, *, artists: int, prefix: str, affinity: float = 1.0) -> Pool:
    """``n`` tracks spread over ``artists`` artists, all close to CENTER, the first closest."""
    vectors = [[1.0, 0.02 * i, 0.0, 0.0] for i in range(n)]
    return Pool.of(
        [f"{prefix}{i}" for i in range(n)],
        [f"{prefix}-artist{i % artists}" for i in range(n)],
        vectors,
        np.full(n, affinity),
    )


def test_at_most_two_per_artist() -> None:
    mix = compose_mix(CENTER, familiar=pool(40, artists=5, prefix="f"), n=25, new_share=0.0)
    per_artist: dict[str, int] = {}
    for item in mix:
        per_artist[item.artist] = per_artist.get(item.artist, 0) + 1
    assert max(per_artist.values()) == 2
    assert len(mix) == 10  # 5 artists x 2: the cap wins over the length


def test_nothing_excluded_ever() -> None:
    familiar = pool(30, artists=30, prefix="f")
    fresh = pool(30, artists=30, prefix="n")
    banned = {"f0", "f1", "f2", "n0", "n1"}
    mix = compose_mix(CENTER, familiar=familiar, fresh=fresh, n=20, exclude=banned)
    assert len(mix) == 20
    assert not banned & {m.track for m in mix}


def test_mostly_familiar_with_new_tracks_spread_through() -> None:
    mix = compose_mix(
        CENTER,
        familiar=pool(30, artists=30, prefix="f"),
        fresh=pool(30, artists=30, prefix="n"),
        n=20,
        new_share=0.2,
    )
    new_at = [i for i, m in enumerate(mix) if not m.familiar]
    assert len(new_at) == 4
    assert new_at[0] > 0 and all(b - a >= 3 for a, b in pairwise(new_at))
    assert all(m.track.startswith("n") for m in mix if not m.familiar)


def test_the_other_side_fills_in_when_one_runs_short() -> None:
    few_new = compose_mix(
        CENTER,
        familiar=pool(30, artists=30, prefix="f"),
        fresh=pool(1, artists=1, prefix="n"),
        n=10,
        new_share=0.5,
    )
    assert len(few_new) == 10 and sum(not m.familiar for m in few_new) == 1
    few_old = compose_mix(
        CENTER,
        familiar=pool(2, artists=2, prefix="f"),
        fresh=pool(30, artists=30, prefix="n"),
        n=10,
        new_share=0.2,
        fresh_floor=0.0,
    )
    assert len(few_old) == 10 and sum(m.familiar for m in few_old) == 2


def test_new_tracks_stay_within_the_reach_of_the_familiar_ones() -> None:
    familiar = Pool.of(["a", "b"], ["x", "y"], [[1, 0, 0, 0], [1, 0.1, 0, 0]])
    fresh = Pool.of(["near", "far"], ["p", "q"], [[1, 0.05, 0, 0], [1, 1, 0, 0]])
    mix = compose_mix(CENTER, familiar=familiar, fresh=fresh, n=4, new_share=0.5)
    assert {m.track for m in mix if not m.familiar} == {"near"}


def test_loved_tracks_come_first_among_equally_close_ones() -> None:
    familiar = Pool.of(["a", "b"], ["x", "y"], [[1, 0, 0, 0], [1, 0, 0, 0]], [1.0, 5.0])
    mix = compose_mix(CENTER, familiar=familiar, n=2, new_share=0.0)
    assert [m.track for m in mix] == ["b", "a"]
    assert isinstance(mix[0], MixItem) and mix[0].score == pytest.approx(5.0)


def test_tracks_pointing_away_from_the_center_are_left_out() -> None:
    familiar = Pool.of(["near", "away"], ["x", "y"], [[1, 0, 0, 0], [-1, 0, 0, 0]])
    assert [m.track for m in compose_mix(CENTER, familiar=familiar, n=5)] == ["near"]


def test_a_mix_is_labelled_by_its_heaviest_artists() -> None:
    artists = ["Bill", "Miles", "Chet", "Miles", "Bill", "Miles"]
    assert top_artists(artists, [1, 1, 1, 1, 1, 1], n=2) == ("Miles", "Bill")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"n": 0}, "n must"), ({"new_share": 1.5}, "new_share"), ({"per_artist": 0}, "per_artist")],
)
def test_bad_arguments_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compose_mix(CENTER, familiar=pool(3, artists=3, prefix="f"), **kwargs)  # type: ignore[arg-type]
