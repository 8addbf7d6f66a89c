"""REST API v10: the routes Wavelength uses, with auth, faults and rate limit headers."""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import secrets
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.support.fake_discord._rules import (
    choices_problem,
    command_problem,
    error,
    message_problem,
    respond,
    too_many,
)
from tests.support.fake_discord._uploads import (
    BadBody,
    attachment_problem,
    read_body,
    upload_problem,
)
from tests.support.fake_discord._wire import (
    API,
    CANONICAL_EMOJI,
    EPHEMERAL,
    LOADING,
    Bucket,
    Callback,
    FakeInteraction,
    Json,
    RequestRecord,
    Upload,
    now_iso,
)

# What the middleware read of a request's body, for the handlers.
PAYLOAD = web.RequestKey[Any]("payload")
FILES = web.RequestKey[list[Upload]]("files")


def payload(request: web.Request) -> Any:
    """The request's JSON, or a multipart request's payload_json."""
    return request[PAYLOAD]


def uploads(request: web.Request) -> list[Upload]:
    return request[FILES]


def refused_message(
    request: web.Request, body: Json, *, edit: bool = False, existing: Json | None = None
) -> web.Response | None:
    """Discord's answer to a message body (with its files) it won't take; None if it will."""
    files = uploads(request)
    if refused := upload_problem(files):
        return error(*refused)
    problem = message_problem(body, edit=edit, files=len(files)) or attachment_problem(
        body, files, existing=(existing or {}).get("attachments", [])
    )
    return error(400, 50035, f"Invalid Form Body: {problem}") if problem else None


