"""Nostalgia mixes on real histories: would the listener really have gone back to them?

For every listener with a long history, cutoffs every ``step_days`` (after a first year to
learn from): at each, every method builds a mix of ``n`` tracks from the plays before the
cutoff, all under the nostalgia rule (played before, not in the last ``recent_days``), and
scores precision: the share of the mix the listener actually played in the ``horizon_days``
after the cutoff. Baselines in the same run: random tracks from that past, and the most played
ones. A cutoff counts when the listener was active after it and the past holds ``n``
candidates, so every method fills its whole mix from the same pool.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from recommender.mixes import NostalgiaModel, Plays, candidates, nostalgic_period, rank_nostalgia
from recommender.mixes._nostalgia import DAY, Ints
from wavelength.evaluation.histories import Listener
from wavelength.evaluation.measure import Measured, Paired

ENGINE = "nostalgia mix (own period + learned returns)"
PERIOD_ONLY = "plays in the nostalgic period only"
MOST_PLAYED = "most played in the past"
RANDOM = "random from the past"


@dataclass(frozen=True, slots=True)
class NostalgiaSetup:
    n: int = 50
    recent_days: float = 56.0
    horizon_days: float = 28.0
    step_days: float = 30.0
    warmup_days: float = 365.0  # history before the first cutoff
    min_years: float = 2.0  # "a long history"
    min_active_plays: int = 50  # plays in the horizon: the listener was listening at all


@dataclass(frozen=True, slots=True)
class NostalgiaResult:
    setup: NostalgiaSetup
    seed: int
    listeners: tuple[str, ...]  # those with a long enough history, e.g. "listener 1 (12 y)"
    skipped: tuple[str, ...]
    rows: tuple[Measured, ...]
    paired: tuple[Paired, ...]
    period_days: tuple[float, float]  # median distance back of the period's near and far end
    seconds: float


Method = Callable[[Plays, Ints, float], Ints]


def cutoffs(listener: Listener, setup: NostalgiaSetup) -> list[float]:
    plays = listener.plays
    if not len(plays):
        return []
    out = []
    t = float(plays.times[0]) + setup.warmup_days * DAY
    end = float(plays.times[-1]) - setup.horizon_days * DAY
    while t <= end:
        active = len(plays.between(t, t + setup.horizon_days * DAY))
        if active >= setup.min_active_plays:
            pool = candidates(plays, t, recent_days=setup.recent_days)
            if pool.size >= setup.n:
                out.append(t)
        t += setup.step_days * DAY
    return out


def methods(setup: NostalgiaSetup, rng: random.Random) -> dict[str, Method]:
    def engine(plays: Plays, pool: Ints, now: float) -> Ints:
        ids, _, _ = rank_nostalgia(
            plays, now, n=setup.n, recent_days=setup.recent_days, horizon_days=setup.horizon_days
        )
        return ids

    def period_only(plays: Plays, pool: Ints, now: float) -> Ints:
        model = NostalgiaModel(None, np.zeros(1), np.ones(1), setup.recent_days, 0)
        period = nostalgic_period(plays, now, recent_days=setup.recent_days)
        scores = model.score(plays, pool, now, period=period)
        return pool[np.lexsort((pool, -scores))][: setup.n]

    def most_played(plays: Plays, pool: Ints, now: float) -> Ints:
        counts = np.bincount(plays.items, minlength=int(pool.max()) + 1)[pool]
        return pool[np.lexsort((pool, -counts))][: setup.n]

    def random_past(plays: Plays, pool: Ints, now: float) -> Ints:
        return np.asarray(rng.sample(pool.tolist(), setup.n), dtype=np.int64)

    return {ENGINE: engine, PERIOD_ONLY: period_only, MOST_PLAYED: most_played, RANDOM: random_past}


def evaluate_nostalgia(
    listeners: Sequence[Listener], *, seed: int, setup: NostalgiaSetup | None = None
) -> NostalgiaResult:
    import time

    setup = setup or NostalgiaSetup()
    started = time.perf_counter()
    rng = random.Random(seed)
    chosen = [x for x in listeners if x.years >= setup.min_years]
    skipped = [x for x in listeners if x.years < setup.min_years]
    run = methods(setup, rng)
    precision: dict[str, list[float]] = {name: [] for name in run}
    near: list[float] = []
    far: list[float] = []
    for listener in chosen:
        for now in cutoffs(listener, setup):
            past = listener.plays.before(now)
            pool = candidates(past, now, recent_days=setup.recent_days)
            later = np.unique(listener.plays.between(now, now + setup.horizon_days * DAY).items)
            period = nostalgic_period(past, now, recent_days=setup.recent_days)
            if period is not None:
                near.append((now - period.end) / DAY)
                far.append((now - period.start) / DAY)
            for name, method in run.items():
                mix = method(past, pool, now)
                precision[name].append(float(np.isin(mix, later).sum()) / setup.n)
    rows = tuple(Measured.of(name, values) for name, values in precision.items())
    paired = tuple(
        Paired.of(ENGINE, base, precision[ENGINE], precision[base])
        for base in (MOST_PLAYED, RANDOM)
    )
    return NostalgiaResult(
        setup=setup,
        seed=seed,
        listeners=tuple(f"{x.label} ({x.years:.0f} y)" for x in chosen),
        skipped=tuple(f"{x.label} ({x.years:.1f} y)" for x in skipped),
        rows=rows,
        paired=paired,
        period_days=(
            float(np.median(near)) if near else 0.0,
            float(np.median(far)) if far else 0.0,
        ),
        seconds=time.perf_counter() - started,
    )
