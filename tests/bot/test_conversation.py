"""The conversation engine end to end: words in, replies out, on the known-answer world."""

from __future__ import annotations

import re

import pytest

from bot.conversation import Conversation, Reply, clean
from storage.names import SqlNameIndex
from tests.support.fakes import FakeCatalogStats
from tests.support.world import World
from wavelength.domain import CatalogCounts, UserId
from wavelength.stations import StationService


def say(conversation: Conversation, user: UserId, message: str) -> Reply:
    replies = conversation.handle(user, message)
    assert len(replies) == 1
    return replies[0]


def titles(reply: Reply) -> list[str]:
    assert reply.batch is not None, reply.text
    return [c.track.name for c in reply.batch.cards]


# -- the basics -------------------------------------------------------------------------------


def test_help_lists_what_the_bot_can_do(conversation: Conversation, user: UserId) -> None:
    reply = say(conversation, user, "/help")
    for needle in ("/stations", "👍", "more upbeat", "undo", "/share", "rainy sunday jazz"):
        assert needle in reply.text
    assert say(conversation, user, "/start") == reply


def test_stats_reports_the_counts(world: World, service: StationService, user: UserId) -> None:
    conversation = Conversation(
        catalog=FakeCatalogStats(CatalogCounts(42_554, 100, 0, 7, 70, 2, 9)), stations=service
    )
    reply = say(conversation, user, "/stats")
    assert "42,554" in reply.text and "(70 track rows)" in reply.text
    for spelling in ("/STATS", "/stats@WavelengthBot", "  /stats  "):
        assert "42,554" in say(conversation, user, spelling).text


def test_unknown_command_is_friendly(conversation: Conversation, user: UserId) -> None:
    reply = say(conversation, user, "/frobnicate now")
    assert "/frobnicate" in reply.text and "/help" in reply.text


@pytest.mark.parametrize("message", ["", "   ", "\u200b\u200b", "\x00\x07"])
def test_empty_messages_get_a_hint(conversation: Conversation, user: UserId, message: str) -> None:
    assert "/help" in say(conversation, user, message).text


def test_huge_message_is_refused_politely(conversation: Conversation, user: UserId) -> None:
    reply = say(conversation, user, "jazz " * 10_000)
    assert "50,000 characters" in reply.text and "200" in reply.text


def test_clean_keeps_emoji_and_scripts_but_drops_controls() -> None:
    assert clean("  e\u0301te\u0301 👍 坂本\x07 ") == "été 👍 坂本"


# -- a station from words, reactions, refinements ------------------------------------------------


def test_a_mood_starts_a_station_with_reasons(conversation: Conversation, user: UserId) -> None:
    reply = say(conversation, user, "jazz for reading")
    assert reply.batch is not None and len(reply.batch.cards) == 5
    assert reply.batch.station.name == "Jazz for reading"
    assert all(c.reason for c in reply.batch.cards)
    assert re.search(r" 1\. .+ — .+\n +\S", reply.text)  # a numbered card with its reason
    assert "👍" in reply.text  # says how to react


def test_reactions_teach_the_station_and_can_be_undone(
    conversation: Conversation, user: UserId, world: World
) -> None:
    first = say(conversation, user, "metal workout")
    assert first.batch is not None
    liked, disliked = first.batch.cards[1].track, first.batch.cards[2].track
    assert "Liked" in say(conversation, user, "👍 2").text
    reply = say(conversation, user, "👎 3")
    assert "won't play" in reply.text and disliked.name in reply.text
    history = say(conversation, user, "what have I told you").text
    assert history.index(disliked.name) < history.index(liked.name)  # newest first
    seen: set[str] = set(titles(first))
    for _ in range(4):
        batch = titles(say(conversation, user, "next"))
        assert not seen & set(batch)  # nothing repeats on a station
        seen |= set(batch)
    assert disliked.name not in seen - set(titles(first))
    undo = say(conversation, user, "undo")
    assert "Forgotten" in undo.text and disliked.name in undo.text
    assert "👎" not in say(conversation, user, "/history").text.split("\n", 1)[1]


def test_a_reaction_to_a_card_that_is_not_there(conversation: Conversation, user: UserId) -> None:
    assert "no station" in say(conversation, user, "👍 2").text.lower()
    say(conversation, user, "sleep")
    reply = say(conversation, user, "love 9")
    assert "no card 9" in reply.text and "1–5" in reply.text


def test_refine_in_words_and_ask_why(conversation: Conversation, user: UserId) -> None:
    say(conversation, user, "jazz for reading")
    steered = say(conversation, user, "more upbeat")
    assert steered.batch is not None and steered.text.startswith("Steering: more upbeat")
    why = say(conversation, user, "why 2")
    assert "Why #2" in why.text and "more upbeat" in why.text
    surprise = say(conversation, user, "surprise me")
    assert (
        surprise.batch is not None and surprise.batch.station.tuning.familiarity.value == "surprise"
    )
    tuned = say(conversation, user, "/tune like=2 style=0.5")
    assert tuned.batch is not None and tuned.batch.station.tuning.like == 2
    assert "like=2" in say(conversation, user, "/tune").text


