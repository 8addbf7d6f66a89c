from __future__ import annotations

import numpy as np
import pytest

from recommender.vectors import ItemVectors, normalize_rows


def _vectors() -> ItemVectors:
    return ItemVectors.from_factors(
        ["east", "north", "northeast", "west", "zero"],
        [[2, 0], [0, 3], [1, 1], [-1, 0], [0, 0]],
        [5, 4, 3, 2, 1],
        model="toy",
    )


def test_from_factors_normalises_rows_and_keeps_zero_rows() -> None:
    vectors = _vectors()
    norms = np.linalg.norm(vectors.vectors, axis=1)
    assert norms.tolist() == pytest.approx([1, 1, 1, 1, 0])
    assert vectors.vectors.dtype == np.float32
    assert vectors.borrowed.tolist() == [False] * 5
    assert normalize_rows([3.0, 4.0]).tolist() == [[pytest.approx(0.6), pytest.approx(0.8)]]


def test_similar_ranks_by_cosine_and_excludes_the_item_itself() -> None:
    ids, scores = _vectors().similar("east", n=3)
    assert ids == ["northeast", "north", "zero"]
    assert scores.tolist() == pytest.approx([np.sqrt(0.5), 0.0, 0.0])
    assert scores.dtype == np.float32


def test_nearest_skips_excluded_ids_and_returns_fewer_when_few_are_left() -> None:
    vectors = _vectors()
    ids, _ = vectors.nearest([1, 1], n=2, exclude=["northeast", "not-an-item"])
    assert ids[0] in {"east", "north"} and len(ids) == 2
    ids, _ = vectors.nearest([1, 0], n=10, exclude=["east", "north", "northeast"])
    assert ids[0] == "zero" and ids[-1] == "west" and len(ids) == 2


def test_mean_is_a_normalised_query_and_can_be_weighted() -> None:
    vectors = _vectors()
    assert vectors.mean(["east", "north"]).tolist() == pytest.approx([np.sqrt(0.5)] * 2)
    weighted = vectors.mean(["east", "north"], weights=[3, 1])
    assert weighted[0] > weighted[1]
    with pytest.raises(ValueError, match="mean of no items"):
        vectors.mean([])
    with pytest.raises(ValueError, match="1 weights for 2 items"):
        vectors.mean(["east", "north"], weights=[1])


def test_lookups_validate_their_arguments() -> None:
    vectors = _vectors()
    with pytest.raises(KeyError, match="no vector for item 'south'"):
        vectors.similar("south")
    with pytest.raises(ValueError, match="n must be at least 1, got 0"):
        vectors.similar("east", n=0)
    with pytest.raises(ValueError, match=r"shape \(2,\), got \(3,\)"):
        vectors.nearest([1, 0, 0])
    with pytest.raises(ValueError, match="finite and non-zero"):
        vectors.nearest([0, 0])


def test_construction_checks_shapes_and_dtype() -> None:
    doubles: object = np.zeros((1, 2))
    with pytest.raises(ValueError, match="float32"):
        ItemVectors(("a",), doubles, np.ones(1, np.int64), model="m")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="support must have shape"):
        ItemVectors(("a",), np.zeros((1, 2), np.float32), np.ones(2, np.int64), model="m")
    with pytest.raises(ValueError, match="not unique"):
        ItemVectors(("a", "a"), np.zeros((2, 2), np.float32), np.ones(2, np.int64), model="m")