class RestMixin:
    """FakeDiscord's REST side (it owns the state these handlers read and change)."""

    def _routes(self, router: web.UrlDispatcher) -> None:
        add = router.add_route
        add("GET", API + "/gateway", self._get_gateway)
        add("GET", API + "/gateway/bot", self._get_gateway)
        add("GET", API + "/users/@me", self._get_me)
        add("GET", API + "/applications/@me", self._get_application)
        add("GET", API + "/oauth2/applications/@me", self._get_application)  # discord.py's
        add("PUT", API + "/applications/{app}/commands", self._put_commands)
        add("GET", API + "/applications/{app}/commands", self._get_commands)
        add("PUT", API + "/applications/{app}/guilds/{guild_id}/commands", self._put_commands)
        add("GET", API + "/applications/{app}/guilds/{guild_id}/commands", self._get_commands)
        add("POST", API + "/interactions/{iid}/{token}/callback", self._callback)
        add("POST", API + "/webhooks/{app}/{token}", self._followup)
        add("PATCH", API + "/webhooks/{app}/{token}/messages/{mid}", self._edit_webhook_message)
        add("DELETE", API + "/webhooks/{app}/{token}/messages/{mid}", self._delete_webhook_message)
        add("POST", API + "/users/@me/channels", self._open_dm_route)
        add("POST", API + "/channels/{channel_id}/messages", self._create_message)
        add("DELETE", API + "/channels/{channel_id}/messages/{mid}", self._delete_message)
        reaction = API + "/channels/{channel_id}/messages/{mid}/reactions/{emoji}/@me"
        add("PUT", reaction, self._put_reaction)
        add("DELETE", reaction, self._delete_reaction)
        add("*", API + "/{tail:.*}", self._unknown_route)
        # The CDN that attachment URLs point at.
        router.add_get("/attachments/{channel_id}/{aid}/{filename}", self._get_attachment)

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        try:
            return await self._serve(request, handler)
        except Exception as exc:
            # A bug in the fake answers 500, which discord.py retries quietly: tests that
            # check ``unhandled`` see it instead.
            self.unhandled.append(f"{request.method} {request.path}: {exc!r}")
            raise

    async def _serve(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if not request.path.startswith(API):
            response: web.StreamResponse = await handler(request)
            return response
        path = request.path[len(API) :]
        body, files = None, []
        try:
            body, files = await read_body(request)
            unreadable = None
        except BadBody:
            unreadable = error(400, 50109, "The request body contains invalid JSON.")
        request[PAYLOAD], request[FILES] = body, files
        webhooky = path.startswith(("/webhooks/", "/interactions/"))
        late = 0.0
        if not webhooky and request.headers.get("Authorization") != f"Bot {self.token}":
            response = error(401, 0, "401: Unauthorized")
        elif unreadable is not None:
            response = unreadable
        else:
            late = self._lateness(request.method, path)
            response = None if late else self._faulted(request.method, path)
            response = response or self._limited(request)
            if response is None:
                response = await handler(request)
                self._count(request, response)
            if late:
                # Done, not answered yet: status 0 until the answer goes.
                record = RequestRecord(request.method, path, 0, time.monotonic(), body, files)
                self.requests.append(record)
                await self._notify()
                await asyncio.sleep(late)
                record.status = response.status
        if not late:
            self.requests.append(
                RequestRecord(request.method, path, response.status, time.monotonic(), body, files)
            )
        await self._notify()
        return response

    def _lateness(self, method: str, path: str) -> float:
        """Seconds to hold back the answer of a request a ``late`` fault matches (0: none)."""
        for fault in self._faults:
            if fault.late and fault.times > 0 and fault.method == method:
                if not fault.path.search(path):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.times -= 1
                return fault.late
        return 0.0

    def _faulted(self, method: str, path: str) -> web.Response | None:
        for fault in self._faults:
            if fault.late:
                continue
            if fault.times > 0 and fault.method == method and fault.path.search(path):
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.times -= 1
                if fault.status == 429:
                    return too_many(fault.retry_after, is_global=fault.is_global)
                return error(fault.status, fault.code, fault.message)
        return None

    def _bucket(self, request: web.Request) -> tuple[str, str]:
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else request.path
        major = next(
            (
                request.match_info[k]
                for k in ("channel_id", "guild_id", "token")
                if k in request.match_info
            ),
            "",
        )
        name = hashlib.sha1(
            f"{request.method} {template}".encode(), usedforsecurity=False
        ).hexdigest()[:16]
        return name, f"{name}:{major}"

    def _limited(self, request: web.Request) -> web.Response | None:
        """A real 429 when a bucket is spent (discord.py should never get here: it reads the
        headers and waits)."""
        _, key = self._bucket(request)
        bucket = self._buckets.get(key)
        now = time.monotonic()
        if bucket is not None and now < bucket.ends and bucket.used >= self.rate_limit[0]:
            return too_many(bucket.ends - now, is_global=False)
        return None

    def _count(self, request: web.Request, response: web.StreamResponse) -> None:
        name, key = self._bucket(request)
        limit, per = self.rate_limit
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None or now >= bucket.ends:
            bucket = self._buckets[key] = Bucket(ends=now + per)
        bucket.used += 1
        reset_after = max(bucket.ends - now, 0.0)
        response.headers.update(
            {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(max(limit - bucket.used, 0)),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": name,
                "Via": "1.1 google",
            }
        )

    async def _unknown_route(self, request: web.Request) -> web.Response:
        self.unhandled.append(f"{request.method} {request.path}")
        return error(404, 0, "404: Not Found")

    async def _get_gateway(self, request: web.Request) -> web.Response:
        data: Json = {"url": self.gateway_url}
        if request.path.endswith("/bot"):
            data["shards"] = 1
            data["session_start_limit"] = {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14_400_000,
                "max_concurrency": 1,
            }
        return respond(data)

    async def _get_me(self, request: web.Request) -> web.Response:
        me = {**self.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0}
        return respond(me)

    async def _get_application(self, request: web.Request) -> web.Response:
        return respond(
            {
                "id": str(self.application_id),
                "name": "Wavelength",
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": secrets.token_hex(32),
                "flags": 0,
                "team": None,
                "owner": self.owner.payload(),
                "bot": self.bot.payload(),
                "rpc_origins": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "install_params": {"scopes": ["bot", "applications.commands"], "permissions": "0"},
            }
        )

    def _app_ok(self, request: web.Request) -> bool:
        return request.match_info["app"] == str(self.application_id)

    async def _put_commands(self, request: web.Request) -> web.Response:
        if not self._app_ok(request):
            return error(403, 50001, "Missing Access")
        body = payload(request)
        problem = command_problem(body)
        if problem:
            return error(400, 50035, f"Invalid Form Body: {problem}")
        guild = request.match_info.get("guild_id")
        stored = []
        for command in body:
            item = {
                "description": "",  # Discord's default for context menus
                "options": [],
                "nsfw": False,
                "dm_permission": True,
                **command,
                "id": str(self.snowflake()),
                "application_id": str(self.application_id),
                "version": str(self.snowflake()),
                "type": command.get("type", 1),
                "default_member_permissions": command.get("default_member_permissions"),
            }
            if guild:
                item["guild_id"] = guild
            stored.append(item)
        if guild:
            self.guild_commands[int(guild)] = stored
        else:
            self.global_commands = stored
        return respond(stored)

    async def _get_commands(self, request: web.Request) -> web.Response:
        guild = request.match_info.get("guild_id")
        return respond(self.guild_commands.get(int(guild), []) if guild else self.global_commands)

    async def _callback(self, request: web.Request) -> web.Response:
        record = self.interactions.get(int(request.match_info["iid"]))
        if record is None or record.token != request.match_info["token"]:
            return error(404, 10062, "Unknown interaction")
        after = time.monotonic() - record.dispatched_at
        if after > self.interaction_deadline:
            record.late_callbacks.append(after)
            return error(404, 10062, "Unknown interaction")
        if record.callbacks:
            return error(400, 40060, "Interaction has already been acknowledged.")
        body = payload(request)
        kind, data = int(body["type"]), body.get("data") or {}
        allowed = {2: {4, 5, 9}, 4: {8}}[record.type]
        if kind not in allowed:
            return error(
                400,
                50035,
                f"Invalid Form Body: callback type {kind} for interaction type {record.type}",
            )
        if kind == 8:
            problem = choices_problem(data.get("choices"))
            if problem:
                return error(400, 50035, f"Invalid Form Body: {problem}")
        elif kind == 4 and (refused := refused_message(request, data)):
            return refused
        record.callbacks.append(Callback(kind, data, after))
        interaction: Json = {"id": str(record.id), "type": record.type}
        result: Json = {"interaction": interaction}
        if kind in (4, 5):
            flags = int(data.get("flags", 0)) | (LOADING if kind == 5 else 0)
            content = {} if kind == 5 else data
            record.original = self._store_message(
                record.channel_id,
                {**content, "flags": flags},
                record,
                msg_type=20,
                files=uploads(request) if kind == 4 else (),
            )
            interaction["response_message_id"] = record.original["id"]
            interaction["response_message_loading"] = kind == 5
            interaction["response_message_ephemeral"] = bool(flags & EPHEMERAL)
            result["resource"] = {"type": kind, "message": self.wire(record.original)}
        if request.query.get("with_response") in ("1", "true", "True"):
            return respond(result)
        return web.Response(status=204)

    def _interaction_by_token(self, request: web.Request) -> FakeInteraction | None:
        if not self._app_ok(request):
            return None
        token = request.match_info["token"]
        return next((i for i in self.interactions.values() if i.token == token), None)

    async def _followup(self, request: web.Request) -> web.Response:
        record = self._interaction_by_token(request)
        if record is None or not record.callbacks:
            return error(404, 10015, "Unknown Webhook")
        body = payload(request)
        if refused := refused_message(request, body):
            return refused
        original = record.original
        if original is not None and original["flags"] & LOADING:
            # The first followup after a deferral fills in the "thinking..." message.
            self._edit(original, body, uploads(request))
            original["flags"] &= ~LOADING
            message = original
        else:
            message = self._store_message(
                record.channel_id, body, record, msg_type=0, files=uploads(request)
            )
            record.followups.append(message)
        if request.query.get("wait") in ("1", "true", "True"):
            return respond(self.wire(message))
        return web.Response(status=204)

    def _webhook_message(self, request: web.Request) -> tuple[FakeInteraction | None, Json | None]:
        record = self._interaction_by_token(request)
        if record is None:
            return None, None
        mid = request.match_info["mid"]
        if mid == "@original":
            return record, record.original
        found = next((m for m in record.followups if m["id"] == mid), None)
        return record, found

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        record, message = self._webhook_message(request)
        if record is None:
            return error(404, 10015, "Unknown Webhook")
        if message is None or message.get("deleted"):
            return error(404, 10008, "Unknown Message")
        body = payload(request)
        if refused := refused_message(request, body, edit=True, existing=message):
            return refused
        self._edit(message, body, uploads(request))
        message["flags"] &= ~LOADING
        message["edited_timestamp"] = now_iso()
        return respond(self.wire(message))

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        record, message = self._webhook_message(request)
        if record is None:
            return error(404, 10015, "Unknown Webhook")
        if message is None or message.get("deleted"):
            return error(404, 10008, "Unknown Message")
        message["deleted"] = True
        return web.Response(status=204)

    async def _open_dm_route(self, request: web.Request) -> web.Response:
        body = payload(request)
        recipient = str(body.get("recipient_id", ""))
        if not (recipient.isascii() and recipient.isdigit()):
            return error(400, 50035, "Invalid Form Body: recipient_id: Value is not snowflake.")
        user = self._users.get(int(recipient))
        if user is None:
            return error(400, 50033, "Invalid Recipient(s)")
        return respond(self._dm_payload(user, self._open_dm(user)))

    async def _create_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        recipient = next((u for u, c in self.dm_channels.items() if c == channel_id), None)
        if channel_id != self.channel_id and recipient is None:
            return error(404, 10003, "Unknown Channel")
        if recipient in self.closed_dms:
            return error(403, 50007, "Cannot send messages to this user")
        body = payload(request)
        if refused := refused_message(request, body):
            return refused
        message = self._store_message(channel_id, body, None, msg_type=0, files=uploads(request))
        return respond(self.wire(message))

    async def _get_attachment(self, request: web.Request) -> web.Response:
        data = self.uploads.get(int(request.match_info["aid"]))
        if data is None:
            return web.Response(status=404, text="Not Found")
        kind = mimetypes.guess_type(request.match_info["filename"])[0]
        return web.Response(body=data, content_type=kind or "application/octet-stream")

    async def _delete_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        if message is None:
            return error(404, 10008, "Unknown Message")
        message["deleted"] = True
        return web.Response(status=204)

    async def _put_reaction(self, request: web.Request) -> web.Response:
        message = self._message(request)
        if message is None:
            return error(404, 10008, "Unknown Message")
        name = CANONICAL_EMOJI.get(request.match_info["emoji"], request.match_info["emoji"])
        if self._add_reaction(message, name, self.bot.id):
            await self._reaction_event(
                "MESSAGE_REACTION_ADD", message, name, self.bot, required=False
            )
        return web.Response(status=204)

    async def _delete_reaction(self, request: web.Request) -> web.Response:
        message = self._message(request)
        if message is None:
            return error(404, 10008, "Unknown Message")
        name = CANONICAL_EMOJI.get(request.match_info["emoji"], request.match_info["emoji"])
        if self._remove_reaction(message, name, self.bot.id):
            await self._reaction_event(
                "MESSAGE_REACTION_REMOVE", message, name, self.bot, required=False
            )
        return web.Response(status=204)
