"""A chat engine over the known-answer world, for frontend tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.chat import ChatEngine
from bot.conversation import Conversation
from bot.sort_chat import SortChat
from bot.throttle import Throttle
from storage.stats import SqlCatalogStats
from wavelength.accounts import AccountService
from wavelength.mixes import MixService
from wavelength.sorter import SorterService

if TYPE_CHECKING:
    from tests.support.world import World
    from wavelength.stations import StationService


def make_chat_engine(
    world: World,
    service: StationService,
    *,
    throttle: Throttle | None = None,
    reaction_throttle: Throttle | None = None,
) -> ChatEngine:
    """Throttles default to roomy ones: tests fire turns faster than people type."""
    accounts = AccountService(engine=world.engine)
    conversation = Conversation(
        catalog=SqlCatalogStats(world.engine),
        stations=service,
        accounts=accounts,
        mixes=MixService(engine=world.engine, store=world.store, catalog=world.catalog),
        sorter=SortChat(
            SorterService(engine=world.engine, store=world.store, catalog=world.catalog)
        ),
    )
    return ChatEngine(
        conversation=conversation,
        stations=service,
        accounts=accounts,
        database=world.engine,
        throttle=throttle or Throttle(burst=10_000, per_second=1_000.0),
        reaction_throttle=reaction_throttle or Throttle(burst=10_000, per_second=1_000.0),
    )
