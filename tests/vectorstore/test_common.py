"""The pieces both backends share: stable ids, the payload layout, what a Filter means."""

from __future__ import annotations

import numpy as np
import pytest

from vectorstore import NO_FILTER, Filter, Payload, Point, VectorName
from vectorstore._common import (
    AnyOf,
    Between,
    average_vector,
    batched,
    plan_filter,
    point_uuid,
    stored_payload,
)


def test_point_ids_map_to_the_same_uuid_forever() -> None:
    # A changed namespace would orphan every stored point, so the value is pinned here.
    assert (
        point_uuid("spotify:track:4uLU6hMCjMI75M1A2tKUQC") == "faf6dc6c-9664-575c-a68f-ca1fc003c3bf"
    )
    assert point_uuid("mpd:1") != point_uuid("mpd:2")


def test_the_payload_keeps_the_original_id() -> None:
    point = Point("mpd:7", {}, Payload(artist_id="a", genres=("x", "y"), year=1999))
    assert stored_payload(point) == {
        "id": "mpd:7",
        "artist_id": "a",
        "genres": ["x", "y"],
        "year": 1999,
        "explicit": None,
        "popularity": None,
        "cf_borrowed": None,
    }


def test_an_empty_filter_plans_nothing() -> None:
    assert plan_filter(NO_FILTER) is None
    assert plan_filter(Filter(exclude_ids=())) is None


def test_a_filter_plans_into_conditions() -> None:
    plan = plan_filter(
        Filter(artist_ids=("a",), genres_any=("g", "h"), year_max=1990, explicit=False),
        also_exclude=["x", "x"],
    )
    assert plan is not None
    assert plan.must == (AnyOf("artist_id", ("a",)), AnyOf("genres", ("g", "h")), Between("year", None, 1990))  # fmt: skip
    assert plan.must_not == (AnyOf("explicit", (True,)),)  # explicit=False: "not true"
    assert plan.exclude_uuids == (point_uuid("x"),)


def test_explicit_true_is_a_must() -> None:
    plan = plan_filter(Filter(explicit=True))
    assert plan is not None
    assert (plan.must, plan.must_not) == ((AnyOf("explicit", (True,)),), ())


def test_average_vector_is_qdrants_formula() -> None:
    pos = [np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)]
    neg = [np.array([1.0, 1.0], np.float32)]
    np.testing.assert_allclose(average_vector(pos, []), [0.5, 0.5])
    np.testing.assert_allclose(average_vector(pos, neg), [0.0, 0.0])
    np.testing.assert_allclose(average_vector(pos[:1], neg), [1.0, -1.0])
    assert average_vector(pos, neg).dtype == np.float32


@pytest.mark.parametrize(("size", "want"), [(2, [[0, 1], [2, 3], [4]]), (5, [[0, 1, 2, 3, 4]])])
def test_batched(size: int, want: list[list[int]]) -> None:
    assert list(batched(iter(range(5)), size)) == want
    assert list(batched([], size)) == []


def test_vector_names_are_the_stored_names() -> None:
    assert [v.value for v in VectorName] == ["text", "cf"]
