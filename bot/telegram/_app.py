"""The Telegram frontend's lifecycle inside the composition root's event loop.

``TelegramFrontend`` builds a PTB ``Application`` (our rate limiter, per-chat ordered
concurrent updates, no job queue) and runs it with ``start``/``stop`` instead of
``run_polling``, which would own the loop. Updates come by long polling, or by webhook: a
small aiohttp server that checks Telegram's secret header and feeds PTB's update queue.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.chat import COMMANDS
from bot.telegram._handlers import Handlers
from bot.telegram._limiter import ChatRateLimiter, RateLimits
from bot.telegram._order import PerChatOrder
from bot.telegram._outbox import TelegramOutbox
from bot.telegram._redact import guard

if TYPE_CHECKING:
    from types import TracebackType

    from bot.chat import ChatEngine
    from wavelength.settings import Settings

log = logging.getLogger(__name__)

# message_reaction must be asked for: Telegram leaves it out of the default set.
ALLOWED_UPDATES = ("message", "callback_query", "message_reaction")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
AnyApplication = Application[Any, Any, Any, Any, Any, Any]
AnyBuilder = ApplicationBuilder[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where Telegram posts updates (``url``, public HTTPS) and where we listen for them
    (a reverse proxy forwards the same path)."""

    url: str
    secret: str | None = None
    listen: str = "127.0.0.1"
    port: int = 8443

    def __post_init__(self) -> None:
        if not self.url.startswith("https://"):
            raise ValueError("Telegram only posts to an https:// webhook URL")
        if self.secret is not None and not _SECRET.fullmatch(self.secret):
            raise ValueError("the webhook secret must be 1-256 of A-Z, a-z, 0-9, _ and -")

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


def application_builder(
    *,
    token: str,
    base_url: str | None = None,
    base_file_url: str | None = None,
    limits: RateLimits | None = None,
    timeout: float = 10.0,
) -> AnyBuilder:
    """PTB's builder as every Telegram client here wants it: our rate limiter, per-chat
    ordered updates, no job queue, these timeouts; the token scrubbed from the logs first."""
    # Opt in to PTB's coming behaviour (durations as timedelta): its deprecation warning
    # fires on every RetryAfter otherwise, and the limiter reads either shape anyway.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    guard(token)
    builder = (
        ApplicationBuilder()
        .token(token)
        .rate_limiter(ChatRateLimiter(limits))
        .concurrent_updates(PerChatOrder())
        .job_queue(None)
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .write_timeout(timeout)
        .pool_timeout(timeout)
    )
    if base_url:
        builder = builder.base_url(base_url)
        builder = builder.base_file_url(base_file_url or base_url.replace("/bot", "/file/bot"))
    return builder


class TelegramFrontend:
    """Start, run in the current loop, stop. ``async with`` does start and stop. While it
    runs, its outbox is the engine's way to message Telegram users first."""

    def __init__(
        self,
        application: AnyApplication,
        *,
        engine: ChatEngine,
        token: str,
        webhook: Webhook | None = None,
        poll_timeout: float = 10.0,
    ) -> None:
        self.application = application
        self.outbox = TelegramOutbox(application, engine)
        self._engine = engine
        self._registered = False
        self._token = token
        self._webhook = webhook
        self._poll_timeout = poll_timeout
        self._runner: web.AppRunner | None = None

    @classmethod
    def build(
        cls,
        *,
        token: str,
        engine: ChatEngine,
        base_url: str | None = None,
        base_file_url: str | None = None,
        limits: RateLimits | None = None,
        webhook: Webhook | None = None,
        timeout: float = 10.0,
        poll_timeout: float = 10.0,
    ) -> TelegramFrontend:
        builder = application_builder(
            token=token,
            base_url=base_url,
            base_file_url=base_file_url,
            limits=limits,
            timeout=timeout,
        ).get_updates_read_timeout(poll_timeout + timeout)
        if webhook is not None:
            builder = builder.updater(None)
        application: AnyApplication = builder.build()
        Handlers(engine).install(application)
        return cls(
            application, engine=engine, token=token, webhook=webhook, poll_timeout=poll_timeout
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, engine: ChatEngine, *, base_url: str | None = None
    ) -> TelegramFrontend:
        if settings.telegram_token is None:
            raise ValueError("TELEGRAM_TOKEN is not set")
        webhook = None
        if settings.telegram_mode == "webhook":
            if not settings.telegram_webhook_url:
                raise ValueError("webhook mode needs WAVELENGTH_TELEGRAM_WEBHOOK_URL (https://...)")
            secret = settings.telegram_webhook_secret
            webhook = Webhook(
                url=settings.telegram_webhook_url,
                secret=secret.get_secret_value() if secret else None,
                listen=settings.telegram_listen_host,
                port=settings.telegram_listen_port,
            )
        return cls.build(
            token=settings.telegram_token.get_secret_value(),
            engine=engine,
            base_url=base_url,
            webhook=webhook,
        )

    @property
    def webhook_port(self) -> int | None:
        """The port the webhook server listens on (useful when 0 asked for any)."""
        if self._runner is None or not self._runner.addresses:
            return None
        return int(self._runner.addresses[0][1])

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
            await self._register_commands()
            if self._webhook is not None:
                await self._start_webhook(self._webhook)
            else:
                assert app.updater is not None
                await app.updater.start_polling(
                    allowed_updates=list(ALLOWED_UPDATES),
                    timeout=timedelta(seconds=self._poll_timeout),
                    error_callback=_polling_error,
                )
            await app.start()
        except BaseException:
            await self.stop()
            raise
        self._engine.register_outbox(self.outbox)
        self._registered = True
        log.info(
            "Telegram bot @%s is up (%s)",
            app.bot.username,
            "webhook" if self._webhook else "polling",
        )

    async def stop(self) -> None:
        if self._registered:  # first: no new message may start on a stopping bot
            self._engine.unregister_outbox(self.outbox.platform)
            self._registered = False
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if app.running:
            await app.stop()
        await app.shutdown()

    async def __aenter__(self) -> TelegramFrontend:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _register_commands(self) -> None:
        commands = [
            BotCommand(c.name.lstrip("/").lower(), c.description[:256])
            for c in COMMANDS
            if _COMMAND.fullmatch(c.name.lstrip("/").lower()) and c.description
        ]
        try:
            await self.application.bot.set_my_commands(commands[:100])
        except TelegramError as exc:  # the menu is a nicety; the bot works without it
            log.warning("could not register the command menu: %s", exc)

    async def _start_webhook(self, webhook: Webhook) -> None:
        server = web.Application(client_max_size=1024**2)
        server.router.add_post(webhook.path, self._on_webhook)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, webhook.listen, webhook.port).start()
        await self.application.bot.set_webhook(
            url=webhook.url, secret_token=webhook.secret, allowed_updates=list(ALLOWED_UPDATES)
        )

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """One update from Telegram: checked, queued, acknowledged at once."""
        secret = self._webhook.secret if self._webhook else None
        if secret is not None and not hmac.compare_digest(
            request.headers.get(SECRET_HEADER, "").encode(), secret.encode()
        ):
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.Response(status=400)
        await self.application.update_queue.put(update)
        return web.Response()


def _polling_error(exc: TelegramError) -> None:
    log.warning("getUpdates failed, retrying: %s", exc)


async def run_telegram(
    settings: Settings, engine: ChatEngine, *, stop: asyncio.Event, base_url: str | None = None
) -> None:
    """The Telegram bot until ``stop`` is set (for the composition root's task group)."""
    async with TelegramFrontend.from_settings(settings, engine, base_url=base_url):
        await stop.wait()
