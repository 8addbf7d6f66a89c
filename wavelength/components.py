"""Builders for the heavy parts, from settings: the text encoder, the CF model, the vector store.

Shared by the composition root and the CLI so both wire things the same way.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from wavelength.settings import CfModel

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi import FastAPI
    from sqlalchemy.engine import Engine

    from recommender.cf import ItemEmbedder
    from recommender.encoder import CachedEncoder
    from recommender.mood import NameIndex
    from recommender.station import StationComposer
    from storage.neighbour_cache import SqliteNeighbourCache
    from vectorstore import LiveStore
    from vectorstore.base import VectorStore
    from wavelength.domain import StationId, UserId
    from wavelength.settings import Settings
    from wavelength.stations import Batch, StationService


def make_encoder(settings: Settings) -> CachedEncoder:
    from recommender.encoder import CachedEncoder, SentenceEncoder
    from storage.embedding_cache import SqliteEmbeddingCache

    inner = SentenceEncoder(
        settings.encoder_model,
        device=settings.encoder_device,
        batch_size=settings.encoder_batch_size,
    )
    return CachedEncoder(inner, SqliteEmbeddingCache(settings.embedding_cache_path))


def make_shared_neighbours(settings: Settings) -> SqliteNeighbourCache | None:
    """Liked tracks' neighbours shared by the processes composing stations, where there are
    several (API processes or compose workers): without it a station whose batches they
    compose in turn searched each liked track once per process. One process keeps them in
    memory only: the shared file would cost it a write per new like for nothing."""
    import sqlite3

    from storage.neighbour_cache import SqliteNeighbourCache

    if settings.api_processes <= 1 and settings.compose_workers == 0:
        return None
    try:
        return SqliteNeighbourCache(settings.neighbour_cache_path)
    except (sqlite3.Error, OSError) as exc:  # a cache: stations work without it
        log.warning("liked tracks' neighbours will not be shared between processes: %s", exc)
        return None


def make_embedder(settings: Settings, model: CfModel | None = None) -> ItemEmbedder | None:
    from recommender.cf import AlsEmbedder, BprEmbedder

    chosen = model or settings.cf_model
    if chosen is CfModel.NONE:
        return None
    embedder: AlsEmbedder | BprEmbedder = AlsEmbedder() if chosen is CfModel.ALS else BprEmbedder()
    # Settings left unset keep the model's own tuned defaults (benchmarks/eval_cf.py).
    if settings.cf_factors is not None:
        embedder = replace(embedder, factors=settings.cf_factors)
    if settings.cf_iterations is not None:
        embedder = replace(embedder, iterations=settings.cf_iterations)
    return embedder


def open_vector_store(settings: Settings) -> LiveStore:
    """The live generation of the vectors, able to move to the next one a model refresh
    builds (``wavelength.model_refresh``) without a restart."""
    from vectorstore import open_live

    key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    return open_live(url=settings.qdrant_url, api_key=key, path=settings.vector_dir)


def make_api(
    settings: Settings,
    *,
    stations: StationService,
    database: Engine,
    composer: StationComposer,
    names: NameIndex,
    store: VectorStore,
    nexts: Callable[[UserId, StationId], Batch] | None = None,
) -> FastAPI:
    """The HTTP API over one process's parts, as settings configure it (the main process's,
    or another API process's); ``nexts``: next batches composed elsewhere (compose workers)."""
    from vectorstore.base import CollectionName
    from web import build_api

    key = settings.api_admin_key
    return build_api(
        stations=stations,
        database=database,
        composer=composer,
        names=names,
        store_ready=lambda: store.info(CollectionName.TRACKS) is not None,
        admin_key=key.get_secret_value() if key is not None else None,
        threads=settings.api_lane_threads,
        nexts=nexts,
    )
