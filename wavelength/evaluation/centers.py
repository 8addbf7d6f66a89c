"""Taste centers on real histories: does the union of someone's daily mixes hold what they
play next week, better than one mix around a single centroid of the same size?

Cutoffs every ``step_days`` through each history (after ``warmup_days``), with the centers of
the previous cutoff as the seeds of the next (as the daily recompute does). At each cutoff:

* weights: recency-weighted plays before the cutoff (half-life ``half_life_days``);
* vectors: the collaborative space (``space.Space``: a track's own vector, else its artist's);
* mixes: one per center, ``n`` tracks each (``new_share`` of them new to the listener, nearest
  the center in the space), at most ``per_artist`` per artist, nothing played in the last
  ``exclude_days``;
* baseline: one mix around the weighted mean of all the vectors, as long as the union, built
  by the same function with the same rules.

Recall: the share of the distinct tracks played in the ``horizon_days`` after the cutoff, and
not in the last ``exclude_days`` before it (what a mix may hold), that the mixes hold.
Cutoffs in the first half of each listener's time span are marked "validation": the defaults
(a mix draws on its center's own tracks, affinity x cosine, up to 8 centers of at least 5% of
the weight, against 5 and 10%) were chosen there; "test" is the second half.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recommender.mixes import Pool, TasteCenter, compose_mix, fit_centers, recency_weights
from recommender.mixes._nostalgia import DAY
from recommender.vectors import normalize_rows
from wavelength.domain import TrackId
from wavelength.evaluation.histories import Listener
from wavelength.evaluation.measure import Measured, Paired
from wavelength.evaluation.space import Space

ENGINE = "union of daily mixes (taste centers)"
SINGLE = "one mix around a single centroid"
PARTS = ("validation", "test", "all")


@dataclass(frozen=True, slots=True)
class CentersSetup:
    half_life_days: float = 30.0
    exclude_days: float = 14.0
    horizon_days: float = 7.0
    step_days: float = 14.0
    warmup_days: float = 180.0
    n: int = 25
    new_share: float = 0.2
    per_artist: int = 2
    max_centers: int = 8
    min_share: float = 0.05
    min_members: int = 5  # as the service: a mix needs a few tracks of its own
    min_future_plays: int = 20
    min_recent_plays: int = 50  # in the 8 weeks before the cutoff: an active listener
    fresh_pool: int = 200


@dataclass(frozen=True, slots=True)
class CentersResult:
    setup: CentersSetup
    seed: int
    listeners: tuple[str, ...]
    rows: tuple[tuple[str, Measured], ...]  # (part, measured)
    paired: tuple[tuple[str, Paired], ...]
    mixes_per_cutoff: float
    tracks_per_cutoff: float
    ids_kept: float  # share of centers that kept their id from the previous cutoff
    seconds: float


def evaluate_centers(
    listeners: Sequence[Listener], space: Space, *, seed: int, setup: CentersSetup | None = None
) -> CentersResult:
    setup = setup or CentersSetup()
    started = time.perf_counter()
    rng = random.Random(seed)
    recall: dict[tuple[str, str], list[float]] = {}
    mixes: list[int] = []
    sizes: list[int] = []
    kept: list[float] = []
    for listener in listeners:
        _listener(listener, space, setup, rng, recall, mixes, sizes, kept)
    rows = []
    paired = []
    for part in PARTS:
        for method in (ENGINE, SINGLE):
            rows.append((part, Measured.of(method, recall.get((part, method), []))))
        a, b = recall.get((part, ENGINE), []), recall.get((part, SINGLE), [])
        paired.append((part, Paired.of(ENGINE, SINGLE, a, b)))
    return CentersResult(
        setup=setup,
        seed=seed,
        listeners=tuple(f"{x.label} ({x.years:.1f} y)" for x in listeners),
        rows=tuple(rows),
        paired=tuple(paired),
        mixes_per_cutoff=float(np.mean(mixes)) if mixes else 0.0,
        tracks_per_cutoff=float(np.mean(sizes)) if sizes else 0.0,
        ids_kept=float(np.mean(kept)) if kept else 0.0,
        seconds=time.perf_counter() - started,
    )


def _listener(
    listener: Listener,
    space: Space,
    setup: CentersSetup,
    rng: random.Random,
    recall: dict[tuple[str, str], list[float]],
    mixes: list[int],
    sizes: list[int],
    kept: list[float],
) -> None:
    plays = listener.plays
    if not len(plays):
        return
    vectors, has = space.matrix(listener.tracks, listener.artists)
    canon = [space.own(t) or t for t in listener.tracks]
    first, last = float(plays.times[0]), float(plays.times[-1])
    middle = (first + last) / 2
    previous: tuple[TasteCenter, ...] = ()
    now = first + setup.warmup_days * DAY
    while now + setup.horizon_days * DAY <= last:
        past = plays.before(now)
        recent = plays.between(now - setup.exclude_days * DAY, now)
        later = plays.between(now, now + setup.horizon_days * DAY)
        active = len(plays.between(now - 56 * DAY, now)) >= setup.min_recent_plays
        excluded = {canon[i] for i in np.unique(recent.items).tolist()}
        target = {canon[i] for i in np.unique(later.items).tolist()} - excluded
        if active and len(later) >= setup.min_future_plays and target:
            weight = np.bincount(
                past.items,
                weights=recency_weights(
                    (now - past.times) / DAY, half_life_days=setup.half_life_days
                ),
                minlength=len(listener.tracks),
            )
            rows = np.flatnonzero((weight > 0) & has)
            if rows.size:
                fit = fit_centers(
                    vectors[rows],
                    weight[rows],
                    previous=previous,
                    max_centers=setup.max_centers,
                    min_share=setup.min_share,
                    min_members=setup.min_members,
                    rng=rng,
                )
                ids_before = {c.id for c in previous}
                if previous:
                    kept.append(sum(c.id in ids_before for c in fit.centers) / len(fit.centers))
                previous = fit.centers
                known = {canon[i] for i in np.flatnonzero(weight > 0).tolist()}
                union: set[TrackId] = set()
                for k, center in enumerate(fit.centers):
                    members = rows[fit.members(k)]
                    union |= _mix(
                        center.vector,
                        members,
                        weight,
                        listener,
                        canon,
                        vectors,
                        space,
                        known | excluded,
                        excluded,
                        setup,
                    )
                mean = normalize_rows((vectors[rows] * weight[rows, None]).sum(axis=0))[0]
                single = _mix(
                    mean,
                    rows,
                    weight,
                    listener,
                    canon,
                    vectors,
                    space,
                    known | excluded,
                    excluded,
                    setup,
                    n=max(len(union), 1),
                )
                part = "validation" if now < middle else "test"
                for p in (part, "all"):
                    recall.setdefault((p, ENGINE), []).append(len(union & target) / len(target))
                    recall.setdefault((p, SINGLE), []).append(len(single & target) / len(target))
                mixes.append(len(fit.centers))
                sizes.append(len(union))
        now += setup.step_days * DAY


def _mix(
    center: np.ndarray,
    members: np.ndarray,
    weight: np.ndarray,
    listener: Listener,
    canon: list[TrackId],
    vectors: np.ndarray,
    space: Space,
    known: set[TrackId],
    excluded: set[TrackId],
    setup: CentersSetup,
    *,
    n: int | None = None,
) -> set[TrackId]:
    familiar = Pool.of(
        [canon[i] for i in members.tolist()],
        [listener.artists[i] for i in members.tolist()],
        vectors[members],
        weight[members],
    )
    fresh_ids, _ = space.tracks.nearest(
        center, n=setup.fresh_pool, exclude=known, skip_borrowed=True
    )
    fresh = Pool.of(
        fresh_ids,
        [space.artist_of.get(TrackId(t), t) for t in fresh_ids],
        space.tracks.vectors[[space.tracks.index(t) for t in fresh_ids]]
        if fresh_ids
        else np.zeros((0, space.dim), np.float32),
    )
    picked = compose_mix(
        center,
        familiar=familiar,
        fresh=fresh,
        n=n or setup.n,
        new_share=setup.new_share,
        per_artist=setup.per_artist,
        exclude=excluded,
    )
    return {TrackId(item.track) for item in picked}
