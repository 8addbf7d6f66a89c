"""The daily mixes: one per taste center, heaviest first, each the user's own tracks near the
center topped up with new ones from around it, with nothing played lately or disliked."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from recommender.mixes import Pool, TasteCenter, compose_mix
from storage import feedback as fb
from storage import history as repo
from vectorstore.base import CollectionName
from wavelength.domain import Track, TrackId, UserId
from wavelength.mixes._core import MAX_SEARCH, MixCore, _Taste
from wavelength.mixes._types import Mix, MixTrack

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from vectorstore.base import Vector


class DailyMixes(MixCore):
    def mixes(self, user: UserId) -> list[Mix]:
        """Today's daily mixes, heaviest taste first (empty until there is listening)."""
        now = self._clock()
        with self._engine.begin() as conn:
            taste = self._taste(conn, user, now)
            if taste is None:
                return []
            centers, labels = self._centers(conn, user, taste, now)
            excluded = self._excluded(conn, user, now)
        return self._compose(taste, centers, labels, excluded)

    def _excluded(self, conn: Connection, user: UserId, now: datetime) -> frozenset[TrackId]:
        since = now - timedelta(days=self._options.exclude_days)
        heard = repo.heard_since(conn=conn, user=user, since=since)
        return heard | fb.disliked_tracks(conn=conn, user=user)

    def _compose(
        self,
        taste: _Taste,
        centers: Sequence[TasteCenter],
        labels: Sequence[str],
        excluded: frozenset[TrackId],
    ) -> list[Mix]:
        o = self._options
        assigned = np.argmax(taste.vectors @ np.asarray([c.vector for c in centers]).T, axis=1)
        known = set(taste.ids)
        out: list[Mix] = []
        for k, (center, label) in enumerate(zip(centers, labels, strict=True)):
            rows = np.flatnonzero(assigned == k)
            if center.share < o.min_share or len(rows) < o.min_mix_tracks:
                continue
            familiar = Pool.of(
                [taste.ids[i] for i in rows],
                [taste.artists[i] for i in rows],
                taste.vectors[rows],
                taste.weights[rows],
            )
            fresh, facts = self._fresh(center.vector, known | excluded)
            items = compose_mix(
                center.vector,
                familiar=familiar,
                fresh=fresh,
                n=o.mix_size,
                new_share=o.new_share,
                per_artist=o.per_artist,
                exclude=excluded,
            )
            tracks = {**taste.tracks, **facts}
            picked = tuple(
                MixTrack(tracks[TrackId(i.track)], i.familiar, i.score)
                for i in items
                if TrackId(i.track) in tracks
            )
            out.append(Mix(len(out) + 1, center.id, label, center.share, picked))
        return out

    def _fresh(self, center: Vector, skip: Iterable[TrackId]) -> tuple[Pool, dict[TrackId, Track]]:
        """Tracks nearest ``center`` in the collaborative space that the user never had."""
        o = self._options
        banned = set(skip)
        hits = self._store.search(
            CollectionName.TRACKS,
            using=self._space(),
            vector=center,
            n=min(o.mix_size * 4 + len(banned), MAX_SEARCH),
            where=self._own(),
        )
        ids = [TrackId(h.id) for h in hits if h.id not in banned][: o.mix_size * 4]
        vectors = self._vectors(ids)
        facts = self._catalog.tracks([t for t in ids if t in vectors])
        kept = [t for t in ids if t in vectors and t in facts]
        if not kept:
            return Pool.of([], [], np.zeros((0, len(center)), np.float32)), {}
        pool = Pool.of(kept, [facts[t].artist.id for t in kept], [vectors[t] for t in kept])
        return pool, facts
