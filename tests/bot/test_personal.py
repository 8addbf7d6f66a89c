"""Picks, mixes, nostalgia, buddies and the taste map in the conversation, on the world."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bot.conversation import Conversation, Reply
from storage.models import PlaylistRow
from storage.stats import SqlCatalogStats
from tests.support.world import World
from wavelength.accounts import AccountService
from wavelength.domain import UserId
from wavelength.mixes import MixOptions, MixService
from wavelength.stations import StationService


@pytest.fixture(scope="module")
def conversation(world: World, service: StationService) -> Conversation:
    with world.engine.begin() as conn:  # follower counts for the cold-start playlists
        conn.execute(update(PlaylistRow).values(num_followers=PlaylistRow.num_tracks * 10))
    mixes = MixService(
        engine=world.engine, store=world.store, catalog=world.catalog,
        options=MixOptions(mix_size=10, nostalgia_size=12),
    )  # fmt: skip
    return Conversation(
        catalog=SqlCatalogStats(world.engine), stations=service,
        accounts=AccountService(engine=world.engine), mixes=mixes,
    )  # fmt: skip


def say(conversation: Conversation, user: UserId, text: str) -> Reply:
    [reply] = conversation.handle(user, text)
    return reply


def test_before_any_taste_everything_says_how_to_get_one(
    conversation: Conversation, user: UserId
) -> None:
    for command in ("/picks", "/mixes"):
        assert "I don't know your taste yet" in say(conversation, user, command).text
    cold = say(conversation, user, "/buddies").text
    assert "Popular playlists to start with" in cold and "/from NAME" in cold
    taste = say(conversation, user, "/taste")
    assert taste.image is not None and taste.image.startswith(b"\x89PNG")


def test_a_jazz_lover_gets_jazz_mixes_picks_buddies_and_a_map(
    conversation: Conversation, user: UserId, world: World
) -> None:
    say(conversation, user, "/radio cool jazz")
    say(conversation, user, "❤️ 1 2 3 4 5")
    say(conversation, user, "/next")
    say(conversation, user, "👍 1 2 3")  # a mix needs five familiar tracks near its center
    picks = say(conversation, user, "/picks")
    assert picks.batch is not None and picks.text.startswith("☀️ Picks for you")
    assert picks.batch.station.name == "Daily picks"
    mixes = say(conversation, user, "/mixes").text
    assert "Mix 1:" in mixes and "of your listening" in mixes
    jazz_artists = {t.artist.name for t in world.by_genre("cool jazz")}
    assert any(a in mixes.split("\n")[1] for a in jazz_artists)  # labelled by its artists
    buddies = say(conversation, user, "/buddies").text
    assert "people with your taste" in buddies and "match" in buddies
    taste = say(conversation, user, "/taste")
    assert taste.image is not None and "1 = " in taste.text
    nostalgia = say(conversation, user, "/nostalgia").text
    assert "covers only 0 days" in nostalgia and "wavelength ingest history" in nostalgia
    assert "may now be matched" in say(conversation, user, "/buddies share on").text
    assert "private again" in say(conversation, user, "/buddies share off").text
    assert "Usage" in say(conversation, user, "/buddies share maybe").text
