from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import pytest

from bot.conversation import Conversation
from storage.names import SqlNameIndex
from storage.stats import SqlCatalogStats
from tests.support.world import World, world_fixture
from wavelength.domain import UserId
from wavelength.stations import StationService

_users = itertools.count(1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from world_fixture(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def service(world: World) -> StationService:
    return StationService(
        engine=world.engine,
        composer=world.composer(),
        names=SqlNameIndex.load(world.engine),
        rng=random.Random(0),
    )


@pytest.fixture
def conversation(world: World, service: StationService) -> Conversation:
    return Conversation(catalog=SqlCatalogStats(world.engine), stations=service, max_chars=200)


@pytest.fixture
def user(service: StationService) -> UserId:
    """A fresh listener per test: tests never see each other's stations."""
    return service.user("test", f"listener-{next(_users)}")


@pytest.fixture
def other(service: StationService) -> UserId:
    return service.user("test", f"other-{next(_users)}")
