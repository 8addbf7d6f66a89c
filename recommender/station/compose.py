"""The station pipeline, end to end: signals → sources → fuse → refine → choose → reasons.

``StationComposer`` holds the ports (vector store, text encoder, track catalog) and nothing
about any one listener: every call takes a ``StationContext`` and returns values, so the chat
service, the HTTP API and the evaluation harness all compose stations the same way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np

from recommender.encoder import TextEncoder
from recommender.station.blend import Candidate, choose, fuse, refine, tilts_of
from recommender.station.context import StationContext
from recommender.station.genres import GenreIndex
from recommender.station.ports import TrackCatalog
from recommender.station.reasons import Reason, Why, render
from recommender.station.signals import Signals, TextMemo, gather
from recommender.station.sources import DEFAULT_SOURCES, Proposal, Source
from vectorstore.base import CollectionName, Filter, VectorName, VectorStore
from wavelength.domain import Pick, TrackId

# Each source proposes this many tracks; enough that filters, the artist cap and the
# discovery band still leave a full batch after many batches on one station.
DEFAULT_POOL = 150
# Catalog facts (artist, features) are read for the top of the fused list only.
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
        sources: Sequence[Source] = DEFAULT_SOURCES,
        pool: int = DEFAULT_POOL,
    ) -> None:
        if pool < 1:
            raise ValueError(f"pool must be at least 1, got {pool}")
        self._store = store
        self._memo = TextMemo(encoder)
        self._catalog = catalog
        self._sources = tuple(sources)
        self._pool = pool
        self._spaces: frozenset[VectorName] | None = None
        self._playlist_cf = False
        self._genres: GenreIndex | None = None
        self.timings = Timings()

    def refresh(self) -> None:
        """Forget what the store and catalog held (after an ingest or ``wavelength train``)."""
        self._spaces = None
        self._genres = None

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
            self._spaces = frozenset(tracks.dims)
            self._playlist_cf = playlists is not None and VectorName.CF in playlists.dims
        return self._spaces, self._playlist_cf

    def signals(self, ctx: StationContext) -> Signals:
        spaces, playlist_cf = self._layout()
        if self._genres is None:
            self._genres = GenreIndex(self._catalog.genres())
        with self.timings.stage("encode"):
            return gather(
                ctx, store=self._store, memo=self._memo, spaces=spaces, playlist_cf=playlist_cf,
                catalog=self._catalog, genre_index=self._genres,
            )  # fmt: skip

    def candidates(self, ctx: StationContext, *, pool: int | None = None) -> list[Candidate]:
        """Every source's proposals, fused and refined: the station's ranking, best first."""
        signals = self.signals(ctx)
        proposals = self._propose(ctx, signals, pool or self._pool)
        with self.timings.stage("compose"):
            fused = fuse(proposals)
            window = fused[: max(REFINE_WINDOW, 2 * (pool or self._pool))]
            facts = self._catalog.tracks(c.track for c in window)
            mood = ctx.station.mood
            return refine(
                window,
                facts,
                banned=ctx.banned_artists,
                instrumental=mood.instrumental,
                tilts=tilts_of(mood, (t for s in ctx.station.steers for t in s.tilts)),
            )

    def rank(self, ctx: StationContext, *, n: int = 100) -> tuple[list[TrackId], np.ndarray]:
        """The top ``n`` of the station's ranking as ``(ids, scores)``, no band or cap (the
        evaluation harness scores this against held-out playlists)."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        self.timings = Timings()
        ranked = self.candidates(ctx, pool=max(self._pool, n))[:n]
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
            signals_positives = self._positives_for_attribution(ctx, chosen)
            chosen = self._attribute(chosen, signals_positives)
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

    def _propose(self, ctx: StationContext, signals: Signals, pool: int) -> list[Proposal]:
        mood = ctx.station.mood
        where = Filter(
            exclude_ids=tuple(sorted(ctx.never)),
            exclude_artist_ids=tuple(sorted(ctx.banned_artists)),
            year_min=mood.year_min,
            year_max=mood.year_max,
            explicit=mood.explicit,
        )
        out = []
        with self.timings.stage("search"):
            for source in self._sources:
                proposal = source.propose(ctx, signals, store=self._store, where=where, pool=pool)
                if proposal is not None and proposal.ids:
                    out.append(proposal)
        return out

    def _positives_for_attribution(
        self, ctx: StationContext, chosen: Sequence[Candidate]
    ) -> dict[VectorName, tuple[list[TrackId], np.ndarray, dict[str, np.ndarray]]]:
        """Vectors of the liked tracks and of the chosen liked-source picks, per space."""
        out: dict[VectorName, tuple[list[TrackId], np.ndarray, dict[str, np.ndarray]]] = {}
        liked = [t for t, _ in ctx.positives]
        for space in {c.attribute_in for c in chosen if c.attribute_in is not None}:
            ids = [c.track for c in chosen if c.attribute_in is space]
            found = self._store.vectors(CollectionName.TRACKS, [*liked, *ids], using=space)
            have = [t for t in liked if t in found]
            if have:
                out[space] = (have, np.stack([found[t] for t in have]), found)
        return out

    @staticmethod
    def _attribute(
        chosen: Sequence[Candidate],
        positives: dict[VectorName, tuple[list[TrackId], np.ndarray, dict[str, np.ndarray]]],
    ) -> list[Candidate]:
        """A liked-source pick names the liked track it is closest to."""
        out = []
        for c in chosen:
            entry = positives.get(c.attribute_in) if c.attribute_in is not None else None
            if entry is not None and c.track in entry[2]:
                liked, matrix, found = entry
                best = liked[int(np.argmax(matrix @ found[c.track]))]
                c = replace(c, reason=Reason(Why.LIKED, best, c.reason.collaborative))
            out.append(c)
        return out
