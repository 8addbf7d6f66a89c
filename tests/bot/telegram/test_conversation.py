"""Conversations over the real PTB stack and the fake Bot API: what people see in the chat,
and that the station learns from buttons and native reactions."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from tests.bot.telegram.conftest import Harness, cards, fake_telegram, running, telegram
from tests.support.fake_telegram import BotMessage

if TYPE_CHECKING:
    from bot.chat import ChatEngine
    from tests.support.world import World

CARD = re.compile(r"^(\d)\. (.+) — (.+?)(?: \(\d{4}s?\))?\n")
BUTTONS = ["👍", "👎", "⏭", "❤️", "❓"]


def track(card: BotMessage) -> tuple[str, str]:
    """(title, artist) of a card message."""
    found = CARD.match(card.text)
    assert found, card.text
    return found.group(2), found.group(3)


def labels(card: BotMessage) -> list[str]:
    return [text for text, _ in card.buttons[0]]


async def batch(h: Harness, user: dict[str, object], text: str) -> list[BotMessage]:
    """Sends ``text``, expects a header and five cards back; the cards."""
    sent = await h.say(user, text)
    assert sent[0].text.startswith(("📻", "Steering", "Surprise", "Back to", "Playing"))
    assert "📻" in sent[0].text and not sent[0].buttons
    assert [labels(c) for c in sent[1:]] == [BUTTONS] * 5, [m.text for m in sent]
    assert [track(c) for c in sent[1:]] and [int(CARD.match(c.text)[1]) for c in sent[1:]] == [
        1,
        2,
        3,
        4,
        5,
    ]  # type: ignore[index]
    return sent[1:]


def test_a_long_conversation_in_one_chat(chat_engine: ChatEngine) -> None:
    async def go() -> None:
        async with telegram(chat_engine) as h:
            ana = h.tg.user("Ana", username="ana")
            chat = h.tg.private(ana)
            # 1. /start is what Telegram sends first
            start = await h.say(ana, "/start")
            assert len(start) == 1 and "describe a mood" in start[0].text
            # 2. a mood starts a station: a header, then five cards with buttons
            first = await batch(h, ana, "/radio metal workout")
            assert '📻 "Metal workout" · batch 1' in h.tg.texts(chat)[-6]
            assert "Tap 👍" in h.tg.texts(chat)[-6]
            # 3-6. buttons: like, love, dislike, skip; each answered with a toast and ticked
            liked, loved, disliked, skipped = first[0], first[1], first[2], first[3]
            toast = await h.press(ana, liked, "r:like")
            assert toast["text"].startswith("👍 Liked") and track(liked)[0] in toast["text"]
            assert labels(liked)[0] == "👍 ✓"
            assert (await h.press(ana, loved, "r:love"))["text"].startswith("❤️ Loved")
            assert labels(loved)[3] == "❤️ ✓"
            toast = await h.press(ana, disliked, "r:dislike")
            assert "won't play" in toast["text"]
            gone_title, gone_artist = track(disliked)
            assert "Skipped" in (await h.press(ana, skipped, "r:skip"))["text"]
            # 7. the ❓ button: a short toast and the reason as a reply to the card
            toast = await h.press(ana, first[4], "why")
            assert toast["text"].startswith("❓")
            why = h.tg.sent[chat["id"]][-1]
            assert why.text.startswith("Why #5") and why.reply_to == first[4].message_id
            # 8-9. native reactions: 👍 then changed to 👎 (the like is taken back first)
            said = await h.react(ana, first[4], ["👍"])
            assert said[-1].text.startswith("👍 Liked") and said[-1].reply_to == first[4].message_id
            said = await h.react(ana, first[4], ["👎"], old=["👍"])
            assert "won't play" in said[-1].text
            # 10. the same button again takes the reaction back
            toast = await h.press(ana, liked, "r:like")
            assert toast["text"].startswith("↩️ Forgotten") and labels(liked)[0] == "👍"
            await h.press(ana, liked, "r:like")  # and liked again
            # 11. next batch: nothing disliked comes back, and likes show in the reasons
            seen = [track(c) for c in first]
            later: list[BotMessage] = []
            for _ in range(4):
                later += await batch(h, ana, "next")
            later_tracks = [track(c) for c in later]
            assert (gone_title, gone_artist) not in later_tracks
            assert track(first[4]) not in later_tracks
            assert gone_artist not in {artist for _, artist in later_tracks}
            assert not set(seen) & set(later_tracks)  # nothing repeats on a station
            assert any("because you liked" in c.text for c in later)
            # 12-14. native ❤, 🥱 (Telegram's stand-in for ⏭) and taking a reaction off
            assert "Loved" in (await h.react(ana, later[0], ["❤"]))[-1].text
            assert "Skipped" in (await h.react(ana, later[1], ["🥱"]))[-1].text
            assert "Forgotten" in (await h.react(ana, later[0], [], old=["❤"]))[-1].text
            # 15. /why by number
            assert (await h.say(ana, "/why 2"))[0].text.startswith("Why #2")
            # 16. steering in words
            steered = await h.say(ana, "more upbeat")
            assert steered[0].text.startswith("Steering: more upbeat") and len(cards(steered)) == 5
            # 17-19. a second station, the list, and switching back
            await batch(h, ana, "rainy day jazz")
            listed = (await h.say(ana, "/stations"))[0].text
            assert "Metal workout" in listed and "▶ 2. Rainy day jazz" in listed
            switched = await h.say(ana, "/switch 1")
            assert any('"Metal workout"' in m.text for m in switched) and len(cards(switched)) == 5
            # 20. undo the newest reaction
            assert (await h.say(ana, "/undo"))[0].text.startswith("↩️ Forgotten")
            # 21-22. tuning
            tuned = await h.say(ana, "/tune style=1.5")
            assert len(cards(tuned)) == 5
            assert "style=1.5" in (await h.say(ana, "/tune"))[0].text
            # 23-24. help and an unknown command
            assert "/radio" in (await h.say(ana, "/help"))[0].text
            unknown = await h.say(ana, "/frobnicate")
            assert len(unknown) == 1 and "/help" in unknown[0].text
            # the bot kept within Telegram's limits all along, and typed before answering
            assert h.tg.throttled == []
            assert (chat["id"], "typing") in h.tg.chat_actions
            assert len(h.tg.sent[chat["id"]]) > 60

    asyncio.run(go())


def test_a_reaction_on_an_old_card_after_a_restart(chat_engine: ChatEngine) -> None:
    async def go() -> None:
        async with fake_telegram() as tg:
            ana = tg.user("Ana")
            async with running(chat_engine, tg) as h:
                old = await batch(h, ana, "jazz for reading")
            # a new Application (a restart); the database remembers the posted cards
            async with running(chat_engine, tg) as h:
                said = await h.react(ana, old[1], ["👍"])
                assert said[-1].text.startswith("👍 Liked") and track(old[1])[0] in said[-1].text
                toast = await h.press(ana, old[2], "r:dislike")
                assert "won't play" in toast["text"] and track(old[2])[0] in toast["text"]
                history = (await h.say(ana, "/history"))[0].text
                assert track(old[1])[0] in history and track(old[2])[0] in history

    asyncio.run(go())


def test_in_a_group_others_reactions_count_for_their_own_taste(
    chat_engine: ChatEngine, world: World
) -> None:
    async def go() -> None:
        async with fake_telegram() as tg:
            group = tg.group("music friends", admin=True)
            ana, bo = tg.user("Ana"), tg.user("Bo")
            async with running(chat_engine, tg) as h:
                # privacy mode: plain group talk never reaches the bot
                assert tg.send(ana, "what are we listening to", chat=group) is None
                sent = await h.say(ana, "/radio@wavelength_test_bot metal workout", chat=group)
                header, group_cards = sent[0], cards(sent)
                assert header.reply_to is not None and len(group_cards) == 5  # answers Ana
                card = group_cards[0]
                toast = await h.press(bo, card, "r:dislike")
                assert "Noted for your own taste, Bo" in toast["text"]
                assert card.text.endswith("Reactions: 👎 Bo")
                assert labels(card) == BUTTONS  # nobody's tick in a group
                toast = await h.press(ana, card, "r:like")
                assert toast["text"].startswith("👍 Liked")
                assert card.text.endswith("Reactions: 👎 Bo · 👍 Ana")
                before = len(tg.sent[group["id"]])
                await h.react(bo, group_cards[1], ["❤"])  # a native reaction: quiet in a group
                assert len(tg.sent[group["id"]]) == before
                bo_history = (await h.say(bo, "/history"))[0].text
                ana_history = (await h.say(ana, "/history"))[0].text
                title = track(card)[0]
                assert title in bo_history and "👎" in bo_history
                assert track(group_cards[1])[0] in bo_history
                assert title in ana_history and "👎" not in ana_history  # Bo's 👎 isn't Ana's

    asyncio.run(go())


def test_chats_are_served_side_by_side_and_each_in_order(chat_engine: ChatEngine) -> None:
    async def go() -> None:
        async with telegram(chat_engine) as h:
            ana, bo = h.tg.user("Ana"), h.tg.user("Bo")
            ana_chat, bo_chat = h.tg.private(ana), h.tg.private(bo)
            # one chat's updates in order: the reaction waits for the batch it reacts to
            h.tg.send(ana, "jazz for reading")
            h.tg.send(ana, "👍 2")
            await h.settle()
            assert h.tg.texts(ana_chat)[-1].startswith("👍 Liked")
            # a slow chat doesn't hold up another
            h.tg.slow("sendMessage", 1.0, chat=ana_chat)
            h.tg.send(ana, "/help")
            h.tg.send(bo, "/help")
            await h.tg.wait_until(lambda: h.tg.sent[bo_chat["id"]])
            assert not h.tg.texts(ana_chat)[-1].startswith("Wavelength")  # still waiting
            await h.settle()
            assert h.tg.texts(ana_chat)[-1].startswith("Wavelength")

    asyncio.run(go())
