from __future__ import annotations

import pytest

from bot.conversation import Conversation
from storage.stats import SqlCatalogStats
from tests.support.world import World
from wavelength.stations import StationService

# world, service, user and other come from tests/conftest.py.


@pytest.fixture
def conversation(world: World, service: StationService) -> Conversation:
    return Conversation(catalog=SqlCatalogStats(world.engine), stations=service, max_chars=200)
