"""The gateway websocket: HELLO, IDENTIFY → READY, heartbeats, RESUME and sequenced,
intent-filtered dispatches, as plain JSON or zlib-stream frames."""

from __future__ import annotations

import json
import zlib

from aiohttp import WSMsgType, web

from tests.support.fake_discord._wire import GUILDS, GatewaySession, Json


class GatewayMixin:
    """FakeDiscord's gateway side: one ``GatewaySession`` per websocket connection."""

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        zlib_stream = request.query.get("compress") == "zlib-stream"
        session = GatewaySession(ws, zlib.compressobj() if zlib_stream else None)
        self.sessions.append(session)
        if request.query.get("encoding", "json") != "json" or request.query.get("v") != "10":
            await ws.close(code=4012, message=b"Invalid API version or encoding")
            return ws
        await self._send(
            session, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
        )
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                await self._on_gateway(session, json.loads(msg.data))
            elif msg.type is WSMsgType.ERROR:
                break
        await self._notify()
        return ws

    async def _on_gateway(self, session: GatewaySession, payload: Json) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == 1:  # heartbeat
            self.heartbeats += 1
            await self._send(session, {"op": 11})
        elif op == 2:  # identify
            if data["token"] != self.token:
                await session.ws.close(code=4004, message=b"Authentication failed.")
                return
            session.intents = int(data.get("intents", 0))
            session.identified = True
            self.identifies += 1
            await self._ready(session)
        elif op == 6:  # resume
            old = next((s for s in self.sessions if s.id == data.get("session_id")), None)
            if data.get("token") != self.token or old is None:
                await self._send(session, {"op": 9, "d": False})
                return
            session.id, session.intents, session.seq = old.id, old.intents, old.seq
            session.identified = True
            self.resumes += 1
            await self._dispatch_to(session, "RESUMED", {})
        await self._notify()

    async def _ready(self, session: GatewaySession) -> None:
        ready = {
            "v": 10,
            "user": {**self.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["rotterdam"],
            "user_settings": {},
            "auth_session_id_hash": "",
        }
        await self._dispatch_to(session, "READY", ready)
        if session.intents & GUILDS:
            await self._dispatch_to(session, "GUILD_CREATE", self._guild_payload())

    async def _dispatch(
        self, event: str, data: Json, *, intent: int | None, required: bool = True
    ) -> None:
        """Send ``event`` to every connected session whose intents ask for it; ``required``
        events (the ones a test makes) need a connected bot."""
        live = [s for s in self.sessions if s.identified and not s.ws.closed]
        if not live and required:
            raise RuntimeError(f"no gateway session to dispatch {event} to")
        for session in live:
            if intent is None or session.intents & intent:
                await self._dispatch_to(session, event, data)

    async def _dispatch_to(self, session: GatewaySession, event: str, data: Json) -> None:
        session.seq += 1
        await self._send(session, {"op": 0, "t": event, "s": session.seq, "d": data})

    async def _send(self, session: GatewaySession, payload: Json) -> None:
        payload.setdefault("s", None)
        payload.setdefault("t", None)
        payload.setdefault("d", None)
        text = json.dumps(payload)
        if session.compressor is None:
            await session.ws.send_str(text)
        else:
            body = session.compressor.compress(text.encode()) + session.compressor.flush(
                zlib.Z_SYNC_FLUSH
            )
            await session.ws.send_bytes(body)
