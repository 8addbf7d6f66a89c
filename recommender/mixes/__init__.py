"""Personal mixes: taste centers and daily mixes, nostalgia, organic playlist matching.

Pure functions over numpy arrays and small frozen values; the service that reads the database
and the vector store is ``wavelength.mixes``.
"""

from recommender.mixes._buddies import (
    DEFAULT_RANKER,
    Overlap,
    PairwiseRanker,
    Taste,
    cold_start,
    overlap,
    user_knn,
)
from recommender.mixes._buddies import features as playlist_features
from recommender.mixes._centers import CenterFit, TasteCenter, fit_centers, recency_weights
from recommender.mixes._map import Projection, encode_png, render_png
from recommender.mixes._mix import EMPTY_POOL, MixItem, Pool, compose_mix, rank_pool, top_artists
from recommender.mixes._nostalgia import (
    NostalgiaModel,
    Period,
    Plays,
    candidates,
    nostalgic_period,
    rank_nostalgia,
    returns,
)

__all__ = [
    "DEFAULT_RANKER",
    "EMPTY_POOL",
    "CenterFit",
    "MixItem",
    "NostalgiaModel",
    "Overlap",
    "PairwiseRanker",
    "Period",
    "Plays",
    "Pool",
    "Projection",
    "Taste",
    "TasteCenter",
    "candidates",
    "cold_start",
    "compose_mix",
    "encode_png",
    "fit_centers",
    "nostalgic_period",
    "overlap",
    "playlist_features",
    "rank_nostalgia",
    "rank_pool",
    "recency_weights",
    "render_png",
    "returns",
    "top_artists",
    "user_knn",
]
