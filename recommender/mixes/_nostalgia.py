"""Nostalgia: tracks someone played a lot a while ago and has not played lately.

Everything here reads one listener's timestamped plays (``Plays``: an item index and an epoch
second per play). Three steps:

* ``candidates``: items played before ``now - recent_days`` and not since;
* ``nostalgic_period``: how far back this listener reaches when they return to a track. Every
  *return* (a play after a gap of ``recent_days`` or more) has a gap; the middle half of those
  gaps, counted back from now, is their period ("what I played two to three years ago"), not a
  window fixed for everybody;
* ``NostalgiaModel``: a logistic model over a few counts per candidate (plays by age band,
  plays inside the period, past returns, months with plays, time since the last and first
  play), fitted on the listener's *own* earlier cutoffs: at each, which candidates did they
  actually go back to in the following ``horizon_days``? Only plays before ``now`` are read,
  so a model fitted at a cutoff never sees what came after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

DAY = 86_400.0
YEAR = 365.0 * DAY
# Age bands (seconds before now) whose plays are counted separately: the model learns which
# of them predict a return for this listener.
_BANDS = (0.5 * YEAR, YEAR, 2 * YEAR, 4 * YEAR)
FEATURES = (
    "plays",
    "plays recent_days..6 months ago",
    "plays 6-12 months ago",
    "plays 1-2 years ago",
    "plays 2-4 years ago",
    "plays 4+ years ago",
    "days since last play",
    "days since first play",
    "months with plays",
    "past returns",
    "plays in the nostalgic period",
)
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class Plays:
    """One listener's plays, oldest first: ``items[i]`` was played at ``times[i]`` (epoch s)."""

    items: Ints
    times: Floats

    @classmethod
    def of(cls, items: npt.ArrayLike, times: npt.ArrayLike) -> Plays:
        i = np.asarray(items, dtype=np.int64)
        t = np.asarray(times, dtype=np.float64)
        if i.shape != t.shape or i.ndim != 1:
            raise ValueError(f"one time per play: {i.shape} items, {t.shape} times")
        if i.size and i.min() < 0:
            raise ValueError("item indices must not be negative")
        order = np.argsort(t, kind="stable")
        return cls(i[order], t[order])

    def __len__(self) -> int:
        return int(self.items.size)

    def before(self, moment: float) -> Plays:
        end = int(np.searchsorted(self.times, moment, side="left"))
        return Plays(self.items[:end], self.times[:end])

    def between(self, start: float, end: float) -> Plays:
        lo, hi = np.searchsorted(self.times, [start, end], side="left")
        return Plays(self.items[lo:hi], self.times[lo:hi])

    @property
    def span_days(self) -> float:
        return float(self.times[-1] - self.times[0]) / DAY if len(self) else 0.0


@dataclass(frozen=True, slots=True)
class Period:
    """A span of the past in epoch seconds, ``start < end``."""

    start: float
    end: float


def candidates(plays: Plays, now: float, *, recent_days: float = 56.0) -> Ints:
    """Items played before ``now - recent_days`` and not from then until ``now``, sorted."""
    cut = now - recent_days * DAY
    old = plays.before(cut).items
    recent = plays.between(cut, now).items
    return np.setdiff1d(np.unique(old), np.unique(recent))


def returns(plays: Plays, *, recent_days: float = 56.0) -> tuple[Ints, Floats]:
    """Every return: the item and the gap (seconds) since that item's previous play, for each
    play that came ``recent_days`` or more after the one before it."""
    order = np.lexsort((plays.times, plays.items))
    items, times = plays.items[order], plays.times[order]
    same = items[1:] == items[:-1]
    gaps = times[1:] - times[:-1]
    hit = same & (gaps >= recent_days * DAY)
    return items[1:][hit], gaps[hit]


def nostalgic_period(
    plays: Plays, now: float, *, recent_days: float = 56.0, min_returns: int = 10
) -> Period | None:
    """The part of the past this listener goes back to: the middle half of their return gaps,
    counted back from ``now``. None with fewer than ``min_returns`` returns to read it from."""
    _, gaps = returns(plays.before(now), recent_days=recent_days)
    if gaps.size < min_returns:
        return None
    near, far = np.quantile(gaps, [0.25, 0.75])
    return Period(start=now - float(far), end=now - float(near))


