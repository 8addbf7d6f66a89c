"""Next batches of one station asked for at once: by threads of one service, and by two
services over one database (as two compose workers or two API processes are). Each batch
gets its own number and nothing repeats; before, both took "the newest + 1" and the second
could replay the first one's tracks (2 tries in 5 on this world)."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from recommender.station import StationComposer
from storage.models import StationPlayRow
from tests.support.world import World
from wavelength.domain import StationId, UserId
from wavelength.stations import Batch, StationService


def _race(services: list[StationService], user: UserId, station: StationId) -> list[Batch]:
    calls = [services[i % len(services)] for i in range(12)]
    start = threading.Barrier(4)

    def next_of(service: StationService) -> Batch:
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=5)  # four at a time, at once
        return service.next(user, station=station)

    with ThreadPoolExecutor(4) as threads:
        return list(threads.map(next_of, calls))


def _check(world: World, user: UserId, station: StationId, batches: list[Batch]) -> None:
    numbers = sorted(b.number for b in batches)
    assert numbers == list(range(2, 14))  # the station's first batch came with it
    shown = [c.track.id for b in batches for c in b.cards]
    assert len(shown) == len(set(shown)) == 12 * 5  # nothing replayed
    with world.engine.connect() as conn:
        per_batch = conn.execute(
            select(StationPlayRow.batch, func.count())
            .where(StationPlayRow.station_id == station, StationPlayRow.listener_id == user)
            .group_by(StationPlayRow.batch)
        ).all()
    assert Counter(dict(per_batch)) == Counter({n: 5 for n in range(1, 14)})


class Counting:
    """The composer, counting the batches it composes."""

    def __init__(self, composer: StationComposer) -> None:
        self.composer, self.batches = composer, 0

    def next_batch(self, *args: Any, **kwargs: Any) -> Any:
        self.batches += 1
        return self.composer.next_batch(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.composer, name)


def test_threads_of_one_service_take_turns(world: World) -> None:
    counting = Counting(world.composer())
    service = world.service(2, counting)  # type: ignore[arg-type]
    user = service.user("race", "one-service")
    station = service.create(user, "cool jazz").station.id
    _check(world, user, station, _race([service], user, station))
    # A call that waited its turn starts from the batch recorded meanwhile: none wasted.
    assert counting.batches == 1 + 12


def test_two_services_on_one_database_never_share_a_batch_number(
    world: World, service: StationService
) -> None:
    user = service.user("race", "two-services")
    station = service.create(user, "cool jazz").station.id
    _check(world, user, station, _race([service, world.service(1)], user, station))
