"""Messages Wavelength starts (daily picks, "Linked to Spotify"): sent by DM exactly like a
command's answer, cards with reaction buttons included, through the bot's own HTTP client
and so through discord.py's rate limiter. Every outcome is a ``Delivered``; Discord's
refusals never raise."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.chat import Delivered, Who
from bot.discord._deliver import CLOSED_DMS, deliver, describe

if TYPE_CHECKING:
    from bot.conversation import Reply
    from bot.discord._engine import Engine

log = logging.getLogger(__name__)
PLATFORM = "discord"
UNKNOWN_USER = 10013  # the account is gone
INVALID_RECIPIENT = 50033  # no such user to open a DM with
# Discord will not take a DM for this account, now or on a retry: the engine marks it.
UNREACHABLE = {CLOSED_DMS, UNKNOWN_USER, INVALID_RECIPIENT}


class DiscordOutbox:
    """``ChatEngine.message`` → a person's DMs. Registered by the running bot."""

    platform = PLATFORM

    def __init__(self, client: discord.Client, engine: Engine) -> None:
        self._client = client
        self._engine = engine

    async def send(self, account: str, replies: Sequence[Reply]) -> Delivered:
        """``replies`` in ``account``'s DMs, in order; stops at the first message Discord
        refuses (``note`` then says how many went out before it)."""
        if not replies:
            return Delivered(ok=True, platform=PLATFORM, note="nothing to send")
        if not (account.isascii() and account.isdigit()):
            return Delivered(ok=False, unreachable=True, platform=PLATFORM, note="not a user id")
        sent = 0
        try:
            channel = await self._client.create_dm(discord.Object(int(account)))

            async def post(
                content: str | None = None,
                *,
                embed: discord.Embed | None = None,
                file: discord.File | None = None,
            ) -> discord.Message:
                nonlocal sent
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
            return _refused(exc, account, sent)
        except discord.RateLimited as exc:
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
            return Delivered(
                ok=False, platform=PLATFORM, note=_after(type(exc).__name__, sent), sent=sent
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
