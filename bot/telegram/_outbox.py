"""Messages Wavelength starts on Telegram: daily picks, confirmations.

A person's private chat with the bot has their user id as its id, so the account the engine
knows is all it takes to write to them, once they have started the bot. Replies go out the
way a command's answer does (a batch as a header and one card per message, with buttons,
registered for reactions), through the same rate limiter, in the chat's turn. Telegram's
refusals become a ``Delivered`` for the caller to act on; nothing here raises for them.

A request that left and got no answer (PTB's ``TimedOut`` on a read, a dropped connection,
a proxy's garbled 502/504) may have been shown all the same: it comes back ``in_doubt``, and
the scheduler does not send it again. One that never left (no connection, no free slot in
the connection pool) or that Telegram answered with an error is safe to try again. The
client's timeouts are set where the frontend is built (``TelegramFrontend.build``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx
from telegram import Chat
from telegram.constants import ChatType
from telegram.error import NetworkError, RetryAfter, TelegramError

from bot.chat import Delivered, Who
from bot.telegram._handlers import PLATFORM, Sender, Unreachable
from bot.telegram._limiter import _seconds
from bot.telegram._order import PerChatOrder

if TYPE_CHECKING:
    from collections.abc import Sequence

    from telegram.ext import Application

    from bot.chat import ChatEngine
    from bot.conversation import Reply
    from bot.gate import SendGate

log = logging.getLogger(__name__)


class TelegramOutbox:
    """The Telegram frontend's ``bot.chat.Outbox``."""

    platform = PLATFORM

    def __init__(
        self, application: Application[Any, Any, Any, Any, Any, Any], engine: ChatEngine
    ) -> None:
        self._application = application
        self._engine = engine

    async def send(
        self, account: str, replies: Sequence[Reply], *, gate: SendGate | None = None
    ) -> Delivered:
        """``replies`` in ``account``'s private chat. Blocked, never started, gone: unreachable
        (the engine marks it); a flood wait longer than the limiter waits out or a server
        error: not delivered, ``retry_after`` set when Telegram named a wait; no answer to a
        request that left: ``in_doubt``. ``gate`` opens as the first request leaves."""
        # A private chat's id is the user's id: a positive number.
        if not (account.isascii() and account.isdigit()) or int(account) <= 0:
            return Delivered(ok=False, unreachable=True, platform=PLATFORM, note="no user id")
        if not self._application.running:
            return Delivered(ok=False, platform=PLATFORM, note="the Telegram bot is not running")
        chat = Chat(int(account), ChatType.PRIVATE)
        sender = Sender(
            self._application.bot, self._engine, Who(PLATFORM, account), chat, strict=True,
            gate=gate,
        )  # fmt: skip
        order = self._application.update_processor
        try:
            if isinstance(order, PerChatOrder):
                async with order.turn(chat.id):
                    await sender.replies(replies)
            else:
                await sender.replies(replies)
        except Unreachable as exc:
            log.info("Telegram user %s can't be messaged: %s", account, exc.__cause__)
            return Delivered(ok=False, unreachable=True, platform=PLATFORM, note=str(exc.__cause__))
        except TelegramError as exc:
            # A retry sends everything again, so say how much already went out.
            note = f"{type(exc).__name__}: {exc}" + (
                f" (after {sender.sent} message(s) went out)" if sender.sent else ""
            )
            log.warning("a message to Telegram user %s was not delivered: %s", account, note)
            wait = _seconds(exc) if isinstance(exc, RetryAfter) else None
            return Delivered(
                ok=False, retry_after=wait, platform=PLATFORM, note=note, sent=sender.sent,
                in_doubt=maybe_arrived(exc),
            )  # fmt: skip
        return Delivered(ok=True, platform=PLATFORM)


# httpx's errors that say the request never reached Telegram: no connection was made, or no
# connection of the pool became free (PTB: "Request was *not* sent to Telegram").
_NEVER_LEFT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def maybe_arrived(exc: TelegramError) -> bool:
    """Whether a failed Bot API call may still have done its work: it left, and no answer
    came back that says otherwise."""
    cause = exc.__cause__
    if isinstance(cause, _NEVER_LEFT):
        return False
    if isinstance(cause, httpx.TransportError):
        return True  # timed out reading or writing, or the connection dropped midway
    # No cause: Telegram answered with an error of its own (it did nothing). An answer that
    # isn't the Bot API's JSON (a proxy's 502/504 page) says nothing about Telegram.
    return isinstance(exc, NetworkError) and isinstance(cause, TelegramError)
