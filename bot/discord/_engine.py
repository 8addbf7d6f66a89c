"""What the Discord frontend needs from the chat engine (``bot.chat.ChatEngine`` has it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.chat import Outbox, Where, Who
    from bot.conversation import Reply
    from wavelength.domain import Reaction
    from wavelength.stations import Batch, Card


class Engine(Protocol):
    async def handle(self, who: Who, text: str) -> list[Reply]: ...

    async def station_names(self, who: Who) -> list[str]: ...

    async def posted(self, who: Who, batch: Batch, cards: Sequence[tuple[Where, Card]]) -> None: ...

    async def react(self, who: Who, where: Where, reaction: Reaction) -> Reply | None: ...

    async def unreact(self, who: Who, where: Where, reaction: Reaction) -> Reply | None: ...

    async def why(self, who: Who, where: Where) -> Reply | None: ...

    async def unreachable(self, who: Who) -> None: ...

    def register_outbox(self, outbox: Outbox) -> None: ...

    def unregister_outbox(self, platform: str) -> None: ...
