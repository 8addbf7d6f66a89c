from __future__ import annotations

import pytest

from bot.throttle import Throttle


def test_a_burst_then_the_steady_rate() -> None:
    now = [0.0]
    t = Throttle(burst=2, per_second=0.5, clock=lambda: now[0])
    assert [t.admit("a") for _ in range(4)] == [True, True, False, None]
    now[0] = 1.9
    assert t.admit("a") is None  # still under one token
    now[0] = 2.0
    assert t.admit("a") is True
    assert t.admit("b") is True  # keys are independent


def test_forgets_idle_keys_when_full() -> None:
    now = [0.0]
    t = Throttle(burst=1, per_second=1.0, clock=lambda: now[0], max_keys=3)
    for key in "abc":
        assert t.admit(key)
    now[0] = 10.0
    assert t.admit("d") is True
    assert len(t._buckets) == 1


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Throttle(burst=0)
    with pytest.raises(ValueError):
        Throttle(per_second=0)
