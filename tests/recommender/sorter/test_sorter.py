"""Known answers for the sorter core: separated clusters, outliers, a song between two lists,
and which songs active labelling asks about."""

from __future__ import annotations

import time

import numpy as np
import pytest

from recommender.sorter import Method, Pile, SortOptions, propose_to_label, sort_pile

LISTS = 4
PER = 40


def clusters(
    seed: int = 0, *, spread: float = 0.25, dim: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = np.eye(dim)[:LISTS] * 3.0
    x = np.concatenate([c + spread * rng.normal(size=(PER, dim)) for c in centers])
    return x.astype(np.float32), np.repeat(np.arange(LISTS), PER)


def first_k(truth: np.ndarray, k: int) -> list[tuple[int, int]]:
    return [(int(r), j) for j in range(LISTS) for r in np.flatnonzero(truth == j)[:k]]


@pytest.mark.parametrize("method", list(Method))
@pytest.mark.parametrize("mutual", [True, False])
@pytest.mark.parametrize("complete", [True, False])
def test_separated_clusters_are_sorted_right(method: Method, mutual: bool, complete: bool) -> None:
    x, truth = clusters()
    out = sort_pile(
        Pile.of(x), first_k(truth, 3), lists=LISTS, method=method,
        options=SortOptions(mutual=mutual, complete=complete),
    )  # fmt: skip
    placed = [p for p in out.placements if p.lists]
    assert len(out.placements) == len(x)
    assert len(placed) >= (len(x) if complete else 0.8 * len(x))
    assert all(p.lists == (int(truth[p.row]),) for p in placed)
    assert all(0.0 <= p.confidence <= 1.0 for p in out.placements)
    assert [p.labelled for p in out.placements].count(True) == 3 * LISTS


def test_labelled_songs_stay_where_the_user_put_them() -> None:
    x, truth = clusters()
    labels = [*first_k(truth, 3), (PER * 2 + 10, 0)]  # a "wrong" label is still the user's
    out = sort_pile(Pile.of(x), labels, lists=LISTS)
    assert out.placements[PER * 2 + 10].lists == (0,)
    assert out.placements[PER * 2 + 10].labelled


@pytest.mark.parametrize("method", list(Method))
def test_void_catches_outliers(method: Method) -> None:
    x, truth = clusters()
    rng = np.random.default_rng(5)
    outliers = (np.eye(16)[8:12] * 3.0 + 0.25 * rng.normal(size=(4, 16))).astype(np.float32)
    pile = Pile.of(np.concatenate([x, outliers]))
    labels = first_k(truth, 5)
    out = sort_pile(pile, labels, lists=LISTS, method=method, options=SortOptions(complete=False))
    assert set(range(len(x), len(x) + 4)) <= set(out.void)
    assert len(out.void) <= 4 + 0.25 * len(x)  # most list songs are kept
    complete = sort_pile(pile, labels, lists=LISTS, method=method)
    assert complete.void == ()


@pytest.mark.parametrize("method", [Method.CENTROID, Method.SPREAD])
def test_non_mutual_gives_a_song_between_two_lists_to_both(method: Method) -> None:
    x, truth = clusters()
    between = ((x[truth == 0].mean(axis=0) + x[truth == 1].mean(axis=0)) / 2)[None, :]
    pile = Pile.of(np.concatenate([x, between]))
    row = len(x)
    labels = first_k(truth, 5)
    both = sort_pile(pile, labels, lists=LISTS, method=method, options=SortOptions(mutual=False))
    one = sort_pile(pile, labels, lists=LISTS, method=method)
    assert both.placements[row].lists == (0, 1)
    assert len(one.placements[row].lists) == 1
    # The clear songs stay in one list each.
    assert sum(len(p.lists) > 1 for p in both.placements) <= 3


def test_active_asks_about_the_boundary_songs() -> None:
    x, truth = clusters()
    rng = np.random.default_rng(9)
    means = [x[truth == j].mean(axis=0) for j in range(LISTS)]
    # Six songs sit halfway between lists 0 and 1 or lists 2 and 3.
    edge = [(means[a] + means[b]) / 2 + 0.1 * rng.normal(size=16) for a, b in [(0, 1), (2, 3)] * 3]
    pile = Pile.of(np.concatenate([x, np.asarray(edge, dtype=np.float32)]))
    labels = first_k(truth, 3)
    out = sort_pile(pile, labels, lists=LISTS)
    picked = propose_to_label(pile, out, [r for r, _ in labels], n=4, max_similarity=0.999)
    assert len(picked) == 4
    assert set(picked) <= set(range(len(x), len(x) + 6))


def test_before_every_list_has_an_example_active_picks_far_apart_songs() -> None:
    x, truth = clusters()
    picked = propose_to_label(Pile.of(x), None, [], n=LISTS)
    assert sorted(int(truth[r]) for r in picked) == list(range(LISTS))


def test_a_correction_refits_fast_on_two_thousand_songs() -> None:
    rng = np.random.default_rng(1)
    x = (np.eye(64)[rng.integers(0, 8, 2000)] * 3 + 0.5 * rng.normal(size=(2000, 64))).astype(
        np.float32
    )
    pile = Pile.of(x)
    labels = [(int(r), int(np.argmax(x[r, :8]))) for r in range(40)]
    sort_pile(pile, labels, lists=8)  # the first sort builds the pile graph
    took = []
    for _ in range(3):  # the best of three: a shared CI machine has noisy neighbours
        started = time.perf_counter()
        out = sort_pile(pile, [*labels, (100, 0)], lists=8)
        took.append(time.perf_counter() - started)
    # The target is 100 ms (about 60 ms measured on 2 idle cores); the bound leaves room
    # for a loaded CI machine while still catching a refit that rebuilds the graph (~3x).
    assert min(took) < 0.25
    assert out.placements[100].lists == (0,)


def test_bad_arguments_fail_precisely() -> None:
    x, _ = clusters()
    with pytest.raises(ValueError, match="outside the pile"):
        sort_pile(Pile.of(x), [(10_000, 0)], lists=2)
    with pytest.raises(ValueError, match="list index"):
        sort_pile(Pile.of(x), [(0, 5)], lists=2)
    with pytest.raises(ValueError, match="at least one song"):
        sort_pile(Pile.of(x), [], lists=2)
