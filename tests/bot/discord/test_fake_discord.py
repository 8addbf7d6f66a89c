"""The fake Discord's own rules, checked on the wire (raw HTTP and websocket, no discord.py),
so the bot tests rest on a fake that refuses what Discord refuses."""

from __future__ import annotations

import asyncio
import io
import json
import struct
import zlib

import aiohttp
import pytest

from tests.bot.discord.conftest import play
from tests.support.fake_discord import (
    DIRECT_MESSAGE_REACTIONS,
    GUILDS,
    FakeInteraction,
    fake_discord,
)

AUTH = {"Authorization": "Bot fake-bot-token"}
PNG = b"\x89PNG\r\n\x1a\n"


async def identify(ws: aiohttp.ClientWebSocketResponse, intents: int) -> list[dict]:
    """HELLO, IDENTIFY; returns the dispatches up to READY (and GUILD_CREATE if asked)."""
    hello = await ws.receive_json()
    assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] == 41_250
    await ws.send_json({"op": 1, "d": None})
    assert (await ws.receive_json())["op"] == 11
    await ws.send_json(
        {"op": 2, "d": {"token": "fake-bot-token", "intents": intents, "properties": {}}}
    )
    events = [await ws.receive_json()]
    if intents & GUILDS:
        events.append(await ws.receive_json())
    return events


def test_the_gateway_speaks_the_protocol_in_plain_and_zlib_stream_frames() -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, aiohttp.ClientSession() as http:
            async with http.ws_connect(fake.gateway_url + "?v=10&encoding=json") as ws:
                ready, guild = await identify(ws, GUILDS)
                assert (ready["op"], ready["t"], ready["s"]) == (0, "READY", 1)
                assert ready["d"]["application"]["id"] == str(fake.application_id)
                assert ready["d"]["resume_gateway_url"] == fake.gateway_url
                assert (guild["t"], guild["s"]) == ("GUILD_CREATE", 2)
                assert guild["d"]["channels"][0]["id"] == str(fake.channel_id)
            url = fake.gateway_url + "?v=10&encoding=json&compress=zlib-stream"
            async with http.ws_connect(url) as ws:
                inflate = zlib.decompressobj()
                frame = await ws.receive_bytes()
                assert frame.endswith(b"\x00\x00\xff\xff")
                assert json.loads(inflate.decompress(frame))["op"] == 10
            async with http.ws_connect(fake.gateway_url + "?v=10&encoding=json") as ws:
                await ws.receive_json()
                await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 0}})
                closed = await ws.receive()
                assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == 4004

    play(scenario)


def test_reaction_events_only_reach_sessions_that_asked_for_them() -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, aiohttp.ClientSession() as http:
            url = fake.gateway_url + "?v=10&encoding=json"
            async with http.ws_connect(url) as deaf, http.ws_connect(url) as listening:
                await identify(deaf, GUILDS)  # guild reactions not asked for
                await identify(listening, DIRECT_MESSAGE_REACTIONS)
                ana = fake.new_user("ana")
                channel = await http.post(
                    fake.api_base + "/users/@me/channels",
                    json={"recipient_id": str(ana.id)},
                    headers=AUTH,
                )
                dm = (await channel.json())["id"]
                posted = await http.post(
                    fake.api_base + f"/channels/{dm}/messages", json={"content": "hi"}, headers=AUTH
                )
                message = fake.messages[int((await posted.json())["id"])]
                await fake.react(ana, message, "⏭")
                event = await listening.receive_json()
                assert event["t"] == "MESSAGE_REACTION_ADD" and event["s"] == 2
                assert event["d"]["emoji"] == {"id": None, "name": "⏭️"}
                assert "guild_id" not in event["d"] and event["d"]["message_author_id"] == str(
                    fake.bot.id
                )
                guild_message = fake.user_message(ana, "in the server")
                await fake.react(ana, guild_message, "👍")
                with pytest.raises(TimeoutError):
                    await deaf.receive_json(timeout=0.05)  # neither reaction came here

    play(scenario)


