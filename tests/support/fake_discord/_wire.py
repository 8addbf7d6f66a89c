"""The records and wire objects of the fake Discord: ids, users, interactions, sessions."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

Json = dict[str, Any]
DISCORD_EPOCH_MS = 1_420_070_400_000
API = "/api/v10"
TOKEN = "fake-bot-token"
# Intent bits (https://discord.com/developers/docs/events/gateway#gateway-intents)
GUILDS = 1 << 0
GUILD_MESSAGE_REACTIONS = 1 << 10
DIRECT_MESSAGE_REACTIONS = 1 << 13
# Message flags: LOADING is the "Bot is thinking..." state of a deferred response.
EPHEMERAL, LOADING = 1 << 6, 1 << 7
# Discord stores some emoji with their variation selector; reactions come back that way.
CANONICAL_EMOJI = {"⏭": "⏭️", "❤": "❤️"}
# Uploads: a bot may attach 10 files of up to 10 MiB each to a message (the interaction's
# ``attachment_size_limit``); each attachment's description (alt text) is up to 1024 characters.
MAX_FILES = 10
FILE_SIZE_LIMIT = 10 * 1024 * 1024
ALT_TEXT_LIMIT = 1024


class Snowflakes:
    """Discord ids: milliseconds since 2015 in the high bits, a counter in the low ones."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(self._last + 1, now)
        return self._last


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    def payload(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(slots=True)
class Callback:
    type: int
    data: Json
    after: float  # seconds between the INTERACTION_CREATE dispatch and this callback


@dataclass(slots=True)
class FakeInteraction:
    """One interaction the test dispatched, and everything the bot answered to it."""

    id: int
    token: str
    type: int  # 2 command, 4 autocomplete
    name: str
    user: FakeUser
    channel_id: int
    guild_id: int | None
    dispatched_at: float
    callbacks: list[Callback] = field(default_factory=list)
    late_callbacks: list[float] = field(default_factory=list)  # rejected with 10062
    original: Json | None = None
    followups: list[Json] = field(default_factory=list)

    @property
    def deferred_after(self) -> float | None:
        """Seconds to a type 5 (deferred) callback, None when there was none."""
        return next((c.after for c in self.callbacks if c.type == 5), None)

    @property
    def messages(self) -> list[Json]:
        """What the user sees for this interaction, in order (deleted ones left out)."""
        shown = [self.original] if self.original is not None else []
        return [m for m in shown + self.followups if not m.get("deleted")]

    @property
    def choices(self) -> list[Json]:
        """The autocomplete choices the bot returned."""
        return next((c.data.get("choices", []) for c in self.callbacks if c.type == 8), [])


@dataclass(slots=True)
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    times: int
    retry_after: float
    is_global: bool
    code: int
    message: str
    skip: int = 0  # matching requests that pass before the fault starts
    late: float = 0.0  # > 0: carried out as usual, answered this many seconds later


@dataclass(slots=True)
class Bucket:
    ends: float
    used: int = 0


@dataclass(frozen=True, slots=True)
class Upload:
    """One file part of a multipart/form-data request."""

    field: str  # the form field: "files[0]", "files[1]", ...
    filename: str
    content_type: str | None  # as the client labelled it; Discord sniffs the bytes instead
    data: bytes


@dataclass(slots=True)
class RequestRecord:
    method: str
    path: str  # after /api/v10
    status: int
    at: float  # time.monotonic()
    body: Any = None  # the JSON body, or a multipart request's payload_json
    files: list[Upload] = field(default_factory=list)


@dataclass(slots=True)
class GatewaySession:
    ws: web.WebSocketResponse
    compressor: Any  # zlib compress object, None for plain JSON text frames
    id: str = field(default_factory=lambda: secrets.token_hex(16))
    intents: int = 0
    seq: int = 0
    identified: bool = False
