"""Messages Wavelength starts on Telegram: daily picks, confirmations.

A person's private chat with the bot has their user id as its id, so the account the engine
knows is all it takes to write to them, once they have started the bot. Replies go out the
way a command's answer does (a batch as a header and one card per message, with buttons,
registered for reactions), through the same rate limiter, in the chat's turn. Telegram's
refusals become a ``Delivered`` for the caller to act on; nothing here raises for them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from telegram import Chat
from telegram.constants import ChatType
from telegram.error import RetryAfter, TelegramError

from bot.chat import Delivered, Who
from bot.telegram._handlers import PLATFORM, Sender, Unreachable
from bot.telegram._limiter import _seconds
from bot.telegram._order import PerChatOrder

if TYPE_CHECKING:
    from collections.abc import Sequence

    from telegram.ext import Application

    from bot.chat import ChatEngine
    from bot.conversation import Reply

log = logging.getLogger(__name__)


class TelegramOutbox:
    """The Telegram frontend's ``bot.chat.Outbox``."""

    platform = PLATFORM

    def __init__(
        self, application: Application[Any, Any, Any, Any, Any, Any], engine: ChatEngine
    ) -> None:
        self._application = application
        self._engine = engine

    async def send(self, account: str, replies: Sequence[Reply]) -> Delivered:
        """``replies`` in ``account``'s private chat. Blocked, never started, gone: unreachable
        (the engine marks it); a flood wait longer than the limiter waits out, a server
        error or a timeout: not delivered, ``retry_after`` set when Telegram named a wait."""
        # A private chat's id is the user's id: a positive number.
        if not (account.isascii() and account.isdigit()) or int(account) <= 0:
            return Delivered(ok=False, unreachable=True, platform=PLATFORM, note="no user id")
        if not self._application.running:
            return Delivered(ok=False, platform=PLATFORM, note="the Telegram bot is not running")
        chat = Chat(int(account), ChatType.PRIVATE)
        sender = Sender(
            self._application.bot, self._engine, Who(PLATFORM, account), chat, strict=True
        )
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
                ok=False, retry_after=wait, platform=PLATFORM, note=note, sent=sender.sent
            )
        return Delivered(ok=True, platform=PLATFORM)
