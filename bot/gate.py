"""The moment a message we start first goes out on the wire.

A scheduled delivery is marked "sending" in the ledger only when its first request is about
to leave for the platform, not when it is handed to a frontend: it may wait first, behind
Telegram's pacing or discord.py's buckets, and a delivery killed while it waits has sent
nothing, so it must stay claimed and be delivered by a later round. The sender makes a
``SendGate``; the frontend's transport opens it right before each request leaves (after any
wait); the first opening runs the sender's callback, which may refuse (the claim was taken
over), and then nothing is sent at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class NotSent(Exception):
    """The gate refused: this delivery must not go out (someone else now owns it)."""


class SendGate:
    """Opened once, by whichever request of one delivery leaves first."""

    def __init__(self, on_open: Callable[[], Awaitable[bool]]) -> None:
        """``on_open`` runs before the first request leaves; False refuses the whole send."""
        self._on_open = on_open
        self._lock = asyncio.Lock()
        self._state: bool | None = None  # None: not opened yet; True: open; False: refused

    @property
    def opened(self) -> bool:
        """Whether a request may have left (if it did not, nothing reached the platform)."""
        return self._state is True

    async def open(self) -> None:
        """Call right before a request goes on the wire; raises ``NotSent`` when refused."""
        if self._state is None:
            async with self._lock:
                if self._state is None:
                    self._state = bool(await self._on_open())
        if not self._state:
            raise NotSent("the delivery's claim was lost before anything was sent")
