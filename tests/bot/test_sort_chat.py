"""/sort in the conversation on the known-answer world: name the lists, label the songs the
sorter proposes by their genre, and get the genres back; corrections, options, bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.conversation import Conversation, Reply
from bot.sort_chat import SortChat
from storage import feedback as fb
from storage.stats import SqlCatalogStats
from tests.support.world import World
from wavelength.domain import Reaction, UserId
from wavelength.sorter import SorterService
from wavelength.stations import StationService

JAZZ, METAL = "cool jazz", "thrash metal"
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
LINE = re.compile(r"^\s*(\d+)\. (.+?) — ", re.M)


@pytest.fixture
def conversation(world: World, service: StationService) -> Conversation:
    sorter = SorterService(engine=world.engine, store=world.store, catalog=world.catalog)
    return Conversation(
        catalog=SqlCatalogStats(world.engine), stations=service, sorter=SortChat(sorter)
    )


def say(conversation: Conversation, user: UserId, text: str) -> str:
    [reply] = conversation.handle(user, text)
    assert isinstance(reply, Reply)
    return reply.text


def test_sort_by_example_in_the_chat(
    conversation: Conversation, user: UserId, world: World
) -> None:
    genre_of = {t.name: world.genre_of(t.id) for t in world.tracks.values()}
    with world.engine.begin() as conn:  # a pile of liked jazz and metal
        for genre in (JAZZ, METAL):
            for t in sorted(world.by_genre(genre), key=lambda t: t.id)[:10]:
                fb.add_feedback(conn=conn, user=user, station=None, track=t.id,
                                reaction=Reaction.LOVE, now=NOW)  # fmt: skip
    assert "Sort your liked songs" in say(conversation, user, "/sort")
    started = say(conversation, user, "/sort new late night jazz | gym metal")
    assert "Sorting 20 liked songs into 2 lists" in started and "Which list?" in started
    list_of = {JAZZ: "late night jazz", METAL: "gym metal"}
    proposed = LINE.findall(started)
    assert proposed
    for number, title in proposed[:4]:
        say(conversation, user, f"/sort label {number} {list_of[genre_of[title]]}")
    labelled = say(conversation, user, "/sort")
    assert re.search(r"late night jazz: [1-4] labelled · gym metal: [1-4] labelled", labelled)
    shown = say(conversation, user, "/sort show")
    assert "📂 late night jazz" in shown and "📂 gym metal" in shown
    whole = say(conversation, user, "/sort list gym metal")
    songs = LINE.findall(whole)
    right = sum(genre_of[title] == METAL for _, title in songs)
    assert right >= 0.85 * len(songs) and len(songs) >= 8
    # A correction, learnt at once; then the options.
    assert "Moved" in say(conversation, user, "/sort move 1 late night jazz")
    assert "songs may overlap" in say(conversation, user, "/sort overlap on")
    assert "misfits left out" in say(conversation, user, "/sort void on")
    assert "fits nowhere well" in say(conversation, user, "/sort show")
    # Bad input answers, never raises.
    assert "no song 99" in say(conversation, user, "/sort label 99 gym metal")
    assert "Usage: /sort label" in say(conversation, user, "/sort label gym metal")
    assert "Say on or off" in say(conversation, user, "/sort void maybe")
    assert "I don't know /sort frobnicate" in say(conversation, user, "/sort frobnicate")
    assert "Name 2 to 10 lists" in say(conversation, user, "/sort new only one")
