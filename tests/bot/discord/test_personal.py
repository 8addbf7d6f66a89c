"""The personal commands (/taste, /mixes, /buddies, /nostalgia, /picks) with the real
discord.py bot on the fake Discord, and pictures in general: a reply with an image arrives as
a file uploaded the way Discord takes it (multipart, ``payload_json`` and ``files[0]``), its
text as the caption, what doesn't fit in a message after it."""

from __future__ import annotations

import struct
import zlib

from bot.chat import ChatEngine, Delivered, Who
from bot.conversation import Reply
from tests.bot.discord.conftest import answered, ask, play, quiet, running, station
from tests.support.fake_discord import FakeDiscord, FakeInteraction, FakeUser, Json, fake_discord

PNG = b"\x89PNG\r\n\x1a\n"
WEBHOOKS = r"^/webhooks/"


def png(width: int, height: int) -> bytes:
    """The start of a PNG: the signature and its header chunk (all Discord reads of it)."""
    header = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG + struct.pack(">I", 13) + header + struct.pack(">I", zlib.crc32(header))


async def with_taste(engine: ChatEngine, fake: FakeDiscord, name: str) -> FakeUser:
    """A listener who loved five cool jazz tracks (fewer make no mix yet: a taste center
    needs five tracks)."""
    person = fake.new_user(name.lower(), name)
    who = Who("discord", str(person.id), name)
    await engine.handle(who, "/radio cool jazz")
    loved = await engine.handle(who, "❤️ 1 2 3 4 5")
    assert loved[0].text.startswith("❤️ Loved")
    return person


async def shown(fake: FakeDiscord, user: FakeUser, name: str) -> list[Json]:
    """Run ``/name``; the messages it answers with."""
    interaction: FakeInteraction = await fake.slash(name, user)
    await fake.until(lambda: answered(interaction))
    await quiet(fake)
    return interaction.messages


def test_taste_arrives_as_a_picture_with_its_legend(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = await with_taste(chat_engine, fake, "Ana")
            [message] = await shown(fake, ana, "taste")
            caption = message["content"]
            assert caption.startswith("🗺 Your taste") and "1 = " in caption
            [picture] = message["attachments"]
            assert picture["content_type"] == "image/png" and picture["filename"].endswith(".png")
            assert picture["width"] > 0 and picture["height"] > 0
            assert picture["description"] == caption  # the alt text
            data = fake.upload(picture)
            assert data.startswith(PNG) and picture["size"] == len(data)
            [upload] = [r for r in fake.requests if r.files][-1].files
            assert upload.field == "files[0]" and upload.data == data

            # Discord refuses the file (too large): the legend still arrives, as text
            fake.fault("POST", WEBHOOKS, status=413, code=40005, message="Request entity too large")
            [text] = await shown(fake, ana, "taste")
            assert text["content"] == caption and text["attachments"] == []

            # a newcomer gets an empty map and words on how to fill it
            [empty] = await shown(fake, fake.new_user("bo"), "taste")
            assert "react to a few tracks" in empty["content"] and empty["attachments"]
            assert fake.unhandled == []

    play(scenario)


def test_the_personal_commands_answer_in_words_and_cards(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = await with_taste(chat_engine, fake, "Ana")
            mixes = await ask(fake, ana, "mixes")
            assert mixes.startswith("🎛 Your daily mixes") and "Mix 1: " in mixes
            buddies = await ask(fake, ana, "buddies")
            assert buddies.startswith("🤝 Playlists from people with your taste")
            assert "match " in buddies and "jazz" in buddies
            on = await ask(fake, ana, "buddies", {"share": "on"})
            assert "may now be matched to your taste" in on
            assert "private again" in await ask(fake, ana, "buddies", {"share": "off"})
            # no dated listening history on this world: it says so and how to get one
            nostalgia = await ask(fake, ana, "nostalgia")
            assert "too little to know your past" in nostalgia and "ingest history" in nostalgia
            picks = await station(fake, ana, "picks")
            assert picks.messages[0]["content"].startswith("☀️ Picks for you")
            assert "React under a card" in picks.messages[0]["content"]

            [buddies_command] = [c for c in fake.global_commands if c["name"] == "buddies"]
            [share] = buddies_command["options"]
            assert [c["value"] for c in share["choices"]] == ["on", "off"]
            assert not share.get("required")

    play(scenario)


def test_a_picture_by_dm_carries_what_fits_and_the_rest_follows_as_text(
    chat_engine: ChatEngine,
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            account = str(ana.id)
            await chat_engine.handle(Who("discord", account), "/help")
            user = await chat_engine.user_of(Who("discord", account))
            lines = [f"{i:03d} " + "🎵" * 40 for i in range(60)]  # 2,639 characters
            picture = png(64, 48)
            # a 500 is retried by discord.py a second later: the file must go again, whole
            fake.fault("POST", r"^/channels/\d+/messages$", status=500)

            replies = [Reply("\n".join(lines), image=picture), Reply("done")]
            assert await chat_engine.message(user, replies) == Delivered(
                ok=True, platform="discord"
            )

            dm = fake.dm_channel(ana)
            assert dm is not None
            first, second, done = fake.channel_messages(dm)
            [attached] = first["attachments"]
            assert fake.upload(attached) == picture
            assert (attached["width"], attached["height"]) == (64, 48)
            assert len(first["content"]) <= 2000 and first["content"].startswith("000 ")
            assert f"{first['content']}\n{second['content']}" == "\n".join(lines)
            assert second["attachments"] == [] and done["content"] == "done"
            uploads = [r for r in fake.requests if r.files]
            assert [r.status for r in uploads] == [500, 200]
            assert uploads[0].files[0].data == uploads[1].files[0].data == picture

    play(scenario)