def features(
    plays: Plays, items: Ints, now: float, *, recent_days: float = 56.0, period: Period | None
) -> Floats:
    """One row of ``FEATURES`` per item (log counts and log days), from plays before ``now``."""
    past = plays.before(now)
    n = int(max(past.items.max(initial=-1), items.max(initial=-1))) + 1
    age = now - past.times

    def count(mask: npt.NDArray[np.bool_] | None = None) -> Floats:
        chosen = past.items if mask is None else past.items[mask]
        return np.log1p(np.bincount(chosen, minlength=n)[items].astype(np.float64))

    edges = (recent_days * DAY, *_BANDS, np.inf)
    cols = [count()]
    cols += [count((age >= a) & (age < b)) for a, b in pairwise(edges)]
    last = np.full(n, -np.inf)
    first = np.full(n, np.inf)
    np.maximum.at(last, past.items, past.times)
    np.minimum.at(first, past.items, past.times)
    seen = np.isfinite(last[items])
    cols.append(np.where(seen, np.log1p((now - last[items]) / DAY), 0.0))
    cols.append(np.where(seen, np.log1p((now - first[items]) / DAY), 0.0))
    months = np.unique(past.items * 100_000 + (past.times // (30 * DAY)).astype(np.int64))
    cols.append(np.log1p(np.bincount(months // 100_000, minlength=n)[items].astype(np.float64)))
    back, _ = returns(past, recent_days=recent_days)
    cols.append(np.log1p(np.bincount(back, minlength=n)[items].astype(np.float64)))
    if period is None:
        cols.append(np.zeros(len(items)))
    else:
        cols.append(count((past.times >= period.start) & (past.times < period.end)))
    return np.stack(cols, axis=1)


@dataclass(frozen=True, slots=True, eq=False)
class NostalgiaModel:
    """Scores candidates by how likely this listener is to go back to them soon.

    ``weights`` is None when the listener's history held too few earlier cutoffs to learn
    from; ``score`` then falls back to plays inside the period, then plays overall.
    """

    weights: Floats | None
    mean: Floats
    scale: Floats
    recent_days: float
    cutoffs: int  # earlier cutoffs the weights were fitted on

    @classmethod
    def fit(
        cls,
        plays: Plays,
        now: float,
        *,
        recent_days: float = 56.0,
        horizon_days: float = 28.0,
        step_days: float = 60.0,
        max_cutoffs: int = 12,
        min_cutoffs: int = 3,
        l2: float = 1.0,
    ) -> NostalgiaModel:
        """Learn from cutoffs ``now - horizon - j * step``: which candidates came back within
        ``horizon_days`` after each. Reads only plays before ``now``."""
        for name, value in (("recent_days", recent_days), ("horizon_days", horizon_days)):
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if step_days <= 0 or max_cutoffs < 1:
            raise ValueError("step_days must be positive and max_cutoffs at least 1")
        known = plays.before(now)
        rows: list[Floats] = []
        labels: list[Floats] = []
        cut = now - horizon_days * DAY
        earliest = known.times[0] + 2 * recent_days * DAY if len(known) else np.inf
        while len(rows) < max_cutoffs and cut > earliest:
            pool = candidates(known, cut, recent_days=recent_days)
            came_back = np.isin(pool, known.between(cut, cut + horizon_days * DAY).items)
            if pool.size and came_back.any() and not came_back.all():
                period = nostalgic_period(known, cut, recent_days=recent_days)
                rows.append(features(known, pool, cut, recent_days=recent_days, period=period))
                labels.append(came_back.astype(np.float64))
            cut -= step_days * DAY
        dim = len(FEATURES)
        if len(rows) < min_cutoffs:
            return cls(None, np.zeros(dim), np.ones(dim), recent_days, len(rows))
        x = np.vstack(rows)
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        weights = _logistic((x - mean) / scale, np.concatenate(labels), l2=l2)
        return cls(weights, mean, scale, recent_days, len(rows))

    def score(self, plays: Plays, items: Ints, now: float, *, period: Period | None) -> Floats:
        """Higher is likelier to be played again soon; one score per item."""
        x = features(plays, items, now, recent_days=self.recent_days, period=period)
        if self.weights is None:
            fallback: Floats = x[:, -1] * 10.0 + x[:, 0]
            return fallback
        z = (x - self.mean) / self.scale
        scores: Floats = z @ self.weights[:-1] + self.weights[-1]
        return scores


def rank_nostalgia(
    plays: Plays,
    now: float,
    *,
    n: int = 50,
    recent_days: float = 56.0,
    horizon_days: float = 28.0,
) -> tuple[Ints, Floats, Period | None]:
    """The ``n`` best nostalgia candidates (item indices, scores, best first) and the period."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    pool = candidates(plays, now, recent_days=recent_days)
    period = nostalgic_period(plays, now, recent_days=recent_days)
    if not pool.size:
        return pool, np.zeros(0), period
    model = NostalgiaModel.fit(plays, now, recent_days=recent_days, horizon_days=horizon_days)
    scores = model.score(plays, pool, now, period=period)
    order = np.lexsort((pool, -scores))[:n]
    return pool[order], scores[order], period


def _logistic(z: Floats, y: Floats, *, l2: float, iterations: int = 25) -> Floats:
    """L2-regularised logistic regression by Newton's method; the last weight is the bias."""
    x = np.hstack([z, np.ones((len(z), 1))])
    w = np.zeros(x.shape[1])
    ridge = l2 * np.eye(x.shape[1])
    ridge[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) + ridge @ w
        hess = (x * (p * (1 - p))[:, None]).T @ x + ridge + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w
