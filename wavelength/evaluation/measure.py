"""A mean with its standard error, per method, and paired differences between methods."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Measured:
    method: str
    mean: float
    se: float  # one standard error of the mean over the cases
    cases: int

    @classmethod
    def of(cls, method: str, values: Sequence[float]) -> Measured:
        mean, se = mean_se(values)
        return cls(method, mean, se, len(values))


@dataclass(frozen=True, slots=True)
class Paired:
    """``method`` minus ``baseline`` case by case: the mean difference, its standard error,
    and in how many cases the method was ahead, level or behind."""

    method: str
    baseline: str
    diff: float
    se: float
    wins: int
    ties: int
    losses: int

    @classmethod
    def of(cls, method: str, baseline: str, a: Sequence[float], b: Sequence[float]) -> Paired:
        if len(a) != len(b):
            raise ValueError(f"paired values differ in length: {len(a)} and {len(b)}")
        d = [x - y for x, y in zip(a, b, strict=True)]
        mean, se = mean_se(d)
        wins = sum(x > 1e-12 for x in d)
        losses = sum(x < -1e-12 for x in d)
        return cls(method, baseline, mean, se, wins, len(d) - wins - losses, losses)


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    if n == 0:
        return 0.0, 0.0
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)
