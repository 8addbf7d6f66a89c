"""A local Discord on 127.0.0.1 that the real discord.py client logs in to.

It speaks the wire protocol Wavelength uses, as Discord documents it and as discord.py parses
it: REST API v10 (``/users/@me``, ``/applications/@me``, command overwrites, interaction
callbacks, interaction webhooks, channel messages with file uploads (multipart/form-data with
``payload_json`` and ``files[n]``, served back from a CDN route), reactions, DMs) and the gateway websocket
(HELLO, IDENTIFY → READY and GUILD_CREATE, heartbeats and ACKs, RESUME, sequenced dispatches,
``zlib-stream`` compression when the client asks for it). It keeps Discord's rules that a bot
can trip over: the 3-second deadline for the first interaction callback (404 10062 after it),
one callback per interaction (400 40060), closed DMs (403 50007), DMs to nobody (400 50033), message limits (400 50035),
upload limits (10 files, 10 MiB each: 413 40005; alt text up to 1024 characters),
events filtered by the intents sent in IDENTIFY, and rate limit headers with real 429s.
Faults (a 429 with ``retry_after``, any error status) can be queued per route.

Tests drive it from the outside: ``slash`` / ``autocomplete`` / ``message_command`` dispatch
INTERACTION_CREATE, ``react`` / ``unreact`` dispatch MESSAGE_REACTION_ADD / _REMOVE, and the
records (``interactions``, ``messages``, ``requests``) show what the bot did and when.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping

import yarl
from aiohttp import web
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.support.fake_discord._gateway import GatewayMixin
from tests.support.fake_discord._objects import ObjectsMixin
from tests.support.fake_discord._rest import RestMixin
from tests.support.fake_discord._rules import refused_by_client
from tests.support.fake_discord._wire import (
    API,
    CANONICAL_EMOJI,
    DIRECT_MESSAGE_REACTIONS,
    EPHEMERAL,
    GUILD_MESSAGE_REACTIONS,
    GUILDS,
    LOADING,
    TOKEN,
    Bucket,
    Callback,
    FakeInteraction,
    FakeUser,
    Fault,
    GatewaySession,
    Json,
    RequestRecord,
    Snowflakes,
    Upload,
)

__all__ = [
    "DIRECT_MESSAGE_REACTIONS",
    "EPHEMERAL",
    "GUILDS",
    "GUILD_MESSAGE_REACTIONS",
    "LOADING",
    "TOKEN",
    "Callback",
    "FakeDiscord",
    "FakeInteraction",
    "FakeUser",
    "GatewaySession",
    "Json",
    "RequestRecord",
    "Upload",
    "fake_discord",
]


class FakeDiscord(GatewayMixin, RestMixin, ObjectsMixin):
    """``async with FakeDiscord() as discord:`` serves on an ephemeral loopback port."""

    def __init__(self, *, token: str = TOKEN) -> None:
        self.token = token
        self.snowflake = Snowflakes()
        self.application_id = self.snowflake()
        self.bot = FakeUser(self.application_id, "Wavelength", bot=True)
        self.guild_id = self.snowflake()
        self.channel_id = self.snowflake()  # the guild's text channel, "#radio"
        self._users: dict[int, FakeUser] = {self.bot.id: self.bot}
        self.owner = self.new_user("owner")
        self.interaction_deadline = 3.0  # Discord's limit for the first callback
        self.heartbeat_interval_ms = 41_250
        # Requests per bucket per window (seconds). Discord is stricter (reactions: about one
        # per 0.25 s per channel); roomy here so tests run fast, tightened where obeying it
        # is the point.
        self.rate_limit = (1000, 1.0)
        self.global_commands: list[Json] = []
        self.guild_commands: dict[int, list[Json]] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.messages: dict[int, Json] = {}
        self.uploads: dict[int, bytes] = {}  # attachment id -> the file's bytes
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.closed_dms: set[int] = set()
        self.requests: list[RequestRecord] = []
        self.unhandled: list[str] = []
        self.identifies = 0
        self.heartbeats = 0
        self.resumes = 0
        self._faults: list[Fault] = []
        self._buckets: dict[str, Bucket] = {}
        self.sessions: list[GatewaySession] = []  # every gateway connection, closed ones too
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        # Discord takes requests of up to 25 MiB with files; the per-file limit is its own check.
        app = web.Application(middlewares=[self._middleware], client_max_size=25 * 1024 * 1024)
        app.router.add_get("/gateway-ws", self._gateway)
        app.router.add_get("/gateway-ws/", self._gateway)
        self._routes(app.router)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self._port = server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for session in self.sessions:
            await session.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self._port}{API}"

    @property
    def cdn_base(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway-ws"

    @contextlib.contextmanager
    def patched(self) -> Iterator[None]:
        """Point discord.py at this fake (REST base and default gateway), restored after."""
        saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        Route.BASE = self.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved

    # -- test API: people, faults, waiting --------------------------------------------------------

    def new_user(self, username: str, global_name: str | None = None) -> FakeUser:
        user = FakeUser(self.snowflake(), username, global_name)
        self._users[user.id] = user
        return user

    async def reconnect(self) -> None:
        """Op 7 RECONNECT to every session, as Discord does before moving a bot to another
        gateway server; the client should come back and RESUME."""
        for session in self.sessions:
            if not session.ws.closed:
                await self._send(session, {"op": 7})

    def close_dms(self, user: FakeUser) -> None:
        """The user turned off DMs from server members (or blocked the bot)."""
        self.closed_dms.add(user.id)

    def fault(
        self,
        method: str,
        path: str,
        *,
        status: int = 429,
        times: int = 1,
        retry_after: float = 0.05,
        is_global: bool = False,
        code: int = 0,
        message: str = "",
        skip: int = 0,
        late: float = 0.0,
    ) -> None:
        """The next ``times`` requests matching ``method`` and the ``path`` regex (after
        /api/v10) fail with ``status``, once ``skip`` of them have passed; 429s carry
        ``retry_after`` like Discord's. With ``late`` they don't fail: Discord carries them
        out (the message is posted) and answers ``late`` seconds later, after a client
        with a shorter timeout has given up."""
        self._faults.append(
            Fault(
                method.upper(),
                re.compile(path),
                status,
                times,
                retry_after,
                is_global,
                code,
                message or f"{status} fault",
                skip,
                late,
            )
        )

    async def until(self, predicate: Callable[[], bool], *, timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` holds: checked after every request and gateway event,
        and every 10 ms for predicates on things outside the fake (logs, the database)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._changed:
            while not predicate():
                left = deadline - loop.time()
                if left <= 0:
                    raise TimeoutError(f"condition not met within {timeout} s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), min(left, 0.01))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    @property
    def connected(self) -> int:
        """Gateway sessions that identified and are still open."""
        return sum(1 for s in self.sessions if s.identified and not s.ws.closed)

    def channel_messages(self, channel_id: int) -> list[Json]:
        return [
            m
            for m in self.messages.values()
            if int(m["channel_id"]) == channel_id and not m.get("deleted")
        ]

    def bot_reactions(self, message: Json) -> list[str]:
        """The emoji the bot itself put under ``message``, in order."""
        return [r["emoji"]["name"] for r in message["reactions"] if self.bot.id in r["users"]]

    def user_message(self, user: FakeUser, content: str) -> Json:
        """A message ``user`` wrote in the server's channel (bots without the message intents
        never see it arrive, but people can react to it)."""
        message = self._store_message(self.channel_id, {"content": content}, None, msg_type=0)
        message["author"] = user.payload()
        return message

    def upload(self, attachment: Json) -> bytes:
        """The bytes of a file the bot attached (``message["attachments"][n]``)."""
        return self.uploads[int(attachment["id"])]

    def dm_channel(self, user: FakeUser) -> int | None:
        return self.dm_channels.get(user.id)

    # -- test API: events -------------------------------------------------------------------------

    async def slash(
        self,
        name: str,
        user: FakeUser,
        options: Mapping[str, object] | None = None,
        *,
        dm: bool = False,
    ) -> FakeInteraction:
        """A user runs ``/name`` with ``options`` (typed per the registered command)."""
        return await self._command(name, user, options or {}, dm=dm, kind=2, focused=None)

    async def autocomplete(
        self,
        name: str,
        user: FakeUser,
        options: Mapping[str, object],
        *,
        focused: str,
        dm: bool = False,
    ) -> FakeInteraction:
        """The user is typing option ``focused`` of ``/name``: an autocomplete interaction."""
        return await self._command(name, user, options, dm=dm, kind=4, focused=focused)

    async def message_command(
        self, name: str, user: FakeUser, message: Json, *, dm: bool = False
    ) -> FakeInteraction:
        """A message context-menu command (Apps → ``name``) on ``message``."""
        command = self._registered(name, 3)
        data: Json = {
            "id": command["id"] if command else str(self.snowflake()),
            "name": name,
            "type": 3,
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: self.wire(message)}},
        }
        return await self._interact(2, data, user, dm=dm, name=name)

    async def react(self, user: FakeUser, message: Json, emoji: str) -> None:
        """``user`` clicks ``emoji`` under ``message``."""
        name = CANONICAL_EMOJI.get(emoji, emoji)
        self._add_reaction(message, name, user.id)
        await self._reaction_event("MESSAGE_REACTION_ADD", message, name, user)

    async def unreact(self, user: FakeUser, message: Json, emoji: str) -> None:
        name = CANONICAL_EMOJI.get(emoji, emoji)
        self._remove_reaction(message, name, user.id)
        await self._reaction_event("MESSAGE_REACTION_REMOVE", message, name, user)

    async def _command(
        self,
        name: str,
        user: FakeUser,
        options: Mapping[str, object],
        *,
        dm: bool,
        kind: int,
        focused: str | None,
    ) -> FakeInteraction:
        command = self._registered(name, 1)
        if command is not None and kind == 2:
            refused_by_client(command, options)
        schema = {o["name"]: o["type"] for o in (command or {}).get("options", [])}
        sent = []
        for key, value in options.items():
            option: Json = {"name": key, "type": schema.get(key, 3), "value": value}
            if key == focused:
                option["focused"] = True
            sent.append(option)
        data: Json = {
            "id": command["id"] if command else str(self.snowflake()),
            "name": name,
            "type": 1,
        }
        if sent:
            data["options"] = sent
        if command and command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return await self._interact(kind, data, user, dm=dm, name=name)

    def _registered(self, name: str, kind: int) -> Json | None:
        pool = self.guild_commands.get(self.guild_id, []) + self.global_commands
        return next((c for c in pool if c["name"] == name and c.get("type", 1) == kind), None)

    async def _interact(
        self, kind: int, data: Json, user: FakeUser, *, dm: bool, name: str
    ) -> FakeInteraction:
        channel_id = self._open_dm(user) if dm else self.channel_id
        record = FakeInteraction(
            id=self.snowflake(),
            token="aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
            type=kind,
            name=name,
            user=user,
            channel_id=channel_id,
            guild_id=None if dm else self.guild_id,
            dispatched_at=time.monotonic(),
        )
        self.interactions[record.id] = record
        payload: Json = {
            "id": str(record.id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": record.token,
            "version": 1,
            "locale": "en-US",
            "attachment_size_limit": 10_485_760,
            "entitlements": [],
            "app_permissions": "2248473465835073",
            "channel_id": str(channel_id),
        }
        if dm:
            payload["user"] = user.payload()
            payload["context"] = 1
            payload["channel"] = self._dm_payload(user, channel_id)
            payload["authorizing_integration_owners"] = {"0": str(self.guild_id)}
        else:
            payload["guild_id"] = str(self.guild_id)
            payload["guild"] = {"id": str(self.guild_id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["context"] = 0
            payload["channel"] = self._text_channel_payload()
            payload["member"] = {**self._member(user), "permissions": "2248473465835073"}
            payload["authorizing_integration_owners"] = {"0": str(self.guild_id)}
        record.dispatched_at = time.monotonic()
        await self._dispatch("INTERACTION_CREATE", payload, intent=None)
        return record

    async def _reaction_event(
        self, event: str, message: Json, emoji: str, user: FakeUser, *, required: bool = True
    ) -> None:
        guild_id = message.get("guild_id")
        data: Json = {
            "user_id": str(user.id),
            "channel_id": message["channel_id"],
            "message_id": message["id"],
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        if event == "MESSAGE_REACTION_ADD":
            data["message_author_id"] = message["author"]["id"]
            data["burst_colors"] = []
        if guild_id:
            data["guild_id"] = guild_id
            if event == "MESSAGE_REACTION_ADD":
                data["member"] = self._member(user)
        intent = GUILD_MESSAGE_REACTIONS if guild_id else DIRECT_MESSAGE_REACTIONS
        await self._dispatch(event, data, intent=intent, required=required)


@contextlib.asynccontextmanager
async def fake_discord(*, token: str = TOKEN) -> AsyncIterator[FakeDiscord]:
    """A running fake with discord.py pointed at it."""
    async with FakeDiscord(token=token) as fake:
        with fake.patched():
            yield fake
