"""Known-answer interaction data for the collaborative recommender tests."""

from __future__ import annotations

import random

import pytest

from recommender.interactions import Interactions, build_interactions

CLUSTER_SIZE = 20


def checker_board_pairs(*, playlists_per_cluster: int = 60, seed: int = 3) -> list[tuple[str, str]]:
    """Two disjoint tastes: playlists ``a*`` hold only ``A*`` tracks, ``b*`` only ``B*`` ones."""
    rng = random.Random(seed)
    pairs: list[tuple[str, str]] = []
    for cluster in ("a", "b"):
        items = [f"{cluster.upper()}{i}" for i in range(CLUSTER_SIZE)]
        for p in range(playlists_per_cluster):
            pairs.extend((f"{cluster}{p}", item) for item in rng.sample(items, 8))
    return pairs


@pytest.fixture(scope="session")
def checker_board() -> Interactions:
    return build_interactions(checker_board_pairs())
