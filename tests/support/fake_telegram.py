"""A local Telegram Bot API server for tests: the real wire protocol on loopback.

PTB (or any client) talks to it over HTTP exactly as to api.telegram.org: ``POST/GET
/bot<token>/<method>`` with JSON, urlencoded or multipart bodies, answered with
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description",
"parameters"}``. Tests play the people: they inject text messages, button presses and native
reactions as updates, read back what the bot sent, and switch on the platform's bad days
(429 flood waits, a user who blocked the bot, 400s, 500s, slow answers, and answers that
come after the client's timeout for messages that did arrive).

What Telegram enforces and a test can observe is enforced here too: message length, the
64-byte callback data, "message is not modified", answering a callback query once, the fixed
set of reaction emoji, ``allowed_updates`` (reactions arrive only when asked for), group
privacy mode, one getUpdates at a time, no getUpdates while a webhook is set, HTTPS webhooks,
and per-chat / overall flood limits (with bursts, as Telegram allows). Photos are uploaded as
multipart parts (or resent by file_id) and checked as Telegram checks them: a PNG or JPEG of at
most 10 MB, sides adding up to at most 10000 px, a ratio of at most 20, a caption of at most
1024 UTF-16 units (the unit Telegram counts lengths in, for text too).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import struct
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientSession, ClientTimeout, web

JSON = dict[str, Any]

DEFAULT_UPDATES = frozenset(
    {"message", "edited_message", "callback_query", "my_chat_member", "inline_query"}
)
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Telegram offers a fixed set of reaction emoji (no ⏭, no ❤️ with VS16: "❤" is the one).
_REACTION_EMOJI_TEXT = (
    "👍 👎 ❤ 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤\u200d🔥 🌚 🌭 💯 🤣 ⚡ 🍌 "
    "🏆 💔 🤨 😐 🍓 🍾 💋 🖕 😈 😴 😭 🤓 👻 👨\u200d💻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 "
    "🙉 🦄 😘 💊 🙊 😎 👾 🤷\u200d♂ 🤷 🤷\u200d♀ 😡"
)
REACTION_EMOJI = frozenset(_REACTION_EMOJI_TEXT.split())
CHAT_ACTIONS = frozenset({"typing", "upload_photo", "record_video", "upload_document"})
_INT = {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time", "max_connections"}
_BOOL = {
    "drop_pending_updates",
    "show_alert",
    "is_big",
    "disable_notification",
    "has_spoiler",
    "show_caption_above_media",
}
_JSON = {"reply_markup", "allowed_updates", "reaction", "commands", "scope", "reply_parameters"}
_LIMITED = {"sendMessage", "editMessageText", "editMessageReplyMarkup"}
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
# Ids are unique across fakes: tests share one database, where a chat id names a person.
_IDS = itertools.count(1)
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
MAX_PHOTO_BYTES = 10 * 1000 * 1000
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # what the Bot API takes in one request


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass(frozen=True, slots=True)
class Limits:
    """Flood limits as Telegram applies them: per chat about one message a second (groups 20
    a minute) with short bursts allowed, and about 30 a second overall."""

    per_chat_per_s: float = 1.0
    chat_burst: int = 5
    group_per_min: float = 20.0
    global_per_s: float = 30.0

    def scaled(self, factor: float) -> Limits:
        return Limits(
            self.per_chat_per_s * factor,
            self.chat_burst,
            self.group_per_min * factor,
            self.global_per_s * factor,
        )


@dataclass(slots=True)
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    at: float

    def take(self, now: float) -> float:
        """0 when a token was taken, else the seconds until one is there."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass(slots=True)
class BotMessage:
    """A message the bot sent, as the chat shows it now (edits applied). For a photo,
    ``photo`` holds the picture's bytes and ``text`` its caption ("" without one)."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: JSON | None = None
    parse_mode: str | None = None
    reply_to: int | None = None
    edits: int = 0
    photo: bytes | None = None

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """(text, callback_data) per button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[(b["text"], b.get("callback_data", "")) for b in row] for row in rows]


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class _Fault:
    method: str
    chat_id: int | None
    times: int
    error: ApiError | None = None
    delay: float = 0.0
    after: int = 0  # matching calls to let through first
    late: bool = False  # carried out at once, answered after ``delay``