def test_no_more_an_artist(conversation: Conversation, user: UserId, world: World) -> None:
    say(conversation, user, "metal workout")
    reply = say(conversation, user, "no more Iron Noise")
    assert reply.text.startswith("No more Iron Noise")
    for _ in range(5):
        batch = say(conversation, user, "next").batch
        assert batch is not None
        assert all(c.track.artist.name != "Iron Noise" for c in batch.cards)
    typo = say(conversation, user, "no more Irn Nose")
    assert "Did you mean: Iron Noise" in typo.text


def test_an_unknown_name_gets_did_you_mean_and_creates_nothing(
    conversation: Conversation, user: UserId
) -> None:
    reply = say(conversation, user, "like Irn Nose but faster")
    assert "Did you mean" in reply.text and "Iron Noise" in reply.text
    assert reply.batch is None
    assert "no stations yet" in say(conversation, user, "/stations").text


# -- several stations, sharing, privacy ---------------------------------------------------------


def test_stations_list_switch_rename_delete(conversation: Conversation, user: UserId) -> None:
    say(conversation, user, "jazz for reading")
    say(conversation, user, "metal workout")
    listing = say(conversation, user, "/stations").text
    assert "1. Jazz for reading" in listing and "▶ 2. Metal workout" in listing
    switched = say(conversation, user, "/switch 1")
    assert switched.batch is not None and switched.batch.station.name == "Jazz for reading"
    assert (
        'Renamed "Jazz for reading" to "Reading"' in say(conversation, user, "/rename Reading").text
    )
    clash = say(conversation, user, "/rename metal WORKOUT")
    assert "already have a station" in clash.text
    assert "Deleted" in say(conversation, user, "/delete Reading").text
    assert "Reading" not in say(conversation, user, "/stations").text
    assert "no station called" in say(conversation, user, "/switch Reading").text


def test_sharing_is_read_only_until_copied(
    conversation: Conversation, user: UserId, other: UserId
) -> None:
    say(conversation, user, "sleep")
    code = re.search(r"/join (\S+)", say(conversation, user, "/share").text)
    assert code is not None
    joined = say(conversation, other, f"/join {code.group(1)}")
    assert joined.batch is not None and joined.batch.read_only
    assert "/copy" in joined.text
    assert "someone else's" in say(conversation, other, "👍 1").text
    assert "someone else's" in say(conversation, other, "more upbeat").text
    # The owner's station is invisible to the other listener's own commands.
    assert "no station called" in say(conversation, other, "/delete Sleep").text
    copied = say(conversation, other, f"/copy {code.group(1)}")
    assert copied.batch is not None and not copied.batch.read_only
    assert copied.batch.station.owner == other
    assert "Liked" in say(conversation, other, "👍 1").text
    assert "No station is shared" in say(conversation, other, "/join ZZZZZZZZ").text


# -- odd input never breaks anything ----------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    ["🎷🌧☔", "'; DROP TABLE stations; --", "<script>alert(1)</script> jazz",
     "jazz für regentage 雨の日のジャズ", "?!?!", "👍👍👍 99999"],
)  # fmt: skip
def test_odd_messages_get_a_clear_reply(
    conversation: Conversation, user: UserId, message: str
) -> None:
    reply = say(conversation, user, message)
    assert reply.text and "went wrong" not in reply.text
    assert "/stations" not in reply.text or reply.batch is None


def test_injection_looking_text_is_just_a_mood(conversation: Conversation, user: UserId) -> None:
    reply = say(conversation, user, "'; DROP TABLE stations; --")
    assert reply.batch is not None
    assert "DROP TABLE" in say(conversation, user, "/stations").text  # stored as plain text


def test_while_warming_up_station_requests_wait(
    world: World, service: StationService, user: UserId
) -> None:
    conversation = Conversation(
        catalog=FakeCatalogStats(), stations=service, warming=lambda: "still building (40%)"
    )
    assert say(conversation, user, "jazz for reading").text == "still building (40%)"
    assert "Wavelength" in say(conversation, user, "/help").text


def test_a_failing_engine_answers_and_keeps_the_chat_alive(world: World, user: UserId) -> None:
    class Broken(StationService):
        def create(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            raise RuntimeError("vector store on fire")

    service = Broken(
        engine=world.engine, composer=world.composer(), names=SqlNameIndex.load(world.engine)
    )
    conversation = Conversation(catalog=FakeCatalogStats(), stations=service)
    reply = say(conversation, user, "jazz for reading")
    assert "went wrong" in reply.text and "fire" not in reply.text
    assert "Wavelength" in say(conversation, user, "/help").text
