"""A long conversation on Discord: a station that learns from reactions under its cards."""

from __future__ import annotations

from bot.chat import ChatEngine
from tests.bot.discord.conftest import cards, note, play, running, station
from tests.support.fake_discord import Json, fake_discord


def track_of(card: Json) -> tuple[str, str]:
    """(track, artist) as the card shows them."""
    embed = card["embeds"][0]
    return embed["title"].split(". ", 1)[1], embed["fields"][0]["value"]


def test_twenty_turns_of_reactions_shape_the_station(chat_engine: ChatEngine) -> None:
    """👎 keeps a track away everywhere and, the second time, its artist away from the
    station; 👍 and ❤️ show up in later cards' reasons."""

    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana", "Ana")
            first = await station(fake, ana, "radio", {"mood": "metal workout"})
            batch = cards(first)
            disliked = [track_of(batch[0])[0]]
            artist = track_of(batch[0])[1]
            notes = [
                await note(fake, ana, fake.react(ana, batch[0], "👎")),
                await note(fake, ana, fake.react(ana, batch[1], "👍")),
                await note(fake, ana, fake.react(ana, batch[2], "❤️")),
                await note(fake, ana, fake.react(ana, batch[3], "⏭")),
            ]
            assert [n.split(" ", 1)[0] for n in notes] == ["👎", "👍", "❤️", "⏭"]
            turns = 1 + len(notes)
            after_ban: list[str] = []
            liked_reasons = 0
            banned = False
            while turns < 22:
                shown = cards(await station(fake, ana, "next", {}))
                tracks = [track_of(c) for c in shown]
                assert not set(disliked) & {t for t, _ in tracks}
                if banned:
                    after_ban += [a for _, a in tracks]
                reasons = [c["embeds"][0]["description"].lower() for c in shown]
                liked_reasons += sum("because you liked" in r for r in reasons)
                again = next((c for c in shown if track_of(c)[1] == artist), None)
                if again is not None and not banned:
                    told = await note(fake, ana, fake.react(ana, again, "👎"))
                    disliked.append(track_of(again)[0])
                    banned = f"That's enough {artist} for this station" in told
                else:
                    await note(fake, ana, fake.react(ana, shown[-1], "👍"))
                turns += 2
            assert banned and after_ban and artist not in after_ban
            assert liked_reasons >= 3
            # A dislike holds on every station: a new metal station leaves both tracks out.
            fresh = cards(await station(fake, ana, "radio", {"mood": "gym metal headbang"}))
            assert not set(disliked) & {track_of(c)[0] for c in fresh}

    play(scenario)
