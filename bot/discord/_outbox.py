"""Messages Wavelength starts (daily picks, "Linked to Spotify"): sent by DM exactly like a
command's answer, cards with reaction buttons included, through the bot's own HTTP client
and so through discord.py's rate limiter. Every outcome is a ``Delivered``; Discord's
refusals never raise.

discord.py waits for its rate limit buckets inside ``channel.send`` and takes no per-request
argument, so the ``SendGate`` of a scheduled delivery (``bot.gate``) travels in a context
variable set for this one send, and an aiohttp trace on the client's session opens it when
a message request really starts, after any wait. The same trace counts requests that left
and got no answer: a send that fails while one is out (a timeout, a dropped connection) is
``in_doubt``, because Discord may have posted the message; one that fails before anything
left may be sent again.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.chat import Delivered, Who
from bot.discord._deliver import CLOSED_DMS, deliver, describe
from bot.turns import Turns

if TYPE_CHECKING:
    from bot.conversation import Reply
    from bot.discord._engine import Engine
    from bot.gate import SendGate

log = logging.getLogger(__name__)
PLATFORM = "discord"
UNKNOWN_USER = 10013  # the account is gone
INVALID_RECIPIENT = 50033  # no such user to open a DM with
# Discord will not take a DM for this account, now or on a retry: the engine marks it.
UNREACHABLE = {CLOSED_DMS, UNKNOWN_USER, INVALID_RECIPIENT}
# discord.py's session has aiohttp's default limit of 5 minutes per request; a DM that takes
# this long (waiting for a bucket included) is given up and reported instead.
REQUEST_TIMEOUT_S = 30.0
_MESSAGE = re.compile(r"/channels/\d+/messages$")
# Failures that prove the request never reached Discord: no connection was made.
_NEVER_LEFT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


@dataclass(slots=True)
class _Departures:
    """One send's message requests, as the session's trace sees them."""

    gate: SendGate | None
    started: int = 0
    answered: int = 0
    # Posted, by Discord's answer: discord.py may still hold ``channel.send`` back after it
    # (sleeping off a spent bucket), and a timeout then must not count the message unsent.
    posted: int = 0


_SENDING: ContextVar[_Departures | None] = ContextVar("discord_dm_departures", default=None)


async def _on_request_start(
    session: aiohttp.ClientSession,
    context: SimpleNamespace,
    params: aiohttp.TraceRequestStartParams,
) -> None:
    departures = _SENDING.get()
    if departures is None or params.method != "POST" or not _MESSAGE.search(params.url.path):
        return
    if departures.gate is not None:
        await departures.gate.open()  # NotSent propagates out of channel.send: nothing left
    departures.started += 1


async def _on_request_end(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
) -> None:
    departures = _SENDING.get()
    if departures is not None and params.method == "POST" and _MESSAGE.search(params.url.path):
        departures.answered += 1
        departures.posted += 200 <= params.response.status < 300


def _watch(client: discord.Client) -> bool:
    """Trace the client's requests; False when its session exists already (too late)."""
    if client.user is not None:
        return False
    trace = client.http.http_trace or aiohttp.TraceConfig()
    if _on_request_start in trace.on_request_start:
        return True  # a second outbox on the same client
    if trace.on_request_start.frozen:
        return False
    trace.on_request_start.append(_on_request_start)
    trace.on_request_end.append(_on_request_end)
    client.http.http_trace = trace
    return True


