"""``LikedSource`` with ``SharedNeighbours``: a station composed by several processes in turn
searches each liked track once, and gets the batch it would have got searching itself."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recommender.station import StationComposer, StationContext
from recommender.station.ports import SharedNeighbours
from storage.neighbour_cache import SqliteNeighbourCache
from tests.support.fakes import DictNeighbours
from tests.support.world import World
from wavelength.domain import Mood, Reaction, Station, StationId, Tuning, UserId


class CountingStore:
    """The world's store, counting searches; ``generation`` as a live store reports one."""

    def __init__(self, inner: Any, generation: int = 0) -> None:
        self._inner = inner
        self.generation = generation
        self.searches = 0

    def search(self, *args: Any, **kwargs: Any) -> Any:
        self.searches += 1
        return self._inner.search(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def liked_jazz_station(world: World) -> StationContext:
    station = Station(
        id=StationId(1), owner=UserId(1), name="jazz",
        mood=Mood(original="jazz for reading", text="jazz for reading"), tuning=Tuning(),
    )  # fmt: skip
    ctx = StationContext.build(station)
    for track in world.by_genre("thrash metal")[:2]:
        ctx = ctx.with_feedback(track.id, Reaction.LIKE, artist=track.artist.id)
    return ctx


@pytest.fixture(params=["fake", "sqlite"])
def shelf(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SharedNeighbours]:
    """Empty at first, as a fresh deployment's file is (and so falsy: both have a length)."""
    if request.param == "fake":
        yield DictNeighbours()
        return
    cache = SqliteNeighbourCache(tmp_path / "neighbours.sqlite")
    yield cache
    cache.close()


def compose(
    world: World, ctx: StationContext, *, shared: SharedNeighbours | None, generation: int = 0
) -> tuple[list[str], int]:
    """A fresh composer (a process of its own) composing one batch: its tracks and searches."""
    store = CountingStore(world.store, generation)
    composer = StationComposer(
        store=store,  # type: ignore[arg-type]
        encoder=world.encoder, catalog=world.catalog, shared_neighbours=shared,
    )  # fmt: skip
    picks = composer.next_batch(ctx, n=5, rng=random.Random(3))
    return [p.track for p in picks], store.searches


def test_a_second_process_reads_the_liked_neighbours_and_composes_the_same_batch(
    world: World, shelf: SharedNeighbours
) -> None:
    ctx = liked_jazz_station(world)
    alone, searches_alone = compose(world, ctx, shared=None)
    first, searches_first = compose(world, ctx, shared=shelf)
    second, searches_second = compose(world, ctx, shared=shelf)

    assert first == alone and second == alone
    assert searches_first == searches_alone
    assert len(shelf) == 2  # type: ignore[arg-type]  # one list per liked track
    assert searches_second == searches_alone - 2  # the two liked tracks were not searched


def test_lists_from_other_vectors_never_stand_in(world: World) -> None:
    ctx = liked_jazz_station(world)
    shared = DictNeighbours()
    _, searches = compose(world, ctx, shared=shared)
    # A model refresh moved the store to another generation: its lists are not these.
    _, after_refresh = compose(world, ctx, shared=shared, generation=1)
    assert after_refresh == searches
    assert len(shared.data) == 4

    # The same generation, and lists found for other vectors of the same liked tracks (a
    # retrain in place): only the vector's digest tells them apart.
    shared.data = {_with_digest(k, "0" * 16): v for k, v in shared.data.items()}
    _, retrained = compose(world, ctx, shared=shared)
    assert retrained == searches


def _with_digest(key: str, digest: str) -> str:
    parts = key.split("|")  # ..., the vector's digest, the liked track
    parts[-2] = digest
    return "|".join(parts)
