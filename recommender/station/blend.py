"""From proposals to a batch: fuse, refine, then choose by rank band with a per-artist cap.

* ``fuse``    weighted reciprocal-rank fusion. Sources search different spaces whose cosines
              are not comparable (text cosines sit around 0.3-0.6, collaborative ones spread
              much wider), so ranks are fused, not scores. Each track keeps the reason of the
              source that contributed most to it.
* ``refine``  catalog facts: banned artists, "no vocals", the same song under two ids, and
              tilts toward the audio features a listener asked for ("calmer", "older").
* ``choose``  the familiar ↔ discovery knob picks the rank band (ListenBrainz radio's
              easy / medium / hard), then a per-artist cap keeps a batch varied.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from recommender.station.reasons import Reason
from recommender.station.sources import Proposal
from recommender.station.sums import top_sums
from wavelength.domain import ArtistId, Familiarity, Mood, Tilt, Track, TrackId
from wavelength.ids import normalize_name

RRF_K = 60  # the usual constant of reciprocal-rank fusion (Cormack et al., 2009)
# How strongly one unit of tilt reweights a track at the end of a feature's range.
TILT_STRENGTH = 0.8
# "No vocals": tracks whose instrumentalness is known and below this are left out.
VOCAL_LIMIT = 0.3


@dataclass(frozen=True, slots=True)
class Candidate:
    track: TrackId
    score: float
    source: str
    reason: Reason
    artist: ArtistId | None = None


@dataclass(frozen=True, slots=True)
class Constraints:
    """What ``refine`` enforces and prefers, from the station and its context."""

    banned: frozenset[ArtistId] = frozenset()
    never: frozenset[TrackId] = frozenset()
    instrumental: bool = False
    year_min: int | None = None
    year_max: int | None = None
    explicit: bool | None = None  # False: clean only (unknown counts as clean)
    tilts: Mapping[str, float] = field(default_factory=dict)
    # Weight of familiarity: how much a track on many human playlists is preferred.
    prior: float = 0.0


def fuse(proposals: Iterable[Proposal], *, limit: int | None = None) -> list[Candidate]:
    """Weighted RRF over the proposals, best first (ties by track id, so runs repeat); the
    best ``limit`` only, when given (a batch refines the top 120 of some 750)."""
    counted = [p for p in proposals if p.weight > 0]
    summed = top_sums(
        [(p.ids, p.weight / (RRF_K + np.arange(len(p.ids)) + 1)) for p in counted], limit
    )
    if summed is None:
        return []
    out = []
    for track, total, i in zip(*summed, strict=True):
        proposal = counted[i]  # the source that contributed most: its reason goes along
        reason = proposal.reasons.get(track, proposal.reason)
        out.append(Candidate(track=track, score=total, source=proposal.source, reason=reason))
    return out


def feature_position(track: Track, feature: str) -> float | None:
    """Where a track sits on a feature, about -1 (least) .. +1 (most); None when unknown."""
    if feature == "year":
        year = track.year or (track.decade + 5 if track.decade else None)
        # Decades matter across the whole century: a wider range than the 0..1 features.
        return None if year is None else _clip((year - 2000) / 20, limit=2.5)
    value = getattr(track.features, feature, None)
    if value is None:
        return None
    if feature == "tempo":
        return _clip((value - 120) / 40)
    if feature == "loudness":
        return _clip((value + 8) / 6)
    return _clip((value - 0.5) * 2)


def _clip(x: float, limit: float = 1.5) -> float:
    return max(-limit, min(limit, x))


def tilts_of(mood: Mood, steer_tilts: Iterable[Tilt]) -> dict[str, float]:
    out: dict[str, float] = {}
    for tilt in (*mood.tilts, *steer_tilts):
        out[tilt.feature] = out.get(tilt.feature, 0.0) + tilt.direction
    return {f: d for f, d in out.items() if d}


class _TiltFactors:
    """Each track's tilt factor per set of tilts, kept: a station refines the same hundred or
    so tracks batch after batch, and working out their features' positions again was a tenth
    of a batch's CPU for stations with tilts ("upbeat", "calm"; py-spy under HTTP load,
    2026-11-27). An entry holds the ``Track`` it was worked out from and counts only for that
    same object, so facts read again after an ingest are worked out again."""

    def __init__(self, size: int = 100_000) -> None:
        self._size = size
        self._memo: dict[tuple[TrackId, tuple[tuple[str, float], ...]], tuple[Track, float]] = {}

    def factor(self, track: Track, tilts: tuple[tuple[str, float], ...]) -> float:
        key = (track.id, tilts)
        hit = self._memo.get(key)
        if hit is not None and hit[0] is track:
            return hit[1]
        lean = sum(d * (feature_position(track, f) or 0.0) for f, d in tilts)
        value = math.exp(TILT_STRENGTH * lean)
        if len(self._memo) >= self._size:  # cleared whole: refilled by a few batches
            self._memo.clear()
        self._memo[key] = (track, value)
        return value


_TILTS = _TiltFactors()


def refine(
    candidates: Sequence[Candidate],
    facts: Mapping[TrackId, Track],
    rules: Constraints,
    *,
    counts: Mapping[TrackId, int] | None = None,
) -> list[Candidate]:
    """Drop what must not play, merge duplicate songs, apply tilts and the familiarity prior
    (``counts``: playlists per track); best first."""
    seen_songs: set[tuple[str, str]] = set()
    out: list[Candidate] = []
    tilts = tuple(rules.tilts.items())
    for c in candidates:
        track = facts.get(c.track)
        if track is None:  # a vector without a catalog row: the index is ahead of the catalog
            continue
        if not _allowed(track, rules):
            continue
        song = (track.artist.id, normalize_name(track.name))
        if song in seen_songs:
            continue
        seen_songs.add(song)
        score = c.score
        if tilts:
            score *= _TILTS.factor(track, tilts)
        if rules.prior and counts:
            score *= 1.0 + rules.prior * math.log1p(counts.get(c.track, 0))
        # Built directly: ``replace`` introspects the fields, for every candidate of every batch.
        out.append(Candidate(c.track, score, c.source, c.reason, track.artist.id))
    out.sort(key=lambda c: (-c.score, c.track))
    return out


def _allowed(track: Track, rules: Constraints) -> bool:
    """The hard limits, checked again on catalog facts: sources that do not search the store
    (playlist votes) bring candidates its filter never saw."""
    if track.id in rules.never or track.artist.id in rules.banned:
        return False
    instr = track.features.instrumentalness
    if rules.instrumental and instr is not None and instr < VOCAL_LIMIT:
        return False
    if rules.explicit is False and track.explicit is True:
        return False
    if rules.explicit is True and track.explicit is not True:
        return False
    if rules.year_min is not None or rules.year_max is not None:
        year = track.year or track.decade
        if year is None:
            return False
        if rules.year_min is not None and year < rules.year_min:
            return False
        if rules.year_max is not None and year > rules.year_max:
            return False
    return True


def artist_cap(batch_size: int) -> int:
    """At most one track per artist in a short batch, two in a long one (Spotify's daily-mix
    rule of thumb: variety is what makes a station feel like radio)."""
    return 1 if batch_size <= 10 else 2


def choose(
    ranked: Sequence[Candidate],
    *,
    n: int,
    familiarity: Familiarity,
    rng: random.Random,
    cap: int | None = None,
) -> list[Candidate]:
    """``n`` candidates from the band ``familiarity`` asks for, at most ``cap`` per artist.

    SAFE takes the top ranks in order. BALANCED samples the top 4n with weights that halve
    every n ranks (fused scores are too flat to weight by), so consecutive batches differ but
    lean to the top. SURPRISE leaves out the top 2n and samples the next 8n
    uniformly: further from what the station is sure of, still on its theme. When a band runs
    short, the rest of the ranking fills in.
    """
    limit = artist_cap(n) if cap is None else cap
    capped = _capped(ranked, limit)
    if familiarity is Familiarity.SAFE:
        return capped[:n]
    if familiarity is Familiarity.BALANCED:
        band = capped[: 4 * n]
        rank = {c.track: i for i, c in enumerate(band)}
        picked = _weighted_sample(band, n, rng, weight=lambda c: 0.5 ** (rank[c.track] / n))
    else:
        band = capped[2 * n : 10 * n]
        picked = _weighted_sample(band, n, rng, weight=lambda c: 1.0)
    if len(picked) < n:
        chosen = {c.track for c in picked}
        picked += [c for c in capped if c.track not in chosen][: n - len(picked)]
    # A batch is shown best first: the listener judges a station by its first card.
    picked.sort(key=lambda c: (-c.score, c.track))
    return picked


def ensure_one_from(
    chosen: Sequence[Candidate], ranked: Sequence[Candidate], source: str
) -> list[Candidate]:
    """``chosen`` with at least one candidate from ``source`` when the ranking has one: the
    best such candidate (of an artist not yet in the batch) replaces the weakest pick.

    A listener who just liked something should see it count in the very next batch, even on a
    station whose mood and genre sources agree on something else."""
    picked = list(chosen)
    if not picked or any(c.source == source for c in picked):
        return picked
    artists = {c.artist for c in picked}
    taken = {c.track for c in picked}
    for c in ranked:
        if c.source == source and c.track not in taken and c.artist not in artists:
            weakest = min(range(len(picked)), key=lambda i: (picked[i].score, picked[i].track))
            picked[weakest] = c
            picked.sort(key=lambda x: (-x.score, x.track))
            return picked
    return picked


def _capped(ranked: Sequence[Candidate], limit: int) -> list[Candidate]:
    per_artist: dict[ArtistId | None, int] = {}
    out = []
    for c in ranked:
        if c.artist is not None and per_artist.get(c.artist, 0) >= limit:
            continue
        per_artist[c.artist] = per_artist.get(c.artist, 0) + 1
        out.append(c)
    return out


def _weighted_sample(
    band: Sequence[Candidate], n: int, rng: random.Random, *, weight: Callable[[Candidate], float]
) -> list[Candidate]:
    """Efraimidis-Spirakis sampling without replacement: key = u^(1/w), take the largest.
    Weights are scaled to a maximum of 1 first, so tiny fused scores do not underflow."""
    if not band:
        return []
    weights = [max(weight(c), 1e-12) for c in band]
    top = max(weights)
    keyed = [(rng.random() ** (top / w), c) for w, c in zip(weights, band, strict=True)]
    keyed.sort(key=lambda kc: -kc[0])
    return [c for _, c in keyed[:n]]