class FakeTelegram:
    """One bot's view of Telegram. Use ``async with FakeTelegram() as tg:``."""

    def __init__(
        self,
        *,
        token: str = "123456789:AAFakeTokenForTestsOnly_abcdefghijk",  # noqa: S107 (a fake)
        username: str = "wavelength_test_bot",
        limits: Limits | None = Limits(),
        privacy: bool = True,
    ) -> None:
        self.token = token
        self.me: JSON = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Wavelength",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": not privacy,
            "supports_inline_queries": False,
        }
        self.limits = limits
        self.privacy = privacy
        self.requests: list[tuple[str, JSON]] = []  # every call, in order
        self.sent: dict[int, list[BotMessage]] = defaultdict(list)
        self.send_times: dict[int, list[float]] = defaultdict(list)  # monotonic, per chat
        self.callback_answers: list[JSON] = []
        self.reactions_set: list[JSON] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.throttled: list[tuple[str, int]] = []  # flood limits the bot ran into
        self.commands: dict[str, list[JSON]] = {}
        self.files: dict[str, bytes] = {}  # photos received, by file_id
        self.webhook: JSON | None = None
        self.webhook_statuses: list[int] = []
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATES
        self._chats: dict[int, JSON] = {}
        self._admin_in: set[int] = set()
        self._blocked: set[int] = set()
        self._messages: dict[tuple[int, int], JSON] = {}  # every message, by (chat, id)
        self._next_message: dict[int, itertools.count[int]] = {}
        self._updates: list[JSON] = []
        self.pushed_ids: set[int] = set()  # every update created, for tests to wait on
        self._update_ids = itertools.count(100_000)
        self._queries: dict[str, JSON] = {}
        self._faults: list[_Fault] = []
        self._poller: asyncio.Future[None] | None = None
        self._changed = asyncio.Event()
        self._closing = False
        self._buckets: dict[object, _Bucket] = {}
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._deliverer: asyncio.Task[None] | None = None
        self._webhook_target: str | None = None
        self.base = ""

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._endpoint)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"
        self._session = ClientSession(timeout=ClientTimeout(total=5))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(None)
        if self._deliverer is not None:
            self._deliverer.cancel()
            await asyncio.gather(self._deliverer, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url``: PTB appends the token and the method."""
        return f"{self.base}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.base}/file/bot"

    # -- the people: chats, users and what they do ----------------------------------------

    def user(self, first_name: str, *, username: str | None = None, language: str = "en") -> JSON:
        user = {"id": 700_000_000 + next(_IDS), "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        user["language_code"] = language
        return user

    def private(self, user: JSON) -> JSON:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        self._chats[chat["id"]] = chat
        return chat

    def group(self, title: str, *, admin: bool = False) -> JSON:
        chat = {"id": -1_001_000_000_000 - next(_IDS), "type": "supergroup", "title": title}
        self._chats[chat["id"]] = chat
        if admin:
            self._admin_in.add(chat["id"])
        return chat

    def block(self, chat: JSON) -> None:
        """The user blocked the bot: sending to their private chat answers 403."""
        self._blocked.add(chat["id"])

    def send(self, user: JSON, text: str, *, chat: JSON | None = None) -> JSON | None:
        """``user`` writes ``text``; None when privacy mode keeps it from the bot."""
        chat = chat or self.private(user)
        entities = []
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            entities.append({"type": "bot_command", "offset": 0, "length": command.end()})
        mention = f"@{self.me['username']}"
        if chat["type"] != "private" and self.privacy and not command and mention not in text:
            return None
        message = self._new_message(chat, user, text=text)
        if entities:
            message["entities"] = entities
        self._push({"message": message})
        return message

    def press(self, user: JSON, message: BotMessage, data: str) -> str:
        """``user`` taps the button with ``data`` under the bot's ``message``."""
        query_id = str(4_000_000_000 + next(_IDS))
        query = {
            "id": query_id,
            "from": user,
            "message": self._messages[(message.chat_id, message.message_id)],
            "chat_instance": str(-8_000_000 - message.chat_id),
            "data": data,
        }
        self._queries[query_id] = query
        self._push({"callback_query": query})
        return query_id

    def react(
        self, user: JSON, message: BotMessage, new: Iterable[str], old: Iterable[str] = ()
    ) -> bool:
        """``user`` changes their reaction on ``message`` from ``old`` to ``new`` emoji;
        whether the bot is told (allowed_updates, admin rights in groups)."""
        new, old = list(new), list(old)
        for emoji in new + old:
            if emoji not in REACTION_EMOJI:
                raise ValueError(f"Telegram has no {emoji!r} reaction")
        chat = self._chats[message.chat_id]
        if chat["type"] != "private" and chat["id"] not in self._admin_in:
            return False
        update = {
            "message_reaction": {
                "chat": chat,
                "message_id": message.message_id,
                "user": user,
                "date": int(time.time()),
                "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
                "new_reaction": [{"type": "emoji", "emoji": e} for e in new],
            }
        }
        return self._push(update)

    def push_raw(self, update: JSON) -> bool:
        """An update as given (odd shapes the helpers don't make)."""
        return self._push(update)

    # -- faults -------------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat: JSON | None = None,
        after: int = 0,
    ) -> None:
        """The next ``times`` calls of ``method`` (to ``chat``) answer this error; with
        ``after``, once that many have gone through (a failure in the middle of a batch)."""
        error = ApiError(code, description, retry_after)
        self._faults.append(_Fault(method, chat and chat["id"], times, error=error, after=after))

    def slow(
        self, method: str, seconds: float, *, times: int = 1, chat: JSON | None = None
    ) -> None:
        """The next ``times`` calls of ``method`` (to ``chat``) answer after ``seconds``."""
        self._faults.append(_Fault(method, chat and chat["id"], times, delay=seconds))

    def answer_late(
        self, method: str, seconds: float, *, times: int = 1, chat: JSON | None = None
    ) -> None:
        """The next ``times`` calls of ``method`` (to ``chat``) are carried out at once, as
        Telegram took them (the message is in the chat), and answered only after
        ``seconds``: a client whose timeout is shorter gives up on a message that arrived.
        (``slow`` is the other case: no answer, and nothing done.)"""
        self._faults.append(_Fault(method, chat and chat["id"], times, delay=seconds, late=True))

    def route_webhooks_to(self, base: str) -> None:
        """A reverse proxy in front of the bot: Telegram posts to the public HTTPS URL, the
        proxy forwards the same path to ``base``."""
        self._webhook_target = base

    # -- what the bot did ---------------------------------------------------------------------

    def texts(self, chat: JSON) -> list[str]:
        return [m.text for m in self.sent[chat["id"]]]

    def calls(self, method: str) -> list[JSON]:
        return [params for name, params in self.requests if name == method]

    async def wait_until(self, check: Callable[[], object], timeout: float = 10.0) -> None:
        """Until ``check()`` is true; re-checked after every request the bot makes."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not check():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"timed out waiting; last calls: {self.requests[-5:]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.2))

    def notify(self) -> None:
        """Wake ``wait_until`` (for tests that learn of progress some other way)."""
        self._changed.set()

    # -- the wire -----------------------------------------------------------------------------

    async def _endpoint(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = _coerce(await _params(request))
        except ApiError as exc:
            return _error(exc)
        self.requests.append((method, params))
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        try:
            late = await self._apply_faults(method, params)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as exc:
            return _error(exc)
        finally:
            self._changed.set()
        if late:
            # Done already; a client that gives up now cancels only the answer.
            await asyncio.sleep(late)
        return web.json_response({"ok": True, "result": result})

    async def _apply_faults(self, method: str, params: JSON) -> float:
        """Raises or stalls before the call is carried out; returns how long to hold its
        answer back afterwards (0: answer at once)."""
        for fault in self._faults:
            if fault.method != method or fault.times <= 0:
                continue
            if fault.chat_id is not None and fault.chat_id != params.get("chat_id"):
                continue
            if fault.after > 0:
                fault.after -= 1
                continue
            fault.times -= 1
            if fault.late:
                return fault.delay
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.error is not None:
                raise fault.error
            return 0.0
        return 0.0

    def _push(self, update: JSON) -> bool:
        kind = next(iter(update))
        if kind not in self.allowed_updates:
            return False  # Telegram never creates updates the bot didn't ask for
        update_id = next(self._update_ids)
        self.pushed_ids.add(update_id)
        self._updates.append({"update_id": update_id, **update})
        if self.webhook is not None:
            self._deliver_soon()
        elif self._poller is not None and not self._poller.done():
            self._poller.set_result(None)
        return True

    def _new_message(self, chat: JSON, sender: JSON, **content: Any) -> JSON:
        counter = self._next_message.setdefault(chat["id"], itertools.count(1))
        message = {
            "message_id": next(counter),
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    def _chat(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id not in self._chats:
            raise ApiError(400, "Bad Request: chat not found")
        return self._chats[chat_id]

    def _flood(self, method: str, chat: JSON) -> None:
        if self.limits is None:
            return
        now = time.monotonic()
        lim = self.limits
        group = chat["type"] != "private"
        rate = lim.group_per_min / 60 if group else lim.per_chat_per_s
        for key, r, cap in (
            (chat["id"], rate, lim.chat_burst),
            ("*", lim.global_per_s, lim.global_per_s),
        ):
            bucket = self._buckets.setdefault(key, _Bucket(r, cap, cap, now))
            wait = bucket.take(now)
            if wait:
                self.throttled.append((method, chat["id"]))
                seconds = max(1, int(wait + 0.999))
                raise ApiError(429, f"Too Many Requests: retry after {seconds}", seconds)
        self.send_times[chat["id"]].append(now)

    def _own_message(self, params: JSON) -> tuple[JSON, BotMessage]:
        chat = self._chat(params)
        key = (chat["id"], params.get("message_id"))
        if key not in self._messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        if self._messages[key]["from"]["id"] != self.me["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        sent = next(m for m in self.sent[chat["id"]] if m.message_id == key[1])
        return self._messages[key], sent

    # -- methods ------------------------------------------------------------------------------

    async def _m_getMe(self, params: JSON) -> JSON:
        return self.me

    async def _m_deleteWebhook(self, params: JSON) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_setWebhook(self, params: JSON) -> bool:
        url = str(params.get("url", ""))
        if not url:
            return await self._m_deleteWebhook(params)
        if not url.startswith("https://"):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._set_allowed(params.get("allowed_updates"))
        self.webhook = {"url": url, "secret_token": secret}
        self._deliver_soon()
        return True

    async def _m_getWebhookInfo(self, params: JSON) -> JSON:
        url = self.webhook["url"] if self.webhook else ""
        return {
            "url": url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _m_getUpdates(self, params: JSON) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        if self._poller is not None and not self._poller.done():
            self._poller.set_exception(
                ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            )
        self._set_allowed(params.get("allowed_updates"))
        offset = int(params.get("offset") or 0)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0 and not self._closing:
            waiter = self._poller = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(asyncio.shield(waiter), timeout)
            except TimeoutError:
                pass
            finally:
                if self._poller is waiter:
                    self._poller = None
        limit = int(params.get("limit") or 100)
        return self._updates[: max(1, min(limit, 100))]

    def _set_allowed(self, allowed: object) -> None:
        if allowed is None:
            return  # "If not specified, the previous setting will be used."
        asked = frozenset(allowed) if isinstance(allowed, list) else frozenset()
        self.allowed_updates = asked or DEFAULT_UPDATES

    async def _m_setMyCommands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100")
        for c in commands:
            if not _COMMAND.fullmatch(str(c.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[json.dumps(params.get("scope") or {"type": "default"})] = commands
        return True

    async def _m_getMyCommands(self, params: JSON) -> list[JSON]:
        return self.commands.get(json.dumps(params.get("scope") or {"type": "default"}), [])

    async def _m_sendChatAction(self, params: JSON) -> bool:
        chat = self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self.chat_actions.append((chat["id"], str(params["action"])))
        return True

    async def _m_sendMessage(self, params: JSON) -> JSON:
        chat = self._chat(params)
        text = _checked_text(params)
        markup = _checked_markup(params.get("reply_markup"))
        self._flood("sendMessage", chat)
        return self._post(chat, params, markup, text=text)

    async def _m_sendPhoto(self, params: JSON) -> JSON:
        chat = self._chat(params)
        png, (width, height) = self._photo(params.get("photo"))
        caption = _checked_caption(params)
        markup = _checked_markup(params.get("reply_markup"))
        self._flood("sendPhoto", chat)
        file_id = f"AgACAgQAAx{next(_IDS):08d}"
        self.files[file_id] = png
        unique = file_id[-8:]
        small = max(width, height) / 90
        sizes = [
            {"file_id": file_id + "_s", "file_unique_id": unique + "s",
             "width": max(1, round(width / small)), "height": max(1, round(height / small))},
            {"file_id": file_id, "file_unique_id": unique, "width": width, "height": height,
             "file_size": len(png)},
        ]  # fmt: skip
        return self._post(chat, params, markup, text=caption, photo=png, sizes=sizes)

    def _post(
        self,
        chat: JSON,
        params: JSON,
        markup: JSON | None,
        *,
        text: str,
        photo: bytes | None = None,
        sizes: list[JSON] | None = None,
    ) -> JSON:
        """A checked message from the bot lands in ``chat``."""
        content: JSON = {"photo": sizes} if photo is not None else {"text": text}
        if photo is not None and text:
            content["caption"] = text
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id") or params.get("reply_to_message_id")
        if reply_to is not None:
            original = self._messages.get((chat["id"], int(reply_to)))
            if original is not None:
                content["reply_to_message"] = original
            elif not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
        if markup:
            content["reply_markup"] = markup
        message = self._new_message(chat, self.me, **content)
        self.sent[chat["id"]].append(
            BotMessage(
                chat["id"],
                message["message_id"],
                text,
                markup,
                params.get("parse_mode"),
                reply_to if "reply_to_message" in content else None,
                photo=photo,
            )
        )
        return message

    def _photo(self, photo: object) -> tuple[bytes, tuple[int, int]]:
        """The picture a sendPhoto names (an upload or a file_id we gave) and its size."""
        if isinstance(photo, str):
            if photo not in self.files:  # a URL too: this fake fetches nothing
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            data = self.files[photo]
        elif isinstance(photo, Upload):
            data = photo.data
        else:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        if len(data) > MAX_PHOTO_BYTES:
            raise ApiError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
        size = _image_size(data)
        if size is None:
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        width, height = size
        if width + height > 10_000 or max(width, height) > 20 * min(width, height):
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        return data, size

    async def _m_editMessageText(self, params: JSON) -> JSON:
        message, sent = self._own_message(params)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = _checked_text(params)
        markup = _checked_markup(params.get("reply_markup"))  # none: the keyboard goes
        if text == message["text"] and markup == message.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        self._flood("editMessageText", message["chat"])
        return self._edit(message, sent, text=text, markup=markup)

    async def _m_editMessageReplyMarkup(self, params: JSON) -> JSON:
        message, sent = self._own_message(params)
        markup = _checked_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        self._flood("editMessageReplyMarkup", message["chat"])
        return self._edit(message, sent, text=message.get("text"), markup=markup)

    @staticmethod
    def _edit(message: JSON, sent: BotMessage, *, text: str | None, markup: JSON | None) -> JSON:
        if text is not None:  # None: a photo, whose caption stays
            message["text"] = sent.text = text
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        sent.reply_markup = markup
        sent.edits += 1
        message["edit_date"] = int(time.time())
        return message

    async def _m_answerCallbackQuery(self, params: JSON) -> bool:
        query = self._queries.pop(str(params.get("callback_query_id")), None)
        if query is None:
            raise ApiError(400, QUERY_TOO_OLD)
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers.append({**params, "query": query})
        return True

    async def _m_setMessageReaction(self, params: JSON) -> bool:
        chat = self._chat(params)
        if (chat["id"], params.get("message_id")) not in self._messages:
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        reaction = params.get("reaction") or []
        for r in reaction:
            if r.get("type") == "emoji" and r.get("emoji") not in REACTION_EMOJI:
                raise ApiError(400, "Bad Request: REACTION_INVALID")
        self.reactions_set.append(params)
        return True

    # -- webhook delivery ---------------------------------------------------------------------

    def _deliver_soon(self) -> None:
        if self._deliverer is None or self._deliverer.done():
            self._deliverer = asyncio.get_running_loop().create_task(self._deliver())

    async def _deliver(self) -> None:
        """Posts pending updates one at a time, in order; a failed post is retried, as
        Telegram keeps trying for a while."""
        assert self._session is not None
        while self.webhook is not None and self._updates and not self._closing:
            url = self.webhook["url"]
            if self._webhook_target:
                url = self._webhook_target + urlsplit(url).path
            headers = {}
            if self.webhook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = str(self.webhook["secret_token"])
            update = self._updates[0]
            try:
                async with self._session.post(url, json=update, headers=headers) as response:
                    status = response.status
            except OSError:
                status = 0
            self.webhook_statuses.append(status)
            self._changed.set()
            if 200 <= status < 300:
                self._updates.remove(update)
            else:
                await asyncio.sleep(0.05)


async def _params(request: web.Request) -> JSON:
    params: JSON = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: request body must be a JSON object")
            params.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):  # a multipart file part
                    params[key] = Upload(value.filename, value.content_type, value.file.read())
                elif isinstance(value, str):
                    params[key] = value
    return params


def _coerce(params: JSON) -> JSON:
    """Form values are strings (JSON-serialized for objects), as the Bot API accepts them."""
    out: JSON = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in _INT and re.fullmatch(r"-?\d+", value):
                value = int(value)
            elif key in _BOOL:
                value = value.lower() in ("true", "1")
            elif key in _JSON:
                try:
                    value = json.loads(value)
                except ValueError:
                    raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
        out[key] = value
    return out


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _checked_text(params: JSON) -> str:
    text = str(params.get("text") or "").strip()  # Telegram trims what it stores
    if not text:
        raise ApiError(400, "Bad Request: message text is empty")
    if _units(text) > 4096:
        raise ApiError(400, "Bad Request: message is too long")
    _check_markdown(params, text)
    return text


def _checked_caption(params: JSON) -> str:
    caption = str(params.get("caption") or "").strip()
    if _units(caption) > 1024:
        raise ApiError(400, "Bad Request: message caption is too long")
    _check_markdown(params, caption)
    return caption


def _check_markdown(params: JSON, text: str) -> None:
    if params.get("parse_mode") == "MarkdownV2":
        bad = re.search(r"(?<!\\)[>#+\-=|{}.!]", text)
        if bad:
            raise ApiError(
                400,
                f"Bad Request: can't parse entities: Character '{bad.group()}' is reserved "
                "and must be escaped with the preceding '\\'",
            )


def png(width: int, height: int) -> bytes:
    """A valid grey PNG of that size, for tests to send."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))  # filter 0, grey
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or a JPEG; None for anything else (or a broken one)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return (width, height) if width and height else None
    if not data.startswith(b"\xff\xd8"):
        return None
    at = 2
    while at + 9 <= len(data) and data[at] == 0xFF:
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a frame header
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return (width, height) if width and height else None
        at += 2 + length
    return None


def _checked_markup(markup: object) -> JSON | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _error(exc: ApiError) -> web.Response:
    body: JSON = {"ok": False, "error_code": exc.code, "description": exc.description}
    if exc.retry_after is not None:
        body["parameters"] = {"retry_after": exc.retry_after}
    return web.json_response(body, status=exc.code)
