"""Spotify in the chat, end to end: /link, the pasted address, /save twice (one playlist,
updated in place), /spotify, /unlink, against the fake Spotify over loopback."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Iterator

import pytest

from bot.chat import ChatEngine, Who
from bot.conversation import Conversation
from bot.spotify_chat import SpotifyChat
from spotify.auth import SpotifyConfig
from spotify.crypto import TokenBox
from storage.stats import SqlCatalogStats
from tests.support.fake_spotify import FakeSpotify
from tests.support.world import World
from wavelength.accounts import AccountService
from wavelength.spotify_service import SpotifyService
from wavelength.stations import StationService

_ids = itertools.count(1)


@pytest.fixture
def fake(world: World) -> Iterator[FakeSpotify]:
    with FakeSpotify() as server:
        for t in world.tracks.values():  # the world's tracks exist on Spotify too
            server.add_track(t.name, t.artist.name, track_id=t.id.rsplit(":", 1)[-1])
        server.add_user("ana", "Ana")
        yield server


@pytest.fixture
def engine_with_spotify(
    world: World, service: StationService, fake: FakeSpotify
) -> Iterator[ChatEngine]:
    from bot.throttle import Throttle

    spotify = SpotifyService(
        engine=world.engine,
        config=SpotifyConfig(
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            redirect_uri=next(iter(fake.redirect_uris)),
            api_url=fake.api_url,
            accounts_url=fake.accounts_url,
            connect_timeout=2.0,
            read_timeout=2.0,
        ),
        box=TokenBox("test-secret-key-0123456789-abcdefghijklmnop"),
        stations=service,
    )
    accounts = AccountService(engine=world.engine)
    conversation = Conversation(
        catalog=SqlCatalogStats(world.engine),
        stations=service,
        accounts=accounts,
        spotify=SpotifyChat(spotify),
    )
    roomy = Throttle(burst=1000, per_second=1000.0)
    chat = ChatEngine(
        conversation=conversation, stations=service, accounts=accounts, database=world.engine,
        throttle=roomy, reaction_throttle=roomy,
    )  # fmt: skip
    yield chat
    asyncio.run(chat.close())


def test_link_save_twice_status_unlink(engine_with_spotify: ChatEngine, fake: FakeSpotify) -> None:
    chat = engine_with_spotify
    ana = Who("telegram", f"ana-{next(_ids)}", "Ana")

    async def say(text: str) -> str:
        return "\n".join(r.text for r in await chat.handle(ana, text))

    async def scenario() -> dict[str, str]:
        out = {"link": await say("/link")}
        url = re.search(r"https?://\S+", out["link"])
        assert url is not None
        redirect = fake.consent(url.group(0), "ana")  # Ana agrees in her browser
        out["pasted"] = await say(redirect)
        out["radio"] = await say("/radio cool jazz")
        await say("/next")
        out["save1"] = await say("/save")
        await say("/next")
        out["save2"] = await say("save to spotify")
        for _ in range(50):  # the library import runs in the background
            out["status"] = await say("/spotify")
            if "Imported" in out["status"]:
                break
            time.sleep(0.05)
        out["reused"] = await say(redirect)
        out["unlink"] = await say("/unlink")
        out["after"] = await say("/save")
        return out

    out = asyncio.run(scenario())
    assert "Connect Spotify" in out["link"] and "copy the whole address" in out["link"]
    assert "Linked to Spotify as Ana" in out["pasted"]
    assert "Made your Spotify playlist (10 tracks)" in out["save1"]
    assert "Updated your Spotify playlist (15 tracks)" in out["save2"]
    first = re.search(r"open.spotify.com/playlist/(\w+)", out["save1"])
    second = re.search(r"open.spotify.com/playlist/(\w+)", out["save2"])
    assert first and second and first.group(1) == second.group(1)  # updated in place
    owned = fake.owned("ana")
    assert len(owned) == 1 and len(fake.uris(owned[0].id)) == 15
    assert owned[0].name == "Wavelength · Cool jazz"
    assert "linked as Ana" in out["status"] and "Imported" in out["status"]
    assert "station:" in out["status"] and "15 tracks" in out["status"]
    assert "unknown or was used already" in out["reused"]  # a state works once
    assert "deleted your Spotify tokens" in out["unlink"]
    assert "isn't linked" in out["after"] or "link" in out["after"].lower()
