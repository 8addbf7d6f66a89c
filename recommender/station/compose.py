"""The station pipeline, end to end: signals → sources → fuse → refine → choose → reasons.

``StationComposer`` holds the ports (vector store, text encoder, track catalog) and nothing
about any one listener: every call takes a ``StationContext`` and returns values, so the chat
service, the HTTP API and the evaluation harness all compose stations the same way.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np

from recommender.encoder import TextEncoder
from recommender.station.blend import (
    Candidate,
    Constraints,
    choose,
    ensure_one_from,
    fuse,
    refine,
    tilts_of,
)
from recommender.station.context import StationContext
from recommender.station.genres import GenreIndex
from recommender.station.ports import SharedNeighbours, TrackCatalog
from recommender.station.reasons import Reason, Why, render
from recommender.station.signals import Signals, TextMemo, VectorMemo, gather
from recommender.station.sources import (
    LikedSource,
    Lookup,
    Proposal,
    Source,
    default_sources,
)
from vectorstore.base import CollectionName, Filter, VectorName, VectorStore
from wavelength.domain import ArtistId, Familiarity, Pick, TrackId

# Each source proposes this many tracks; enough that filters, the artist cap and the
# discovery band (ranks up to 10 batches deep) still leave a full batch.
DEFAULT_POOL = 150
# Catalog facts (artist, features) are read for the top of the fused list only: enough for the
# surprise band after duplicates and limits are dropped.
REFINE_WINDOW = 120


class NotTrainedError(RuntimeError):
    """No vectors yet: ``wavelength train`` has not run on this catalog."""


@dataclass(slots=True)
class Timings:
    """Seconds per stage of the last call, for benchmarks and /why diagnostics."""

    stages: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - start


class StationComposer:
    def __init__(
        self,
        *,
        store: VectorStore,
        encoder: TextEncoder,
        catalog: TrackCatalog,
        sources: Sequence[Source] | None = None,
        pool: int = DEFAULT_POOL,
        shared_neighbours: SharedNeighbours | None = None,
    ) -> None:
        """``shared_neighbours``: liked tracks' neighbours shared with the other processes
        composing this deployment's stations (the default sources only)."""
        if pool < 1:
            raise ValueError(f"pool must be at least 1, got {pool}")
        self._store = store
        self._memo = TextMemo(encoder)
        self._vectors = VectorMemo()
        self._catalog = catalog
        self._custom_sources = sources is not None
        self._shared = shared_neighbours
        self._sources = (
            tuple(sources) if sources is not None else default_sources(shared=shared_neighbours)
        )
        self._pool = pool
        self._spaces: frozenset[VectorName] | None = None
        self._version = ""
        self._has_playlists = False
        self._genres: GenreIndex | None = None
        # Composing is CPU work: more composes at once than there are cores only adds
        # contention. In-process, 8 threads composing at once did 34 feedback + next rounds/s
        # where 2 did 54; the same 8 threads through this gate did 45 (2 cores, 2026-11-27).
        self._gate = threading.BoundedSemaphore(os.cpu_count() or 1)
        self.timings = Timings()

    def refresh(self) -> None:
        """Forget what the store and catalog held (after an ingest or ``wavelength train``)."""
        self._spaces = None
        self._genres = None
        self._vectors.clear()
        # New vectors can name tracks the catalog memo remembers as unknown (ingested since).
        self._catalog.clear()
        if not self._custom_sources:
            self._sources = default_sources(shared=self._shared)

    @property
    def catalog(self) -> TrackCatalog:
        return self._catalog

    def _layout(self) -> tuple[frozenset[VectorName], bool]:
        if self._spaces is None:
            tracks = self._store.info(CollectionName.TRACKS)
            if tracks is None or tracks.points == 0:
                raise NotTrainedError(
                    "the station engine has no track vectors yet: run `wavelength train`"
                )
            playlists = self._store.info(CollectionName.PLAYLISTS)
            # A live store's generation (``vectorstore.live.LiveStore``); a plain store has one.
            self._version = f"g{getattr(self._store, 'generation', 0)}:{tracks.points}"
            self._spaces = frozenset(tracks.dims)
            self._has_playlists = playlists is not None and playlists.points > 0
        return self._spaces, self._has_playlists

    def signals(self, ctx: StationContext) -> Signals:
        spaces, has_playlists = self._layout()
        if self._genres is None:
            self._genres = GenreIndex(self._catalog.genres())
        with self.timings.stage("encode"):
            return gather(
                ctx, store=self._store, memo=self._memo, vectors=self._vectors, spaces=spaces,
                has_playlists=has_playlists,
                catalog=self._catalog, genre_index=self._genres,
            )  # fmt: skip

    def candidates(
        self, ctx: StationContext, *, pool: int | None = None, window: int = REFINE_WINDOW
    ) -> list[Candidate]:
        """Every source's proposals, fused and refined: the station's ranking, best first.
        Only the top ``window`` of the fused list is refined (and can come back)."""
        with self._gate:
            signals = self.signals(ctx)
            proposals = self._propose(ctx, signals, pool or self._pool)
            with self.timings.stage("compose"):
                top = fuse(proposals, limit=window)
                facts = self._catalog.tracks(c.track for c in top)
                counts = self._catalog.playlist_counts(c.track for c in top)
                return refine(top, facts, constraints(ctx), counts=counts)

    def rank(self, ctx: StationContext, *, n: int = 100) -> tuple[list[TrackId], np.ndarray]:
        """The top ``n`` of the station's ranking as ``(ids, scores)``, no band or cap (the
        evaluation harness scores this against held-out playlists)."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        self.timings = Timings()
        # Refine twice as deep as asked: duplicates and limits drop some of the top.
        ranked = self.candidates(ctx, pool=max(self._pool, n), window=max(REFINE_WINDOW, 2 * n))
        ranked = ranked[:n]
        return [c.track for c in ranked], np.array([c.score for c in ranked], dtype=np.float32)

    def next_batch(
        self, ctx: StationContext, *, n: int = 5, rng: random.Random | None = None
    ) -> list[Pick]:
        """The next ``n`` tracks for this station, each with its reason."""
        if not 1 <= n <= 50:
            raise ValueError(f"a batch holds 1 to 50 tracks, got {n}")
        self.timings = Timings()
        ranked = self.candidates(ctx)
        with self.timings.stage("compose"):
            chosen = choose(
                ranked,
                n=n,
                familiarity=ctx.station.tuning.familiarity,
                rng=rng or random.Random(),
            )
            if ctx.positives:
                chosen = ensure_one_from(chosen, ranked, LikedSource.name)
            texts = render((c.reason for c in chosen), self._catalog)
        return [
            Pick(
                track=c.track,
                artist=c.artist,
                score=round(c.score, 6),
                reason=texts[c.reason],
                source=c.source,
            )
            for c in chosen
            if c.artist is not None  # always set by refine()
        ]

    def around(
        self,
        seeds: Sequence[TrackId],
        *,
        never: Collection[TrackId] = (),
        n: int = 10,
        pool: int = 60,
        per_artist: int = 1,
    ) -> list[Pick]:
        """``n`` tracks near what a listener liked, one store query for all of them: the
        scheduled picks for thousands of listeners, where a station's several sources per
        listener cost too much. Collaborative space first (text when it has none of the
        seeds); each pick's reason names the seed it is closest to."""
        if not 1 <= n <= 50:
            raise ValueError(f"a batch holds 1 to 50 tracks, got {n}")
        spaces, _ = self._layout()
        if not seeds:
            return []
        where = Filter(exclude_ids=tuple(sorted({*never, *seeds})))
        for space in (VectorName.CF, VectorName.TEXT):
            if space not in spaces:
                continue
            scoped = replace(where, own_cf_only=True) if space is VectorName.CF else where
            hits = self._store.recommend(
                CollectionName.TRACKS, using=space, positive=list(seeds), n=pool, where=scoped
            )
            if hits:
                break
        else:
            return []
        ids = [TrackId(h.id) for h in hits]
        facts = self._catalog.tracks(ids)
        vectors = self._store.vectors(CollectionName.TRACKS, [*ids, *seeds], using=space)
        seed_ids = [t for t in seeds if t in vectors]
        seed_matrix = np.asarray([vectors[t] for t in seed_ids]) if seed_ids else None
        per: dict[ArtistId, int] = {}
        chosen: list[Pick] = []
        reasons: list[Reason] = []
        for hit, track in zip(hits, ids, strict=True):
            fact = facts.get(track)
            if fact is None or per.get(fact.artist.id, 0) >= per_artist:
                continue
            per[fact.artist.id] = per.get(fact.artist.id, 0) + 1
            nearest = seeds[0]
            if seed_matrix is not None and track in vectors:
                nearest = seed_ids[int(np.argmax(seed_matrix @ np.asarray(vectors[track])))]
            reason = Reason(Why.SEED_TRACK, nearest, space is VectorName.CF)
            reasons.append(reason)
            chosen.append(Pick(track, fact.artist.id, round(hit.score, 6), "", "picks"))
            if len(chosen) == n:
                break
        texts = render(reasons, self._catalog)
        return [replace(p, reason=texts[r]) for p, r in zip(chosen, reasons, strict=True)]

    def _propose(self, ctx: StationContext, signals: Signals, pool: int) -> list[Proposal]:
        mood = ctx.station.mood
        where = Filter(
            exclude_ids=tuple(sorted(ctx.never)),
            exclude_artist_ids=tuple(sorted(ctx.banned_artists)),
            year_min=mood.year_min,
            year_max=mood.year_max,
            explicit=mood.explicit,
        )
        look = Lookup(
            store=self._store, catalog=self._catalog, where=where, pool=pool,
            vectors=self._vectors, version=self._version,
        )  # fmt: skip
        with self.timings.stage("search"):
            # One after another, in the calling thread: qdrant-edge (0.9) holds the GIL while
            # it searches, so sources searching from a thread pool only added hand-offs (HTTP
            # load, 8 users, three runs each: 74-83 next batches/s from the pool, 83-89
            # inline; 2026-11-27). Most sources answer from their memos anyway.
            found = [source.propose(ctx, signals, look) for source in self._sources]
        return [p for p in found if p is not None and p.ids]


# Familiarity as a prior: how much being on many human playlists counts. "Play it safe" leans
# on it; "surprise me" ignores it.
FAMILIARITY_PRIOR = {Familiarity.SAFE: 0.3, Familiarity.BALANCED: 0.15, Familiarity.SURPRISE: 0.0}


def constraints(ctx: StationContext) -> Constraints:
    mood = ctx.station.mood
    return Constraints(
        banned=ctx.banned_artists,
        never=ctx.never,
        instrumental=mood.instrumental,
        year_min=mood.year_min,
        year_max=mood.year_max,
        explicit=mood.explicit,
        tilts=tilts_of(mood, (t for s in ctx.station.steers for t in s.tilts)),
        prior=FAMILIARITY_PRIOR[ctx.station.tuning.familiarity],
    )