class DiscordOutbox:
    """``ChatEngine.message`` → a person's DMs. Made before the client logs in (its trace
    goes into the session the login creates)."""

    platform = PLATFORM

    def __init__(
        self, client: discord.Client, engine: Engine, *, timeout: float = REQUEST_TIMEOUT_S
    ) -> None:
        self._client = client
        self._engine = engine
        self.timeout = timeout  # seconds per request, its wait for discord.py's bucket included
        self._traced = _watch(client)
        # One send per person at a time: on Sundays the daily picks and the nostalgia mix fall
        # due together and the runner sends them side by side; their messages interleaved in
        # the DM (the mix between the picks' header and cards, 7 runs in 8).
        self._turns = Turns()
        if not self._traced:
            log.warning("Discord outbox made after login: gates open before discord.py waits")

    async def send(
        self, account: str, replies: Sequence[Reply], *, gate: SendGate | None = None
    ) -> Delivered:
        """``replies`` in ``account``'s DMs, in order; stops at the first message Discord
        refuses (``note`` then says how many went out before it). ``gate`` opens as the
        first message request starts."""
        if not replies:
            return Delivered(ok=True, platform=PLATFORM, note="nothing to send")
        if not (account.isascii() and account.isdigit()):
            return Delivered(ok=False, unreachable=True, platform=PLATFORM, note="not a user id")
        async with self._turns.turn(account):  # the gate stays shut while waiting: not sent
            departures = _Departures(gate)
            token = _SENDING.set(departures)
            try:
                return await self._send(account, replies, departures)
            finally:
                _SENDING.reset(token)

    async def _send(
        self, account: str, replies: Sequence[Reply], departures: _Departures
    ) -> Delivered:
        sent = 0
        try:
            async with asyncio.timeout(self.timeout):
                channel = await self._client.create_dm(discord.Object(int(account)))

            async def post(
                content: str | None = None,
                *,
                embed: discord.Embed | None = None,
                file: discord.File | None = None,
            ) -> discord.Message:
                nonlocal sent
                if departures.gate is not None and not self._traced:
                    await departures.gate.open()
                async with asyncio.timeout(self.timeout):
                    if embed is not None:
                        message = await channel.send(embed=embed)
                    elif file is not None:
                        message = await channel.send(content, file=file)
                    else:
                        message = await channel.send(content)
                sent += 1
                return message

            await deliver(post, self._engine, Who(PLATFORM, account), replies)
        except discord.HTTPException as exc:
            return _refused(exc, account, max(sent, departures.posted))
        except discord.RateLimited as exc:
            sent = max(sent, departures.posted)
            # Longer than the bot's max_ratelimit_timeout: the scheduler waits, not us.
            log.warning("DM to %s rate limited for %.1f s", account, exc.retry_after)
            return Delivered(
                ok=False,
                retry_after=exc.retry_after,
                platform=PLATFORM,
                note=_after("rate limited", sent),
                sent=sent,
            )
        except (discord.DiscordException, aiohttp.ClientError, OSError) as exc:
            # TimeoutError is an OSError: a connection that hangs or drops.
            log.warning("DM to %s failed: %s", account, type(exc).__name__)
            sent = max(sent, departures.posted)
            unanswered = departures.started > departures.answered
            return Delivered(
                ok=False,
                platform=PLATFORM,
                note=_after(type(exc).__name__, sent),
                sent=sent,
                in_doubt=unanswered and not isinstance(exc, _NEVER_LEFT),
            )
        return Delivered(ok=True, platform=PLATFORM)


def _refused(exc: discord.HTTPException, account: str, sent: int) -> Delivered:
    why = _after(f"{exc.status} (code {exc.code})", sent)
    if exc.code in UNREACHABLE:
        log.info("DM to %s refused: %s", account, describe(exc))
        return Delivered(ok=False, unreachable=True, platform=PLATFORM, note=why, sent=sent)
    log.warning("DM to %s failed: %s", account, describe(exc))
    retry_after = None
    if exc.status == 429:  # still limited after discord.py's own retries
        retry_after = _seconds(exc.response.headers.get("Retry-After"))
    return Delivered(ok=False, retry_after=retry_after, platform=PLATFORM, note=why, sent=sent)


def _after(reason: str, sent: int) -> str:
    """The note; a failure after some messages went out says so, because sending it all
    again repeats those."""
    return f"{reason} after {sent} messages were delivered" if sent else reason


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
