from __future__ import annotations

import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from recommender.cf import AlsEmbedder, BprEmbedder, ItemEmbedder
from recommender.interactions import Interactions, build_interactions
from tests.recommender.conftest import CLUSTER_SIZE

# Small and fast, but enough to separate the two tastes every time. (With alpha 10, ALS
# needs regularization near 1 here: at 0.05 it fits each playlist's random picks instead.)
EMBEDDERS: list[ItemEmbedder] = [
    AlsEmbedder(factors=8, regularization=1.0, alpha=10.0, iterations=10, seed=1),
    BprEmbedder(factors=8, iterations=200, seed=1, threads=1),
]


@pytest.fixture(params=EMBEDDERS, ids=lambda e: e.name.split()[0])
def embedder(request: pytest.FixtureRequest) -> ItemEmbedder:
    model: ItemEmbedder = request.param
    return model


class TestEveryEmbedder:
    """The contract every ``ItemEmbedder`` keeps, whatever the model."""

    def test_similar_items_stay_inside_their_taste(
        self, embedder: ItemEmbedder, checker_board: Interactions
    ) -> None:
        vectors = embedder.fit(checker_board)
        for item in ("A0", "A7", "B3", "B19"):
            ids, scores = vectors.similar(item, n=5)
            assert [i[0] for i in ids] == [item[0]] * 5, (item, ids)
            assert np.all(np.diff(scores) <= 0)

    def test_a_mean_query_finds_the_rest_of_its_cluster(
        self, embedder: ItemEmbedder, checker_board: Interactions
    ) -> None:
        vectors = embedder.fit(checker_board)
        seed = ["B1", "B2", "B3"]
        ids, _ = vectors.nearest(vectors.mean(seed), n=CLUSTER_SIZE - 3, exclude=seed)
        assert sorted(ids) == sorted({f"B{i}" for i in range(CLUSTER_SIZE)} - set(seed))

    def test_vectors_are_unit_float32_with_support(
        self, embedder: ItemEmbedder, checker_board: Interactions
    ) -> None:
        vectors = embedder.fit(checker_board)
        assert vectors.ids == checker_board.item_ids
        assert vectors.vectors.dtype == np.float32
        assert vectors.dim == 8
        assert np.linalg.norm(vectors.vectors, axis=1) == pytest.approx(1.0, abs=1e-5)
        assert vectors.support.tolist() == checker_board.item_support().tolist()
        assert vectors.model == embedder.name

    def test_a_fixed_seed_gives_the_same_vectors(
        self, embedder: ItemEmbedder, checker_board: Interactions
    ) -> None:
        first = embedder.fit(checker_board).vectors
        assert np.array_equal(first, embedder.fit(checker_board).vectors)

    def test_fit_under_a_multithreaded_blas_raises_no_warning(
        self, embedder: ItemEmbedder, checker_board: Interactions
    ) -> None:
        with threadpool_limits(2, "blas"), warnings.catch_warnings():
            warnings.simplefilter("error")
            embedder.fit(checker_board)

    def test_fit_rejects_empty_interactions(self, embedder: ItemEmbedder) -> None:
        data = build_interactions([("p", "t")])
        empty = Interactions(data.matrix[:0, :0].tocsr(), (), ())
        with pytest.raises(ValueError, match="cannot fit on empty interactions"):
            embedder.fit(empty)


def test_names_carry_the_hyperparameters() -> None:
    assert AlsEmbedder(factors=32, regularization=0.1, alpha=5, iterations=3, seed=2).name == (
        "als f32 r0.1 a5 i3 s2"
    )
    assert BprEmbedder(factors=16, learning_rate=0.05, iterations=9).name == (
        "bpr f16 lr0.05 r0.01 i9 s0"
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: AlsEmbedder(factors=0), "factors must be at least 1, got 0"),
        (lambda: AlsEmbedder(iterations=0), "iterations must be at least 1"),
        (lambda: AlsEmbedder(regularization=-1), "regularization must not be negative"),
        (lambda: AlsEmbedder(alpha=0), "alpha must be positive"),
        (lambda: AlsEmbedder(threads=-1), "threads must be 0"),
        (lambda: BprEmbedder(learning_rate=0), "learning_rate must be positive"),
    ],
)
def test_hyperparameters_are_validated(make: object, message: str) -> None:
    assert callable(make)
    with pytest.raises(ValueError, match=message):
        make()


def test_als_fold_in_matches_implicits_recalculate_user(checker_board: Interactions) -> None:
    import implicit.cpu.als

    als = AlsEmbedder(factors=8, iterations=5, alpha=4.0, regularization=0.1, seed=1)
    factors = als.item_factors(checker_board)
    with threadpool_limits(1, "blas"):
        reference = implicit.cpu.als.AlternatingLeastSquares(
            factors=8, iterations=5, alpha=4.0, regularization=0.1, random_state=1
        )
        reference.fit(checker_board.matrix, show_progress=False)
        seed = checker_board.rows_of([["A1", "A2", "A5"]])
        expected = reference.recalculate_user(0, seed)
    np.testing.assert_allclose(factors, reference.item_factors, rtol=1e-5)
    got = als.fold_in(factors, seed.indices)
    np.testing.assert_allclose(got, np.ravel(expected), rtol=1e-3, atol=1e-5)
    top = np.argsort(-(factors @ got))[:6]
    assert all(checker_board.item_ids[i].startswith("A") for i in top)


def test_fold_in_validates_items(checker_board: Interactions) -> None:
    als = AlsEmbedder(factors=4, iterations=2)
    factors = als.item_factors(checker_board)
    with pytest.raises(ValueError, match="at least one item"):
        als.fold_in(factors, [])
    with pytest.raises(ValueError, match=r"out of range 0\.\.39"):
        als.fold_in(factors, [40])
