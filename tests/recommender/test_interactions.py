from __future__ import annotations

import numpy as np
import pytest

from recommender.interactions import Interactions, build_interactions


def test_duplicate_pairs_count_once_and_ids_keep_first_seen_order() -> None:
    pairs = [("p1", "t2"), ("p1", "t1"), ("p2", "t2"), ("p1", "t2"), ("p2", "t3")]
    data = build_interactions(iter(pairs))
    assert data.row_ids == ("p1", "p2")
    assert data.item_ids == ("t2", "t1", "t3")
    assert data.matrix.dtype == np.float32
    assert data.matrix.toarray().tolist() == [[1, 1, 0], [1, 0, 1]]
    assert data.nnz == 4
    assert data.item_support().tolist() == [2, 1, 1]


def test_min_item_count_drops_rare_items_and_rows_left_empty() -> None:
    pairs = [("p1", "t1"), ("p1", "t2"), ("p2", "t1"), ("p3", "t3"), ("p3", "t3")]
    data = build_interactions(pairs, min_item_count=2)
    assert data.item_ids == ("t1",)
    assert data.row_ids == ("p1", "p2")
    assert data.matrix.toarray().tolist() == [[1], [1]]


def test_item_lookup_and_rows_of_new_playlists() -> None:
    data = build_interactions([("p1", "t1"), ("p1", "t2"), ("p2", "t3")])
    assert data.item_index("t3") == 2
    assert "t2" in data
    assert "nope" not in data
    with pytest.raises(KeyError, match="unknown item id 'nope'"):
        data.item_index("nope")
    seeds = data.rows_of([["t3", "t1", "t3", "unknown"], []])
    assert seeds.shape == (2, 3)
    assert seeds.toarray().tolist() == [[1, 0, 1], [0, 0, 0]]


def test_build_rejects_empty_input_and_bad_threshold() -> None:
    with pytest.raises(ValueError, match="pairs were empty"):
        build_interactions([])
    with pytest.raises(ValueError, match="min_item_count must be at least 1"):
        build_interactions([("p", "t")], min_item_count=0)
    with pytest.raises(ValueError, match="no item is held by 3 or more rows"):
        build_interactions([("p", "t"), ("q", "t")], min_item_count=3)


def test_interactions_validate_their_shape_and_ids() -> None:
    matrix = build_interactions([("p", "t")]).matrix
    with pytest.raises(ValueError, match="does not match 2 row ids x 1 item ids"):
        Interactions(matrix, ("p", "q"), ("t",))
    with pytest.raises(ValueError, match="not unique"):
        Interactions(build_interactions([("p", "t"), ("p", "u")]).matrix, ("p",), ("t", "t"))
