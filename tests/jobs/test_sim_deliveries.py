"""The delivery simulation (benchmarks/sim_deliveries.py), small: the real runner, chat engine,
Telegram frontend and Spotify service against the fakes, with faults, a kill, a rival and a
racer; counted per listener from what the fakes recorded."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from benchmarks.sim_deliveries import SimConfig, simulate

if TYPE_CHECKING:
    from tests.support.world import World
    from wavelength.stations import StationService

# Few enough listeners for a test; a small concurrency so the kill finds some of them
# mid-send and leaves others waiting; faults often enough that every kind shows up.
SMALL = SimConfig(
    users=80,
    spotify_share=0.25,
    blocked_share=0.05,
    fault_rate=0.05,
    concurrency=8,
    timeout=1.0,
    seed=11,
)


def test_every_reachable_listener_gets_picks_once_through_faults_a_kill_and_a_racer(
    world: World, service: StationService
) -> None:
    f = asyncio.run(simulate(SMALL, world=world, service=service))
    assert f.duplicated == 0 and f.lost == 0
    assert f.rounds[0] == "round 1 (w1): killed midway" and f.killed_in_flight > 0
    assert "stood down" in f.rounds[1]  # the rival with the same clock
    assert sum(f.faults.values()) > 0
    # Every listener is accounted for: picks arrived, or the ledger says why not.
    unreached = f.listeners - f.got_picks
    assert unreached == f.ledger["skipped (blocked)"] + f.unknown_missing + f.ledger["skipped"]
    assert f.ledger["skipped (blocked)"] > 0 and f.unknown_missing + f.unknown_arrived > 0
    assert f.ledger["failed"] == f.ledger["claimed"] == f.ledger["sending"] == 0
    # Spotify holds exactly the cards that arrived, one playlist each.
    assert f.spotify_ok > 0 and f.spotify_wrong == f.spotify_missing == f.spotify_unfinished == 0


def test_a_runner_that_ignores_the_ledger_is_caught_sending_twice(
    world: World, service: StationService
) -> None:
    broken = replace(SMALL, users=24, fault_rate=0.0, broken=True, seed=12)
    f = asyncio.run(simulate(broken, world=world, service=service))
    assert f.duplicated > 0
