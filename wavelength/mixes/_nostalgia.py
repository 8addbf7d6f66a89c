"""The nostalgia mix: tracks a user played a lot a while ago and not lately, topped up with
neighbours of their past taste centers, and the note that says when the history is too short
to be sure."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from recommender.mixes import Plays, fit_centers, rank_nostalgia
from storage import feedback as fb
from storage import history as repo
from vectorstore.base import CollectionName
from wavelength.domain import ArtistId, TrackId, UserId
from wavelength.mixes._core import MAX_SEARCH, MixCore
from wavelength.mixes._types import MixTrack, NostalgiaMix

SHORT_HISTORY = (
    "Your listening history here covers only {days} days{spotify}, too little to know your "
    "past well, so this mix leans on neighbours of what you did play. For the real thing, "
    "download your extended streaming history (Spotify: Account → Privacy → Extended "
    "streaming history) and import it: `wavelength ingest history --user {name} <files>`."
)


class Nostalgia(MixCore):
    def nostalgia(self, user: UserId) -> NostalgiaMix:
        """Tracks the user played a lot a while ago and not lately, topped up with neighbours
        of their past taste centers; with a note when the history is too short to be sure."""
        o = self._options
        now = self._clock()
        with self._engine.begin() as conn:
            events = [
                x
                for x in repo.listens(conn=conn, user=user)
                if x.source in repo.PLAY_SOURCES or x.source == "spotify_saved"
            ]
            disliked = fb.disliked_tracks(conn=conn, user=user)
            excluded = disliked | repo.heard_since(
                conn=conn, user=user, since=now - timedelta(days=o.nostalgia_recent_days)
            )
            name = repo.user_name(conn=conn, user=user)
        index: dict[TrackId, int] = {}
        items = [index.setdefault(x.track, len(index)) for x in events]
        ids = list(index)
        plays = Plays.of(items, [x.at.timestamp() for x in events])
        # Only real plays say how far back the history reaches: a save has its own date.
        played = [x.at for x in events if x.source in repo.PLAY_SOURCES]
        days = (max(played) - min(played)).days if played else 0
        picked_rows, _, period = rank_nostalgia(
            plays, now.timestamp(), n=o.nostalgia_size * 2, recent_days=o.nostalgia_recent_days
        )
        chosen = [ids[i] for i in picked_rows.tolist() if ids[i] not in excluded]
        facts = self._catalog.tracks(chosen)
        picks = [MixTrack(facts[t], True, 1.0) for t in chosen if t in facts]
        picks = _cap(picks, o.per_artist)[: o.nostalgia_size]
        filled = 0
        if len(picks) < o.nostalgia_size:
            old = [x.track for x in events if (now - x.at).days >= o.nostalgia_recent_days]
            extra = self._neighbours(old, set(ids) | excluded, o.nostalgia_size - len(picks), picks)
            filled = len(extra)
            picks += extra
        note = None
        if days < o.long_history_days:
            spotify = any(x.source.startswith("spotify") for x in events)
            note = SHORT_HISTORY.format(
                days=days,
                spotify=" (Spotify shares only your last 50 plays)" if spotify else "",
                name=name,
            )
        span = None
        if period is not None:
            span = (
                datetime.fromtimestamp(period.start, UTC).date(),
                datetime.fromtimestamp(period.end, UTC).date(),
            )
        return NostalgiaMix(tuple(picks), span, days, filled, note)

    def _neighbours(
        self, old: Sequence[TrackId], skip: set[TrackId], want: int, have: Sequence[MixTrack]
    ) -> list[MixTrack]:
        """Neighbours of the centers of the user's older listening (retrieval through the past
        taste centers), none already chosen, played lately or disliked."""
        counts: dict[TrackId, float] = defaultdict(float)
        for t in old:
            counts[t] += 1.0
        heaviest = sorted(counts, key=lambda t: (-counts[t], t))[: self._options.max_tracks]
        vectors = self._vectors(heaviest)
        rows = [t for t in heaviest if t in vectors]
        if not rows or want <= 0:
            return []
        fit = fit_centers(
            np.asarray([vectors[t] for t in rows]),
            [counts[t] for t in rows],
            max_centers=self._options.max_centers,
            min_share=self._options.min_share,
            rng=random.Random(self._seed),
        )
        taken = {m.track.id for m in have}
        per_center = max(1, math.ceil(want / max(len(fit.centers), 1)))
        out: list[MixTrack] = []
        for center in fit.centers:
            hits = self._store.search(
                CollectionName.TRACKS,
                using=self._space(),
                vector=center.vector,
                n=min(per_center * 4 + len(skip), MAX_SEARCH),
                where=self._own(),
            )
            fresh = [h for h in hits if h.id not in skip and h.id not in taken][: per_center * 4]
            facts = self._catalog.tracks(TrackId(h.id) for h in fresh)
            added = 0
            for hit in fresh:
                track = facts.get(TrackId(hit.id))
                if track is not None and added < per_center and track.id not in taken:
                    out.append(MixTrack(track, False, hit.score))
                    taken.add(track.id)
                    added += 1
        return _cap([*have, *out], self._options.per_artist)[len(have) : len(have) + want]


def _cap(picks: Sequence[MixTrack], per_artist: int) -> list[MixTrack]:
    seen: dict[ArtistId, int] = defaultdict(int)
    out = []
    for m in picks:
        if seen[m.track.artist.id] < per_artist:
            seen[m.track.artist.id] += 1
            out.append(m)
    return out
