"""The personal commands (/taste, /mixes, /buddies, /nostalgia, /picks) over the real PTB
stack and the fake Bot API, and pictures in general: a reply with an image arrives as a photo
uploaded the way the Bot API takes it, its text as the caption, what doesn't fit after it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.chat import Delivered, Who
from bot.conversation import Reply
from bot.telegram import _render as tr
from tests.bot.telegram.conftest import Harness, cards, telegram
from tests.bot.telegram.test_conversation import BUTTONS, labels
from tests.support.fake_telegram import Upload, png

if TYPE_CHECKING:
    from bot.chat import ChatEngine

JSON = dict[str, object]
PNG = b"\x89PNG\r\n\x1a\n"


async def with_taste(engine: ChatEngine, h: Harness, name: str) -> JSON:
    """A listener who has written to the bot and loved five cool jazz tracks (fewer make
    no mix yet: a taste center needs five tracks)."""
    person = h.tg.user(name)
    await h.say(person, "/help")
    who = Who("telegram", str(person["id"]), name)
    await engine.handle(who, "/radio cool jazz")
    loved = await engine.handle(who, "❤️ 1 2 3 4 5")
    assert loved[0].text.startswith("❤️ Loved")
    return person


def test_taste_arrives_as_a_picture_with_its_legend(chat_engine: ChatEngine) -> None:
    async def go() -> None:
        async with telegram(chat_engine) as h:
            ana = await with_taste(chat_engine, h, "Ana")
            sent = await h.say(ana, "/taste")
            assert len(sent) == 1, [m.text for m in sent]
            picture = sent[0]
            assert picture.photo is not None and picture.photo.startswith(PNG)
            assert picture.text.startswith("🗺 Your taste") and "1 = " in picture.text
            upload = h.tg.calls("sendPhoto")[-1]["photo"]  # a multipart file part
            assert isinstance(upload, Upload) and upload.content_type == "image/png"
            assert upload.data == picture.photo
            # Telegram can't take the picture: the legend still arrives, as text
            h.tg.fail("sendPhoto", 400, "Bad Request: IMAGE_PROCESS_FAILED")
            sent = await h.say(ana, "/taste")
            assert [m.photo for m in sent] == [None] and sent[0].text.startswith("🗺 Your taste")
            # a newcomer gets an empty map and words on how to fill it
            bo = h.tg.user("Bo")
            sent = await h.say(bo, "/taste")
            assert sent[0].photo is not None and "react to a few tracks" in sent[0].text

    asyncio.run(go())


def test_the_personal_commands_answer_in_words_and_cards(chat_engine: ChatEngine) -> None:
    async def go() -> None:
        async with telegram(chat_engine) as h:
            ana = await with_taste(chat_engine, h, "Ana")

            async def one(text: str) -> str:
                sent = await h.say(ana, text)
                assert len(sent) == 1 and sent[0].photo is None and not sent[0].buttons
                return sent[0].text

            mixes = await one("/mixes")
            assert mixes.startswith("🎛 Your daily mixes") and "Mix 1: " in mixes
            buddies = await one("/buddies")
            assert buddies.startswith("🤝 Playlists from people with your taste")
            assert "match " in buddies and "jazz" in buddies
            assert "may now be matched to your taste" in await one("/buddies share on")
            assert "private again" in await one("/buddies share off")
            # no dated listening history on this world: it says so and how to get one
            nostalgia = await one("/nostalgia")
            assert "too little to know your past" in nostalgia and "ingest history" in nostalgia
            # picks are a batch: a header and cards whose buttons teach
            sent = await h.say(ana, "/picks")
            assert sent[0].text.startswith("☀️ Picks for you") and "Tap 👍" in sent[0].text
            picks = cards(sent)
            assert [labels(c) for c in picks] == [BUTTONS] * 5
            toast = await h.press(ana, picks[0], "r:like")
            assert toast["text"].startswith("👍 Liked")
            assert h.tg.throttled == []

    asyncio.run(go())


def test_a_long_caption_goes_on_as_text_and_pictures_go_out_by_the_outbox(
    chat_engine: ChatEngine,
) -> None:
    async def go() -> None:
        async with telegram(chat_engine) as h:
            ana = h.tg.user("Ana")
            chat = h.tg.private(ana)
            await h.say(ana, "/help")
            user = await chat_engine.user_of(Who("telegram", str(ana["id"])))
            # 40 lines of 20 characters, each with an emoji Telegram counts twice, and 100
            # more emoji: 940 characters, fewer than a caption takes, but 1080 units, more
            lines = [f"🎵 line {i:02d} of the map" for i in range(40)]
            picture = png(64, 48)
            before = len(h.tg.sent[chat["id"]])
            replies = [Reply("\n".join(lines) + "\n" + "🎶" * 100, image=picture), Reply("done")]
            delivered = await chat_engine.message(user, replies)
            assert delivered == Delivered(ok=True, platform="telegram")
            photo, *rest = h.tg.sent[chat["id"]][before:]
            assert photo.photo == picture and photo.text == "\n".join(lines)
            assert [m.text for m in rest] == ["🎶" * 100, "done"]
            # a caption past 1024 units in fewer than 1024 characters: cut at a line end
            long = "\n".join(f"😀 {i:03d} " + "😀" * 10 for i in range(60))  # 960 chars
            caption, more = tr.caption(long)
            assert tr.units(caption) <= tr.MAX_CAPTION < tr.units(long) and len(long) < 1024
            assert f"{caption}\n{more}" == long
            # a picture the chat refuses, writing first: reported, not half-sent
            h.tg.fail("sendPhoto", 500, "Internal Server Error")
            delivered = await chat_engine.message(user, [Reply("map", image=picture)])
            assert not delivered.ok and delivered.sent == 0 and "Internal" in str(delivered.note)

    asyncio.run(go())
