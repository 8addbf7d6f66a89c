"""The VectorStore contract, run against every backend (the ``store`` fixture is parametrized)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import numpy as np
import pytest

from tests.vectorstore.catalog import (
    BY_ID,
    CATALOG,
    CF_DIM,
    DIMS,
    MIXED_QUERY,
    NO_CF,
    TEXT_DIM,
    TRACKS,
    axis,
    expected_recommend,
    expected_search,
    unit,
)
from vectorstore import (
    CollectionName,
    Filter,
    Hit,
    Payload,
    Point,
    VectorName,
    VectorStore,
)

TEXT, CF = VectorName.TEXT, VectorName.CF


def assert_same_hits(got: list[Hit], want: list[Hit]) -> None:
    assert [h.id for h in got] == [h.id for h in want]
    np.testing.assert_allclose([h.score for h in got], [h.score for h in want], atol=1e-5)


# -- search ------------------------------------------------------------------------------------


def test_search_finds_the_obvious_neighbours_in_order(catalog: VectorStore) -> None:
    hits = catalog.search(TRACKS, using=TEXT, vector=axis(0), n=6)

    assert [h.id for h in hits] == [f"jazz:{k}" for k in range(1, 7)]
    assert hits[0].score == pytest.approx(float(BY_ID["jazz:1"].vectors[TEXT][0]), abs=1e-5)
    assert hits[0].score == pytest.approx(1 / np.sqrt(1 + 0.08**2), abs=1e-2)
    assert all(a.score > b.score for a, b in itertools.pairwise(hits))


def test_search_ranks_the_whole_catalog_like_brute_force(catalog: VectorStore) -> None:
    for using in (TEXT, CF):
        query = MIXED_QUERY if using is TEXT else unit([0.2, 1.0, 0.4, 0.1])
        assert_same_hits(
            catalog.search(TRACKS, using=using, vector=query, n=100),
            expected_search(query, using),
        )


def test_search_limits_to_n(catalog: VectorStore) -> None:
    hits = catalog.search(TRACKS, using=TEXT, vector=MIXED_QUERY, n=3)
    assert_same_hits(hits, expected_search(MIXED_QUERY, TEXT, n=3))


def test_search_in_cf_space_skips_points_without_cf(catalog: VectorStore) -> None:
    cf_hits = {h.id for h in catalog.search(TRACKS, using=CF, vector=axis(3, CF_DIM), n=100)}
    text_hits = {h.id for h in catalog.search(TRACKS, using=TEXT, vector=axis(3), n=100)}

    assert cf_hits == {p.id for p in CATALOG} - NO_CF
    assert text_hits >= NO_CF


FILTERS = {
    "artist_ids": Filter(artist_ids=("artist:jazz:1", "artist:metal:0")),
    "exclude_artist_ids": Filter(exclude_artist_ids=("artist:jazz:1", "artist:metal:1")),
    "exclude_ids": Filter(exclude_ids=("jazz:1", "jazz:2", "no-such-id")),
    "genres_any": Filter(genres_any=("cool jazz", "electronic")),
    "year_min": Filter(year_min=1975),
    "year_max": Filter(year_max=1974),
    "year_range": Filter(year_min=1962, year_max=1983),
    "explicit_true": Filter(explicit=True),
    "explicit_false": Filter(explicit=False),
    "popularity_min": Filter(popularity_min=40),
    "popularity_max": Filter(popularity_max=25),
    "popularity_range": Filter(popularity_min=20, popularity_max=52),
    "own_cf_only": Filter(own_cf_only=True),
    "combined": Filter(
        genres_any=("jazz", "metal", "pop"),
        year_min=1961,
        explicit=False,
        exclude_ids=("jazz:1",),
        exclude_artist_ids=("artist:pop:0",),
    ),
}


@pytest.mark.parametrize("where", FILTERS.values(), ids=FILTERS.keys())
@pytest.mark.parametrize("using", [TEXT, CF])
def test_every_filter_field_means_the_same(
    catalog: VectorStore, where: Filter, using: VectorName
) -> None:
    query = MIXED_QUERY if using is TEXT else unit([1.0, 0.6, 0.3, 0.2])
    want = expected_search(query, using, where=where)
    assert 0 < len(want) < len(expected_search(query, using))  # the filter really filters

    assert_same_hits(catalog.search(TRACKS, using=using, vector=query, n=100, where=where), want)


def test_explicit_false_keeps_tracks_of_unknown_explicitness(catalog: VectorStore) -> None:
    hits = catalog.search(TRACKS, using=TEXT, vector=axis(0), n=6, where=Filter(explicit=False))
    kept = [BY_ID[h.id].payload.explicit for h in hits]

    assert True not in kept
    assert None in kept and False in kept
    assert "jazz:2" in {h.id for h in hits}  # explicit unknown


def test_ranges_leave_out_unknown_values(catalog: VectorStore) -> None:
    hits = catalog.search(TRACKS, using=TEXT, vector=axis(0), n=100, where=Filter(year_min=1900))
    assert "jazz:3" not in {h.id for h in hits}  # year unknown
    assert "jazz:4" in {h.id for h in hits}


def test_excluded_ids_are_never_returned_even_when_nearest(catalog: VectorStore) -> None:
    hits = catalog.search(
        TRACKS,
        using=TEXT,
        vector=BY_ID["jazz:1"].vectors[TEXT],
        n=100,
        where=Filter(exclude_ids=("jazz:1",)),
    )
    assert hits[0].id == "jazz:2"
    assert "jazz:1" not in {h.id for h in hits}


def test_search_on_an_empty_collection_returns_nothing(empty_store: VectorStore) -> None:
    empty_store.ensure_collection(TRACKS, dims=DIMS)
    assert empty_store.search(TRACKS, using=TEXT, vector=axis(0)) == []


# -- recommend ---------------------------------------------------------------------------------


def test_recommend_from_one_positive_gives_its_cluster(catalog: VectorStore) -> None:
    hits = catalog.recommend(TRACKS, using=CF, positive=["jazz:1"], n=5)

    assert [h.id for h in hits] == ["jazz:2", "jazz:3", "jazz:4", "jazz:5", "jazz:6"]
    assert_same_hits(hits, expected_recommend(CF, ["jazz:1"], n=5))


def test_recommend_negatives_push_results_away(catalog: VectorStore) -> None:
    without = catalog.recommend(TRACKS, using=CF, positive=["jazz:3"], n=100)
    with_negative = catalog.recommend(
        TRACKS, using=CF, positive=["jazz:3"], negative=["metal:1"], n=100
    )

    before = {h.id: h.score for h in without}
    after = {h.id: h.score for h in with_negative}
    for metal in ("metal:2", "metal:3", "metal:6"):
        assert after[metal] < before[metal]
    rank = [h.id for h in with_negative]
    assert rank.index("metal:2") > [h.id for h in without].index("metal:2")
    assert_same_hits(with_negative, expected_recommend(CF, ["jazz:3"], ["metal:1"]))


def test_recommend_never_returns_the_examples(catalog: VectorStore) -> None:
    positive, negative = ["jazz:1", "jazz:2", "ambient:4"], ["metal:1", "pop:2"]
    hits = catalog.recommend(TRACKS, using=TEXT, positive=positive, negative=negative, n=100)

    assert not {h.id for h in hits} & {*positive, *negative}
    assert len(hits) == len(CATALOG) - 5
    assert_same_hits(hits, expected_recommend(TEXT, positive, negative))


def test_recommend_with_a_filter(catalog: VectorStore) -> None:
    where = Filter(genres_any=("metal", "pop"), explicit=False)
    hits = catalog.recommend(TRACKS, using=CF, positive=["jazz:2"], n=100, where=where)
    assert_same_hits(hits, expected_recommend(CF, ["jazz:2"], where=where))
    assert hits and all(h.id.startswith(("metal:", "pop:")) for h in hits)


def test_recommend_ignores_examples_it_does_not_have(catalog: VectorStore) -> None:
    plain = catalog.recommend(TRACKS, using=CF, positive=["jazz:1"], n=10)
    padded = catalog.recommend(
        TRACKS, using=CF, positive=["jazz:1", "no-such-track"], negative=["pop:5"], n=10
    )  # pop:5 has no cf vector

    assert [h.id for h in padded] == [h.id for h in plain]
    assert catalog.recommend(TRACKS, using=CF, positive=["pop:6", "nothing"], n=10) == []


# -- reads and writes --------------------------------------------------------------------------


def test_vectors_round_trip(catalog: VectorStore) -> None:
    ids = ["jazz:1", "pop:5", "metal:4", "no-such-track"]
    text = catalog.vectors(TRACKS, ids, using=TEXT)
    cf = catalog.vectors(TRACKS, ids, using=CF)

    assert set(text) == {"jazz:1", "pop:5", "metal:4"}
    assert set(cf) == {"jazz:1", "metal:4"}  # pop:5 has no cf vector
    for point_id, vector in text.items():
        assert vector.dtype == np.float32 and vector.shape == (TEXT_DIM,)
        np.testing.assert_allclose(vector, BY_ID[point_id].vectors[TEXT], atol=1e-6)
    np.testing.assert_allclose(cf["metal:4"], BY_ID["metal:4"].vectors[CF], atol=1e-6)
    assert catalog.vectors(TRACKS, [], using=TEXT) == {}


def test_cosine_vectors_come_back_normalised(empty_store: VectorStore) -> None:
    empty_store.ensure_collection(TRACKS, dims={TEXT: 2})
    empty_store.upsert(TRACKS, [Point("a", {TEXT: np.array([3.0, 4.0], np.float32)}, Payload())])
    np.testing.assert_allclose(empty_store.vectors(TRACKS, ["a"], using=TEXT)["a"], [0.6, 0.8])


def test_count_and_info(catalog: VectorStore) -> None:
    info = catalog.info(TRACKS)

    assert catalog.count(TRACKS) == len(CATALOG) == 24
    assert info is not None
    assert (info.name, info.points, dict(info.dims)) == (TRACKS, 24, DIMS)
    assert catalog.info(CollectionName.ARTISTS) is None


def test_delete_removes_points_and_ignores_unknown_ids(store: VectorStore) -> None:
    store.delete(TRACKS, ["jazz:1", "jazz:2", "no-such-track"])
    store.delete(TRACKS, [])

    assert store.count(TRACKS) == 22
    hits = store.search(TRACKS, using=TEXT, vector=axis(0), n=1)
    assert hits[0].id == "jazz:3"
    assert store.vectors(TRACKS, ["jazz:1"], using=TEXT) == {}


def test_upsert_replaces_a_point_vectors_and_payload(store: VectorStore) -> None:
    moved = Point("jazz:1", {TEXT: axis(1)}, Payload(artist_id="artist:new", year=2020))
    assert store.upsert(TRACKS, [moved]) == 1

    assert store.count(TRACKS) == 24
    assert store.search(TRACKS, using=TEXT, vector=axis(1), n=1)[0].id == "jazz:1"
    assert store.vectors(TRACKS, ["jazz:1"], using=CF) == {}  # the old cf vector is gone
    found = store.search(TRACKS, using=TEXT, vector=axis(1), n=3, where=Filter(year_min=2020))
    assert [h.id for h in found] == ["jazz:1"]


def test_upsert_accepts_any_iterable_and_counts_across_batches(empty_store: VectorStore) -> None:
    empty_store.ensure_collection(TRACKS, dims=DIMS)
    written = empty_store.upsert(TRACKS, (p for p in CATALOG), batch_size=5)
    assert written == empty_store.count(TRACKS) == 24


def test_answers_survive_finish_bulk_load(store: VectorStore) -> None:
    before = store.search(TRACKS, using=TEXT, vector=MIXED_QUERY, n=100, where=FILTERS["combined"])
    store.finish_bulk_load(TRACKS)
    after = store.search(TRACKS, using=TEXT, vector=MIXED_QUERY, n=100, where=FILTERS["combined"])
    assert_same_hits(after, before)
    assert store.count(TRACKS) == 24


def test_ensure_collection_is_idempotent_and_refuses_other_dims(catalog: VectorStore) -> None:
    catalog.ensure_collection(TRACKS, dims=DIMS)
    assert catalog.count(TRACKS) == 24

    with pytest.raises(ValueError, match=r"has dims cf=4, text=6, not text=8"):
        catalog.ensure_collection(TRACKS, dims={TEXT: 8})


def test_collections_are_independent(store: VectorStore) -> None:
    store.ensure_collection(CollectionName.ARTISTS, dims={TEXT: TEXT_DIM})
    store.upsert(CollectionName.ARTISTS, [Point("artist:x", {TEXT: axis(0)}, Payload())])

    assert store.count(CollectionName.ARTISTS) == 1
    assert store.count(TRACKS) == 24
    hits = store.search(CollectionName.ARTISTS, using=TEXT, vector=axis(0))
    assert [h.id for h in hits] == ["artist:x"]


# -- validation --------------------------------------------------------------------------------

ZERO = np.zeros(TEXT_DIM, np.float32)
NAN = np.full(TEXT_DIM, np.nan, np.float32)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.count("songs"), r"unknown collection 'songs'; expected one of: tracks"),
        (lambda s: s.count(CollectionName.ARTISTS), r"collection 'artists' does not exist"),
        (
            lambda s: s.search(TRACKS, using="lyrics", vector=axis(0)),
            r"unknown vector name 'lyrics'",
        ),
        (
            lambda s: s.search(TRACKS, using=TEXT, vector=axis(0, 5)),
            r"must have shape \(6,\), got \(5,\)",
        ),
        (
            lambda s: s.search(TRACKS, using=CF, vector=axis(0)),
            r"tracks\.cf must have shape \(4,\)",
        ),
        (lambda s: s.search(TRACKS, using=TEXT, vector=ZERO), r"all zeros"),
        (lambda s: s.search(TRACKS, using=TEXT, vector=NAN), r"NaN or inf"),
        (
            lambda s: s.search(TRACKS, using=TEXT, vector=axis(0), n=0),
            r"n must be a positive int, got 0",
        ),
        (lambda s: s.search(TRACKS, using=TEXT, vector=axis(0), n=-3), r"got -3"),
        (
            lambda s: s.search(
                TRACKS, using=TEXT, vector=axis(0), where=Filter(year_min=2000, year_max=1990)
            ),
            r"year_min 2000 > year_max 1990",
        ),
        (lambda s: s.recommend(TRACKS, using=CF, positive=[]), r"at least one positive example"),
        (lambda s: s.recommend(TRACKS, using=CF, positive=["jazz:1"], n=0), r"n must be"),
        (lambda s: s.recommend(TRACKS, using=CF, positive="jazz:1"), r"not the single string"),
        (lambda s: s.vectors(TRACKS, "jazz:1", using=TEXT), r"not the single string"),
        (
            lambda s: s.upsert(TRACKS, [Point("x", {TEXT: axis(0, 3)}, Payload())]),
            r"vector of point 'x' for tracks\.text must have shape \(6,\)",
        ),
        (lambda s: s.upsert(TRACKS, [Point("", {TEXT: axis(0)}, Payload())]), r"non-empty strings"),
        (lambda s: s.upsert(TRACKS, CATALOG, batch_size=0), r"batch_size must be a positive int"),
        (lambda s: s.ensure_collection(CollectionName.ARTISTS, dims={}), r"dims is empty"),
        (
            lambda s: s.ensure_collection(CollectionName.ARTISTS, dims={TEXT: 0}),
            r"positive int, got 0",
        ),
    ],
)
def test_bad_arguments_raise_precise_value_errors(
    catalog: VectorStore, call: Callable[[VectorStore], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        call(catalog)
    assert catalog.count(TRACKS) == 24  # nothing was written


def test_a_collection_without_cf_refuses_cf_queries(empty_store: VectorStore) -> None:
    empty_store.ensure_collection(CollectionName.PLAYLISTS, dims={TEXT: TEXT_DIM})
    empty_store.upsert(CollectionName.PLAYLISTS, [Point("mpd:1", {TEXT: axis(0)}, Payload())])

    with pytest.raises(ValueError, match=r"'playlists' has no 'cf' vectors \(it has: text\)"):
        empty_store.search(CollectionName.PLAYLISTS, using=CF, vector=axis(0, CF_DIM))
    with pytest.raises(ValueError, match=r"has no 'cf' vectors"):
        empty_store.recommend(CollectionName.PLAYLISTS, using=CF, positive=["mpd:1"])


def test_a_bad_point_in_a_batch_writes_nothing_of_that_batch(empty_store: VectorStore) -> None:
    empty_store.ensure_collection(TRACKS, dims=DIMS)
    bad = dataclasses.replace(CATALOG[3], vectors={TEXT: axis(0, 2)})
    with pytest.raises(ValueError, match="jazz:4"):
        empty_store.upsert(TRACKS, [*CATALOG[:3], bad])
    assert empty_store.count(TRACKS) == 0
