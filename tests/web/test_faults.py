"""Faults under load, over real HTTP (the fast versions of benchmarks/fault_api.py): every
acknowledged reaction is in the database afterwards, none twice, and the API serves again
right after the fault. The Spotify faults are tests/spotify/test_faults.py: the API never
calls Spotify."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.fault_api import run_db_restart, run_kill, run_slow_store
from tests.conftest import _reset_postgres


@pytest.mark.postgres
def test_a_postgres_outage_mid_load_loses_nothing_and_the_pool_reconnects(
    postgres_url: str,
) -> None:
    _reset_postgres(postgres_url)
    got = run_db_restart(postgres_url, users=3, seconds=4.0, window=1.0)
    assert got.failed > 0, "the outage did not reach the API"
    assert got.acked > 20
    assert (got.lost, got.duplicated) == (0, 0), got
    # pool_pre_ping swaps the ended connections for new ones: the first request after the
    # database is back succeeds.
    assert got.recovery_s is not None and got.recovery_s < 1.0, got


def test_a_slow_vector_store_slows_answers_but_fails_none(tmp_path: Path) -> None:
    got = run_slow_store(
        f"sqlite:///{tmp_path / 'slow.db'}", users=3, seconds=4.0, window=1.5, delay=0.2
    )
    assert got.failed == 0, got.failures
    assert (got.lost, got.duplicated) == (0, 0), got
    assert got.p95_ms["during"] >= 200 > got.p95_ms["after"], got.p95_ms
    assert got.recovery_s is not None and got.recovery_s < 1.0, got


def test_a_process_killed_during_feedback_keeps_every_acknowledged_reaction(
    tmp_path: Path,
) -> None:
    got = run_kill(f"sqlite:///{tmp_path / 'kill.db'}", tmp_path, users=3, seconds=6.0)
    assert got.failed > 0, "the kill did not reach the load"
    assert got.acked > 20
    assert (got.lost, got.duplicated) == (0, 0), got
    assert got.recovery_s is not None, "the restarted API never answered"