def test_rest_refuses_what_discord_refuses() -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, aiohttp.ClientSession() as http:
            api = fake.api_base
            me = await http.get(api + "/users/@me", headers={"Authorization": "Bot nope"})
            assert me.status == 401
            ok = await http.get(api + "/users/@me", headers=AUTH)
            assert ok.headers["Content-Type"] == "application/json"
            assert {
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset-After",
                "X-RateLimit-Bucket",
            } <= set(ok.headers)
            long = await http.post(
                api + f"/channels/{fake.channel_id}/messages",
                json={"content": "x" * 2001},
                headers=AUTH,
            )
            assert long.status == 400 and (await long.json())["code"] == 50035
            empty = await http.post(
                api + f"/channels/{fake.channel_id}/messages", json={}, headers=AUTH
            )
            assert empty.status == 400
            nowhere = await http.post(
                api + "/channels/1/messages", json={"content": "hi"}, headers=AUTH
            )
            assert (await nowhere.json())["code"] == 10003
            ben = fake.new_user("ben")
            fake.close_dms(ben)
            dm = await (
                await http.post(
                    api + "/users/@me/channels", json={"recipient_id": str(ben.id)}, headers=AUTH
                )
            ).json()
            closed = await http.post(
                api + f"/channels/{dm['id']}/messages", json={"content": "hi"}, headers=AUTH
            )
            assert closed.status == 403
            assert await closed.json() == {
                "message": "Cannot send messages to this user",
                "code": 50007,
            }
            nobody = await http.post(
                api + "/users/@me/channels", json={"recipient_id": "4242"}, headers=AUTH
            )
            assert nobody.status == 400
            assert await nobody.json() == {"message": "Invalid Recipient(s)", "code": 50033}
            garbled = await http.post(
                api + "/users/@me/channels", json={"recipient_id": "ben"}, headers=AUTH
            )
            assert (await garbled.json())["code"] == 50035
            fake.fault("GET", r"^/users/@me$", status=429, retry_after=0.25, is_global=True)
            limited = await http.get(api + "/users/@me", headers=AUTH)
            assert limited.status == 429 and limited.headers["Retry-After"] == "1"
            assert limited.headers["Via"] and limited.headers["X-RateLimit-Global"] == "true"
            assert (await limited.json())["retry_after"] == 0.25
            bad = await http.put(
                api + f"/applications/{fake.application_id}/commands",
                json=[{"name": "Radio", "description": "x"}],
                headers=AUTH,
            )
            assert bad.status == 400 and (await bad.json())["code"] == 50035
            assert fake.unhandled == []

    play(scenario)


def test_interactions_have_a_deadline_and_one_answer() -> None:
    async def scenario() -> None:
        async with (
            fake_discord() as fake,
            aiohttp.ClientSession() as http,
            http.ws_connect(fake.gateway_url + "?v=10&encoding=json") as ws,
        ):
            await identify(ws, GUILDS)
            ana = fake.new_user("ana")

            async def callback(i: FakeInteraction, kind: int = 5) -> aiohttp.ClientResponse:
                url = f"{fake.api_base}/interactions/{i.id}/{i.token}/callback?with_response=true"
                return await http.post(url, json={"type": kind})

            async def followup(i: FakeInteraction) -> aiohttp.ClientResponse:
                url = f"{fake.api_base}/webhooks/{fake.application_id}/{i.token}?wait=true"
                return await http.post(url, json={"content": "done"})

            first = await fake.slash("help", ana)
            assert (await ws.receive_json())["t"] == "INTERACTION_CREATE"
            early = await followup(first)
            assert early.status == 404 and (await early.json())["code"] == 10015
            answered = await callback(first)
            body = await answered.json()
            assert body["interaction"]["response_message_loading"] is True
            assert (await callback(first)).status == 400  # 40060: already acknowledged
            filled = await (await followup(first)).json()
            assert (
                filled["id"] == body["interaction"]["response_message_id"]
            )  # it edits "thinking..."
            assert (await (await followup(first)).json())["id"] != filled["id"]
            wrong = await callback(await fake.slash("help", ana), kind=8)
            assert wrong.status == 400  # autocomplete results only answer autocomplete
            fake.interaction_deadline = 0.05
            late = await fake.slash("help", ana)
            await asyncio.sleep(0.06)
            refused = await callback(late)
            assert refused.status == 404
            assert await refused.json() == {"message": "Unknown interaction", "code": 10062}
            assert late.late_callbacks and late.callbacks == []

    play(scenario)


