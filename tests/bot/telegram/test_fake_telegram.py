"""The fake Bot API holds to the documented wire protocol and the rules Telegram enforces,
checked with raw HTTP and with PTB's own ``Bot`` (so the bot's tests run against something
honest)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from aiohttp import ClientSession, FormData
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReactionTypeEmoji,
)
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut

from tests.support.fake_telegram import FakeTelegram, Limits, png


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_the_wire_format_with_json_form_and_query_parameters() -> None:
    async def go() -> None:
        async with FakeTelegram() as tg, ClientSession() as http:
            ana = tg.user("Ana")
            chat = tg.private(ana)
            url = f"{tg.base_url}{tg.token}"
            async with http.post(f"{url}/getMe", json={}) as r:
                me = await r.json()
            assert r.status == 200 and me["ok"] is True and me["result"]["is_bot"] is True
            markup = {"inline_keyboard": [[{"text": "👍", "callback_data": "r:like"}]]}
            form = {"chat_id": str(chat["id"]), "text": "hi", "reply_markup": json.dumps(markup)}
            async with http.post(f"{url}/sendMessage", data=form) as r:
                sent = (await r.json())["result"]
            assert sent["chat"] == chat and sent["from"]["id"] == tg.me["id"]
            assert sent["reply_markup"] == markup and isinstance(sent["date"], int)
            async with http.get(
                f"{url}/sendMessage", params={"chat_id": chat["id"], "text": "2"}
            ) as r:
                assert (await r.json())["result"]["message_id"] == sent["message_id"] + 1
            async with http.post(f"{tg.base_url}123:wrong/getMe") as r:
                assert r.status == 401
                assert await r.json() == {
                    "ok": False,
                    "error_code": 401,
                    "description": "Unauthorized",
                }
            async with http.post(f"{url}/noSuchMethod") as r:
                assert r.status == 404 and (await r.json())["ok"] is False

    run(go())


def test_long_polling_answers_as_soon_as_an_update_exists_and_offsets_confirm() -> None:
    async def go() -> None:
        async with FakeTelegram() as tg, Bot(tg.token, base_url=tg.base_url) as bot:
            ana = tg.user("Ana")
            started = time.monotonic()
            poll = asyncio.create_task(bot.get_updates(timeout=5))
            await asyncio.sleep(0.05)
            tg.send(ana, "/start")
            updates = await poll
            assert time.monotonic() - started < 2
            assert [u.message.text for u in updates if u.message] == ["/start"]
            assert updates[0].message.entities[0].type == "bot_command"
            again = await bot.get_updates(timeout=0)
            assert [u.update_id for u in again] == [updates[0].update_id]  # not confirmed yet
            assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()

    run(go())


def test_reactions_arrive_only_when_asked_for_and_in_groups_only_for_admins() -> None:
    async def go() -> None:
        async with FakeTelegram() as tg, Bot(tg.token, base_url=tg.base_url) as bot:
            ana = tg.user("Ana")
            card = await bot.send_message(tg.private(ana)["id"], "a card")
            sent = tg.sent[ana["id"]][0]
            assert not tg.react(ana, sent, ["👍"])  # default allowed_updates leave them out
            await bot.get_updates(timeout=0, allowed_updates=["message", "message_reaction"])
            assert tg.react(ana, sent, ["👍"])
            with pytest.raises(ValueError, match=r"(?i)no '⏭' reaction"):
                tg.react(ana, sent, ["⏭"])
            update = (await bot.get_updates(timeout=0))[-1]
            assert update.message_reaction is not None
            assert update.message_reaction.message_id == card.message_id
            assert update.message_reaction.new_reaction == (ReactionTypeEmoji("👍"),)
            group, admin_group = tg.group("no rights"), tg.group("rights", admin=True)
            in_group = await bot.send_message(group["id"], "x")
            in_admin_group = await bot.send_message(admin_group["id"], "y")
            assert in_group and in_admin_group
            assert not tg.react(ana, tg.sent[group["id"]][0], ["👍"])
            assert tg.react(ana, tg.sent[admin_group["id"]][0], ["👍"])

    run(go())


def test_one_poller_at_a_time_and_none_while_a_webhook_is_set() -> None:
    async def go() -> None:
        async with (
            FakeTelegram() as tg,
            Bot(tg.token, base_url=tg.base_url) as bot,
            Bot(tg.token, base_url=tg.base_url) as second_instance,
        ):
            first = asyncio.create_task(second_instance.get_updates(timeout=5))
            await asyncio.sleep(0.05)
            await bot.get_updates(timeout=0)
            with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
                await first
            with pytest.raises(BadRequest, match=r"(?i)HTTPS URL must be provided"):
                await bot.set_webhook("http://bot.example.com/hook")
            with pytest.raises(BadRequest, match=r"(?i)secret token"):
                await bot.set_webhook("https://bot.example.com/hook", secret_token="no spaces")
            assert await bot.set_webhook("https://bot.example.com/hook", secret_token="s3cr-t_")
            with pytest.raises(Conflict, match=r"(?i)webhook is active"):
                await bot.get_updates(timeout=0)
            assert (await bot.get_webhook_info()).url == "https://bot.example.com/hook"
            assert await bot.delete_webhook()
            assert await bot.get_updates(timeout=0) == ()

    run(go())


def test_the_rules_telegram_enforces_on_messages_buttons_and_callbacks() -> None:
    async def go() -> None:
        async with FakeTelegram() as tg, Bot(tg.token, base_url=tg.base_url) as bot:
            ana = tg.user("Ana")
            chat_id = tg.private(ana)["id"]
            for text, error in [("   ", "text is empty"), ("x" * 4097, "too long")]:
                with pytest.raises(BadRequest, match=f"(?i){error}"):
                    await bot.send_message(chat_id, text)
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await bot.send_message(12345, "who?")
            with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
                too_big = InlineKeyboardButton("x", callback_data="d" * 65)
                await bot.send_message(chat_id, "x", reply_markup=InlineKeyboardMarkup([[too_big]]))
            with pytest.raises(BadRequest, match=r"(?i)reserved"):
                await bot.send_message(chat_id, "1. Song", parse_mode="MarkdownV2")
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="r:like")]])
            card = await bot.send_message(chat_id, "  a card  ", reply_markup=keyboard)
            assert card.text == "a card"  # Telegram trims
            with pytest.raises(BadRequest, match=r"(?i)not modified"):
                await bot.edit_message_reply_markup(chat_id, card.message_id, reply_markup=keyboard)
            edited = await bot.edit_message_text("a card!", chat_id, card.message_id)
            assert edited.reply_markup is None  # editing text without markup drops the buttons
            query = tg.press(ana, tg.sent[chat_id][0], "r:like")
            assert await bot.answer_callback_query(query, text="ok")
            with pytest.raises(BadRequest, match=r"(?i)query is too old"):
                await bot.answer_callback_query(query, text="again")
            with pytest.raises(BadRequest, match=r"(?i)REACTION_INVALID"):
                await bot.set_message_reaction(chat_id, card.message_id, ReactionTypeEmoji("⏭"))
            assert await bot.set_message_reaction(chat_id, card.message_id, ReactionTypeEmoji("👍"))
            with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
                await bot.set_my_commands([("Bad-Name", "x")])
            tg.block(tg.private(ana))
            with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
                await bot.send_message(chat_id, "still there?")

    run(go())


def test_photos_are_uploaded_as_multipart_and_checked_as_telegram_checks_them() -> None:
    async def go() -> None:
        async with (
            FakeTelegram() as tg,
            Bot(tg.token, base_url=tg.base_url) as bot,
            ClientSession() as http,
        ):
            ana = tg.user("Ana")
            chat_id = tg.private(ana)["id"]
            picture = png(120, 80)
            sent = await bot.send_photo(chat_id, picture, caption=" a map ", filename="m.png")
            assert sent.caption == "a map" and sent.text is None
            assert (sent.photo[-1].width, sent.photo[-1].height) == (120, 80)
            assert max(sent.photo[0].width, sent.photo[0].height) == 90  # the thumbnail
            assert tg.sent[chat_id][-1].photo == picture and tg.sent[chat_id][-1].text == "a map"
            again = await bot.send_photo(chat_id, sent.photo[-1].file_id)  # resent by file_id
            assert again.caption is None and tg.sent[chat_id][-1].photo == picture
            # raw multipart, as any client sends it
            form = FormData({"chat_id": str(chat_id), "caption": "raw"})
            form.add_field("photo", picture, filename="x.png", content_type="image/png")
            async with http.post(f"{tg.base_url}{tg.token}/sendPhoto", data=form) as r:
                assert (await r.json())["result"]["caption"] == "raw"
            for photo, caption, error in [
                (b"GIF89a not a photo", None, "IMAGE_PROCESS_FAILED"),
                (png(40, 900), None, "PHOTO_INVALID_DIMENSIONS"),  # a ratio over 20
                (png(5001, 5000), None, "PHOTO_INVALID_DIMENSIONS"),  # sides over 10000
                ("https://example.com/x.png", None, "wrong file identifier"),
                (picture, "😀" * 513, "caption is too long"),  # 513 characters, 1026 units
            ]:
                with pytest.raises(BadRequest, match=f"(?i){error}"):
                    await bot.send_photo(chat_id, photo, caption=caption)
            assert await bot.send_photo(chat_id, picture, caption="😀" * 512)
            with pytest.raises(BadRequest, match="no text in the message to edit"):
                await bot.edit_message_text("text?", chat_id, sent.message_id)
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="r:like")]])
            edited = await bot.edit_message_reply_markup(
                chat_id, sent.message_id, reply_markup=keyboard
            )
            assert isinstance(edited, Message) and edited.caption == "a map"
            with pytest.raises(BadRequest, match="too long"):  # text counts UTF-16 units too
                await bot.send_message(chat_id, "😀" * 2049)

    run(go())


def test_flood_limits_answer_429_with_retry_after() -> None:
    async def go() -> None:
        async with FakeTelegram(limits=Limits()) as tg, Bot(tg.token, base_url=tg.base_url) as bot:
            chat_id = tg.private(tg.user("Ana"))["id"]
            for i in range(5):  # a burst passes
                await bot.send_message(chat_id, f"m{i}")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(chat_id, "one too many")
            assert caught.value.retry_after.total_seconds() >= 1
            assert tg.throttled == [("sendMessage", chat_id)]
            other = tg.private(tg.user("Bo"))["id"]
            assert await bot.send_message(other, "another chat is fine")

    run(go())


def test_privacy_mode_hides_plain_group_talk_from_the_bot() -> None:
    async def go() -> None:
        async with FakeTelegram() as tg:
            ana, group = tg.user("Ana"), tg.group("friends")
            assert tg.send(ana, "just chatting", chat=group) is None
            assert tg.send(ana, "/radio@wavelength_test_bot jazz", chat=group) is not None
            assert tg.send(ana, "hey @wavelength_test_bot", chat=group) is not None
        async with FakeTelegram(privacy=False) as tg:
            assert tg.send(tg.user("Bo"), "just chatting", chat=tg.group("g")) is not None

    run(go())


def test_switchable_faults() -> None:
    async def go() -> None:
        async with FakeTelegram() as tg, Bot(tg.token, base_url=tg.base_url) as bot:
            chat_id = tg.private(tg.user("Ana"))["id"]
            tg.fail("sendMessage", 400, "Bad Request: something odd", times=2)
            for _ in range(2):
                with pytest.raises(BadRequest, match=r"(?i)something odd"):
                    await bot.send_message(chat_id, "x")
            assert await bot.send_message(chat_id, "third time")
            tg.fail("sendMessage", 500, "Internal Server Error", after=1)  # mid-batch
            assert await bot.send_message(chat_id, "goes through")
            with pytest.raises(NetworkError, match="Internal Server Error"):
                await bot.send_message(chat_id, "fails")
            assert await bot.send_message(chat_id, "fine again")
            # a user who never started the bot has no chat to write to
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await bot.send_message(tg.user("Cy")["id"], "hello?")
            tg.slow("getMe", 0.3)
            started = time.monotonic()
            await bot.get_me()
            assert time.monotonic() - started >= 0.3

    run(go())


def test_an_answer_after_the_clients_timeout_for_a_message_that_arrived() -> None:
    async def go() -> None:
        async with FakeTelegram() as tg, Bot(tg.token, base_url=tg.base_url) as bot:
            chat = tg.private(tg.user("Ana"))
            tg.answer_late("sendMessage", 1.0, chat=chat)
            with pytest.raises(TimedOut):
                await bot.send_message(chat["id"], "your picks", read_timeout=0.3)
            assert tg.texts(chat) == ["your picks"]  # Telegram took it
            tg.slow("sendMessage", 1.0, chat=chat)  # the other case: no answer, nothing done
            with pytest.raises(TimedOut):
                await bot.send_message(chat["id"], "again", read_timeout=0.3)
            await asyncio.sleep(1.0)
            assert tg.texts(chat) == ["your picks"]

    run(go())
