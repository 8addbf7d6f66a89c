"""Telegram for a process that only writes first (``wavelength serve --jobs-only``).

The Bot API client and the outbox, nothing that receives: no updater (so no getUpdates to
conflict with the chat process's long polling), no webhook set or deleted, no command menu
registered. Messages go out exactly as the chat process sends them, cards with buttons
included; the buttons and reactions reach the chat process, which finds the cards in the
database.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.telegram._app import AnyApplication, application_builder
from bot.telegram._outbox import TelegramOutbox
from bot.telegram._redact import guard

if TYPE_CHECKING:
    import asyncio
    from types import TracebackType

    from bot.chat import ChatEngine
    from bot.telegram._limiter import RateLimits
    from wavelength.settings import Settings

log = logging.getLogger(__name__)


class TelegramSender:
    """Start, offer the outbox to the engine, stop. ``async with`` does start and stop."""

    def __init__(self, application: AnyApplication, *, engine: ChatEngine, token: str) -> None:
        self.application = application
        self.outbox = TelegramOutbox(application, engine)
        self._engine = engine
        self._token = token
        self._registered = False

    @classmethod
    def build(
        cls,
        *,
        token: str,
        engine: ChatEngine,
        base_url: str | None = None,
        base_file_url: str | None = None,
        limits: RateLimits | None = None,
        timeout: float = 10.0,
    ) -> TelegramSender:
        builder = application_builder(
            token=token, base_url=base_url, base_file_url=base_file_url, limits=limits,
            timeout=timeout,
        )  # fmt: skip
        return cls(builder.updater(None).build(), engine=engine, token=token)

    @classmethod
    def from_settings(
        cls, settings: Settings, engine: ChatEngine, *, base_url: str | None = None
    ) -> TelegramSender:
        if settings.telegram_token is None:
            raise ValueError("TELEGRAM_TOKEN is not set")
        return cls.build(
            token=settings.telegram_token.get_secret_value(), engine=engine, base_url=base_url
        )

    async def start(self) -> None:
        guard(self._token)  # again: loggers created since the build
        app = self.application
        try:
            await app.initialize()  # getMe: a wrong token fails here
        except BaseException:
            # PTB leaves the HTTP client of a failed initialize open; close its sockets.
            await app.bot.request.shutdown()
            raise
        try:
            # With no updater nothing is fetched; the outbox only writes to a running app.
            await app.start()
        except BaseException:
            await app.shutdown()
            raise
        self._engine.register_outbox(self.outbox)
        self._registered = True
        log.info("Telegram bot @%s is up (sending only)", app.bot.username)

    async def stop(self) -> None:
        if self._registered:  # first: no new message may start on a stopping client
            self._engine.unregister_outbox(self.outbox.platform)
            self._registered = False
        app = self.application
        if app.running:
            await app.stop()
        await app.shutdown()

    async def __aenter__(self) -> TelegramSender:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def run_telegram_sender(
    settings: Settings, engine: ChatEngine, *, stop: asyncio.Event, base_url: str | None = None
) -> None:
    """Telegram's outbox until ``stop`` is set (for a jobs-only composition root)."""
    async with TelegramSender.from_settings(settings, engine, base_url=base_url):
        await stop.wait()