def test_uploads_are_multipart_and_refused_where_discord_refuses_them() -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, aiohttp.ClientSession() as http:
            url = f"{fake.api_base}/channels/{fake.channel_id}/messages"
            picture = (
                PNG + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", 640, 480) + b"x" * 9
            )

            async def post(payload: object, *files: tuple[str, bytes]) -> aiohttp.ClientResponse:
                form = aiohttp.FormData(quote_fields=False)
                form.add_field("payload_json", json.dumps(payload))
                for n, (name, data) in enumerate(files):
                    form.add_field(f"files[{n}]", io.BytesIO(data), filename=name)
                return await http.post(url, data=form, headers=AUTH)

            # a file alone is a message; the payload names it and gives its alt text
            sent = await post(
                {"attachments": [{"id": 0, "filename": "map.png", "description": "a map"}]},
                ("upload.bin", picture),
            )
            assert sent.status == 200
            [attached] = (await sent.json())["attachments"]
            assert attached["filename"] == "map.png" and attached["description"] == "a map"
            assert attached["content_type"] == "image/png" and attached["size"] == len(picture)
            assert (attached["width"], attached["height"]) == (640, 480)
            async with http.get(attached["url"]) as cdn:
                assert cdn.status == 200 and await cdn.read() == picture
            [record] = [r for r in fake.requests if r.files]
            assert record.body["attachments"][0]["id"] == 0
            assert [(f.field, f.filename) for f in record.files] == [("files[0]", "upload.bin")]

            async def refused(response: aiohttp.ClientResponse) -> tuple[int, int]:
                return response.status, (await response.json())["code"]

            big = b"\0" * (10 * 1024 * 1024 + 1)
            assert await refused(await post({}, ("big.png", big))) == (413, 40005)
            eleven = [(f"{n}.png", picture) for n in range(11)]
            assert await refused(await post({}, *eleven)) == (400, 50035)
            dangling = {"content": "hi", "attachments": [{"id": 1}]}  # no files[1]
            assert await refused(await post(dangling, ("a.png", picture))) == (400, 50035)
            wordy = {"attachments": [{"id": 0, "description": "x" * 1025}]}
            assert await refused(await post(wordy, ("a.png", picture))) == (400, 50035)
            form = aiohttp.FormData(quote_fields=False)
            form.add_field("payload_json", "{not json")
            form.add_field("files[0]", io.BytesIO(picture), filename="a.png")
            assert await refused(await http.post(url, data=form, headers=AUTH)) == (400, 50109)
            assert len(fake.channel_messages(fake.channel_id)) == 1
            assert fake.unhandled == []

    play(scenario)


def test_a_late_fault_posts_the_message_and_answers_after_the_client_gave_up() -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, aiohttp.ClientSession() as http:
            ana = fake.new_user("ana")
            channel = fake._open_dm(ana)
            url = f"{fake.api_base}/channels/{channel}/messages"
            fake.fault("POST", r"/messages$", late=1.0)
            with pytest.raises(TimeoutError):
                timeout = aiohttp.ClientTimeout(total=0.3)
                await http.post(url, json={"content": "picks"}, headers=AUTH, timeout=timeout)
            [posted] = fake.channel_messages(channel)  # taken, though never answered in time
            assert posted["content"] == "picks"
            assert [r.status for r in fake.requests if r.path.endswith("/messages")] == [0]
            async with http.post(url, json={"content": "next"}, headers=AUTH) as answer:
                assert answer.status == 200  # one fault, then on time again
            await fake.until(lambda: fake.requests[0].status == 200, timeout=2.0)

    play(scenario)
