"""Webhook mode: Telegram posts updates to our aiohttp endpoint (through a reverse proxy),
which checks the secret header; and the settings that choose it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiohttp import ClientSession
from pydantic import ValidationError

from bot.chat import COMMANDS
from bot.telegram import TelegramFrontend, Webhook, run_telegram
from tests.bot.telegram.conftest import cards, fake_telegram, running
from wavelength.settings import Settings

if TYPE_CHECKING:
    from bot.chat import ChatEngine

HOOK = Webhook(url="https://bot.example.com/tg/hook", secret="s3cret-Token_1", port=0)


def test_updates_arrive_by_webhook_and_forged_posts_are_refused(chat_engine: ChatEngine) -> None:
    async def go() -> None:
        async with fake_telegram() as tg, running(chat_engine, tg, webhook=HOOK) as h:
            assert tg.webhook == {"url": HOOK.url, "secret_token": HOOK.secret}
            assert "message_reaction" in tg.allowed_updates
            local = f"http://127.0.0.1:{h.frontend.webhook_port}"
            tg.route_webhooks_to(local)  # the reverse proxy in front of the bot
            ana = tg.user("Ana")
            sent = await h.say(ana, "jazz for reading")
            assert len(cards(sent)) == 5
            toast = await h.press(ana, cards(sent)[0], "r:love")
            assert toast["text"].startswith("❤️ Loved")
            assert "Liked" in (await h.react(ana, cards(sent)[1], ["👍"]))[-1].text
            assert set(tg.webhook_statuses) == {200}
            assert tg.calls("getUpdates") == []  # no polling in webhook mode
            update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/help",
                      "chat": {"id": 1, "type": "private"}}}  # fmt: skip
            async with ClientSession() as http:
                async with http.post(f"{local}/tg/hook", json=update) as r:
                    assert r.status == 403  # no secret header: not from Telegram
                wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
                async with http.post(f"{local}/tg/hook", json=update, headers=wrong) as r:
                    assert r.status == 403
                right = {"X-Telegram-Bot-Api-Secret-Token": HOOK.secret or ""}
                async with http.post(f"{local}/tg/hook", data=b"{nope", headers=right) as r:
                    assert r.status == 400
                async with http.post(f"{local}/elsewhere", json=update, headers=right) as r:
                    assert r.status == 404
            assert tg.sent.get(1) is None  # none of the forged updates was answered

    asyncio.run(go())


def test_settings_choose_polling_or_a_webhook(tmp_path: Path, chat_engine: ChatEngine) -> None:
    polling = Settings(TELEGRAM_TOKEN="1:abcdefghij")
    assert polling.telegram_mode == "polling"
    frontend = TelegramFrontend.from_settings(polling, chat_engine)
    assert frontend.application.updater is not None
    hooked = Settings(
        TELEGRAM_TOKEN="1:abcdefghij",
        telegram_mode="webhook",
        telegram_webhook_url="https://bot.example.com/tg",
        telegram_webhook_secret="abc_DEF-123",
        telegram_listen_port=8080,
    )
    frontend = TelegramFrontend.from_settings(hooked, chat_engine)
    assert frontend.application.updater is None  # updates come by webhook
    with pytest.raises(ValidationError):
        Settings(telegram_mode="carrier-pigeon")
    with pytest.raises(ValidationError):
        Settings(telegram_webhook_url="http://not-https.example.com")
    with pytest.raises(ValueError, match="WEBHOOK_URL"):
        TelegramFrontend.from_settings(
            Settings(TELEGRAM_TOKEN="1:abcdefghij", telegram_mode="webhook"), chat_engine
        )
    with pytest.raises(ValueError, match="webhook secret"):
        Webhook(url="https://x.example.com", secret="has spaces")
    with pytest.raises(ValueError, match="TELEGRAM_TOKEN"):
        TelegramFrontend.from_settings(Settings(), chat_engine)


def test_run_telegram_serves_until_told_to_stop(chat_engine: ChatEngine) -> None:
    async def go() -> None:
        async with fake_telegram() as tg:
            settings = Settings(TELEGRAM_TOKEN=tg.token)
            stop = asyncio.Event()
            task = asyncio.create_task(
                run_telegram(settings, chat_engine, stop=stop, base_url=tg.base_url)
            )
            ana = tg.user("Ana")
            tg.send(ana, "/help")
            await tg.wait_until(lambda: tg.sent[ana["id"]])
            assert "/radio" in tg.texts(tg.private(ana))[0]
            menu = tg.commands['{"type": "default"}']
            assert [c["command"] for c in menu] == [c.name for c in COMMANDS]
            assert {"picks", "mixes", "nostalgia", "buddies", "taste"} <= {
                c["command"] for c in menu
            }
            stop.set()
            await asyncio.wait_for(task, timeout=5)

    asyncio.run(go())
