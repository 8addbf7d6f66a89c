"""Collaborative item vectors: tracks that share playlists get similar vectors.

``ItemEmbedder`` is the whole interface the rest of the code needs: fit on ``Interactions``,
get ``ItemVectors``. Two implementations wrap the ``implicit`` library: ``AlsEmbedder``
(implicit-feedback ALS, Hu et al. 2008) and ``BprEmbedder`` (Bayesian personalised ranking).
Either uses implicit's CUDA classes when ``implicit.gpu.HAS_CUDA`` and the CPU ones otherwise.
Another model (item2vec, say) fits in by implementing the protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import implicit.cpu.als
import implicit.cpu.bpr
import implicit.gpu
import implicit.gpu.als
import implicit.gpu.bpr
import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from recommender.interactions import Interactions
from recommender.vectors import ItemVectors, Matrix, Vector

# implicit's CPU solvers run their own OpenMP threads; a multi-threaded BLAS underneath them
# oversubscribes the cores (implicit warns about it: up to 10x slower). Importing implicit
# above loads every BLAS library first, so threadpool_limits below covers all of them.
_BLAS_THREADS = 1


class ItemEmbedder(Protocol):
    """Learns one vector per item from interactions."""

    @property
    def name(self) -> str:
        """A short label with the hyperparameters, stored with the vectors it produced."""
        ...

    def fit(self, interactions: Interactions, *, progress: bool = False) -> ItemVectors: ...


def _check_interactions(interactions: Interactions) -> None:
    if interactions.nnz == 0 or interactions.n_rows == 0 or interactions.n_items == 0:
        raise ValueError("cannot fit on empty interactions")


def _label(value: float) -> str:
    return re.sub(r"\.?0+$", "", f"{value:.6f}") if value % 1 else str(int(value))


def _to_numpy(factors: Any) -> Matrix:
    # The GPU classes hold an implicit.gpu.Matrix; to_numpy() copies it to the host.
    host = factors.to_numpy() if hasattr(factors, "to_numpy") else factors
    return np.ascontiguousarray(host, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class AlsEmbedder:
    """Implicit-feedback ALS: confidence ``alpha`` on every (playlist, track) pair.

    The defaults scored best by recall@10 on a validation split of the 5,271-playlist MPD
    sample (``benchmarks/eval_cf.py``, 2026-11-22); 64 factors cost half the fit time and
    memory for ~15% less recall there. ``threads=0`` uses every core; ``seed`` fixes the
    initial factors (results are then identical run to run on the CPU).
    """

    factors: int = 128
    regularization: float = 0.1
    alpha: float = 10.0
    iterations: int = 15
    seed: int = 0
    threads: int = 0
    use_gpu: bool = implicit.gpu.HAS_CUDA

    def __post_init__(self) -> None:
        _check_params(self.factors, self.iterations, self.regularization, self.threads)
        if self.alpha <= 0:
            raise ValueError(f"alpha must be positive, got {self.alpha}")

    @property
    def name(self) -> str:
        return (
            f"als f{self.factors} r{_label(self.regularization)} a{_label(self.alpha)} "
            f"i{self.iterations} s{self.seed}"
        )

    def fit(self, interactions: Interactions, *, progress: bool = False) -> ItemVectors:
        factors = self.item_factors(interactions, progress=progress)
        return ItemVectors.from_factors(
            interactions.item_ids, factors, interactions.item_support(), model=self.name
        )

    def item_factors(self, interactions: Interactions, *, progress: bool = False) -> Matrix:
        """The raw (unnormalised) item factors, for ``fold_in``."""
        _check_interactions(interactions)
        with threadpool_limits(_BLAS_THREADS, "blas"):
            model = self._model()
            model.fit(interactions.matrix, show_progress=progress)
        return _to_numpy(model.item_factors)

    def fold_in(
        self, item_factors: Matrix, items: npt.ArrayLike, *, gram: npt.ArrayLike | None = None
    ) -> Vector:
        """A new row's factors given the item columns it holds: one exact ALS half-step.

        Solves ``(YᵀY + (alpha-1)·Y_Iᵀ Y_I + λI) x = alpha·Σ Y_I``, which is what implicit's
        ``recalculate_user`` does; ``item_factors @ x`` then scores every item for that row.
        Pass ``gram = Yᵀ Y`` (``item_factors.T @ item_factors``) when folding in many rows.
        """
        cols = np.unique(np.asarray(items, dtype=np.int64))
        if cols.size == 0:
            raise ValueError("fold_in needs at least one item")
        n_items, k = item_factors.shape
        if cols[0] < 0 or cols[-1] >= n_items:
            raise ValueError(f"item index out of range 0..{n_items - 1}")
        yty = item_factors.T @ item_factors if gram is None else gram
        a = np.array(yty, dtype=np.float64)
        if a.shape != (k, k):
            raise ValueError(f"gram must have shape ({k}, {k}), got {a.shape}")
        held = item_factors[cols].astype(np.float64)
        a += (self.alpha - 1.0) * (held.T @ held)
        a[np.diag_indices_from(a)] += self.regularization
        x = np.linalg.solve(a, self.alpha * held.sum(axis=0))
        return x.astype(np.float32)

    def _model(self) -> Any:
        if self.use_gpu:
            return implicit.gpu.als.AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
            )
        return implicit.cpu.als.AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            num_threads=self.threads,
            random_state=self.seed,
        )


@dataclass(frozen=True, slots=True)
class BprEmbedder:
    """Bayesian personalised ranking by SGD over (playlist, held track, random track) triples.

    BPR learns an extra per-item bias column (popularity); it is dropped, so the vectors keep
    only taste. With ``threads > 1`` the SGD updates race (Hogwild), so runs may differ a little.
    Defaults: the best of a small validation grid, where BPR scored well below ALS.
    """

    factors: int = 64
    learning_rate: float = 0.01
    regularization: float = 0.01
    iterations: int = 100
    seed: int = 0
    threads: int = 0
    use_gpu: bool = implicit.gpu.HAS_CUDA

    def __post_init__(self) -> None:
        _check_params(self.factors, self.iterations, self.regularization, self.threads)
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")

    @property
    def name(self) -> str:
        return (
            f"bpr f{self.factors} lr{_label(self.learning_rate)} "
            f"r{_label(self.regularization)} i{self.iterations} s{self.seed}"
        )

    def fit(self, interactions: Interactions, *, progress: bool = False) -> ItemVectors:
        _check_interactions(interactions)
        with threadpool_limits(_BLAS_THREADS, "blas"):
            model = self._model()
            model.fit(interactions.matrix, show_progress=progress)
        factors = _to_numpy(model.item_factors)[:, : self.factors]  # drop the bias column
        return ItemVectors.from_factors(
            interactions.item_ids, factors, interactions.item_support(), model=self.name
        )

    def _model(self) -> Any:
        if self.use_gpu:
            return implicit.gpu.bpr.BayesianPersonalizedRanking(
                factors=self.factors,
                learning_rate=self.learning_rate,
                regularization=self.regularization,
                iterations=self.iterations,
                random_state=self.seed,
            )
        return implicit.cpu.bpr.BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            iterations=self.iterations,
            num_threads=self.threads,
            random_state=self.seed,
        )


def _check_params(factors: int, iterations: int, regularization: float, threads: int) -> None:
    if factors < 1:
        raise ValueError(f"factors must be at least 1, got {factors}")
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    if regularization < 0:
        raise ValueError(f"regularization must not be negative, got {regularization}")
    if threads < 0:
        raise ValueError(f"threads must be 0 (all cores) or more, got {threads}")
