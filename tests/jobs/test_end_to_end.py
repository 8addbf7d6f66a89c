"""Issue 8 on Discord, end to end: a person opts in through the real bot on the fake Discord,
and the real delivery round (``DeliveryRunner`` with ``StationPicks`` and ``ChatAndSpotify``)
brings daily picks at their local time and the weekly nostalgia mix by DM, and into the
fake Spotify through the real ``SpotifyService``; the clock is the only thing simulated."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.chat import ChatEngine, Who
from jobs.delivery import ChatAndSpotify, StationPicks
from jobs.runner import DeliveryRunner, RoundReport
from jobs.schedule import DAILY
from spotify.auth import SpotifyConfig
from spotify.crypto import TokenBox
from storage import catalog, deliveries
from storage import feedback as fb
from storage import stations as station_repo
from storage.deliveries import Status
from tests.bot.discord.conftest import ask, cards, note, play, running, station
from tests.support.fake_discord import FakeDiscord, FakeUser, Json, fake_discord
from tests.support.fake_spotify import FakeSpotify
from tests.support.world import World
from wavelength.domain import ListeningEvent, Reaction, UserId
from wavelength.mixes import MixService
from wavelength.spotify_service import SpotifyService
from wavelength.stations import StationService

BERLIN = ZoneInfo("Europe/Berlin")
SATURDAY = date(2026, 11, 28)  # Berlin is UTC+1 then: 08:30 there is 07:30 UTC
DAILY_PLAYLIST, NOSTALGIA_PLAYLIST = "Wavelength · Daily picks", "Wavelength · Nostalgia"
_spotify_ids = itertools.count(1)


def berlin(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), BERLIN).astimezone(UTC)


@pytest.fixture
def fake_spotify(world: World) -> Iterator[FakeSpotify]:
    with FakeSpotify() as server:
        for t in world.tracks.values():  # the world's tracks exist on Spotify too
            server.add_track(t.name, t.artist.name, track_id=t.id.rsplit(":", 1)[-1])
        yield server


@dataclass(frozen=True)
class Person:
    discord: FakeUser
    user: UserId
    spotify: str  # their Spotify account's id


class Scheduler:
    """The scheduler's delivery job as production wires it (``jobs.wiring``), at a clock
    the test sets; with the chat engine and Spotify it delivers through."""

    def __init__(
        self, world: World, service: StationService, chat: ChatEngine, spotify: SpotifyService,
        fake_spotify: FakeSpotify,
    ) -> None:  # fmt: skip
        self.chat, self.spotify, self.fake_spotify = chat, spotify, fake_spotify
        self.now = berlin(SATURDAY, 0, 0)
        mixes = MixService(
            engine=world.engine, store=world.store, catalog=world.catalog, clock=self.clock
        )
        picks = StationPicks(service, nostalgia=mixes)
        self.runner = DeliveryRunner(
            database=world.engine, composer=picks, worker="e2e", clock=self.clock,
            sender=ChatAndSpotify(chat, spotify, clock=self.clock), kinds=picks.kinds,
        )  # fmt: skip

    def clock(self) -> datetime:
        return self.now

    async def at(self, when: datetime, user: UserId) -> RoundReport:
        self.now = when
        return await self.runner.run_round(only=[user])

    def playlists(self, person: Person, name: str) -> list[list[str]]:
        """The track names in each of ``person``'s Spotify playlists called ``name``."""
        fake = self.fake_spotify
        return [
            [fake.tracks[uri.rsplit(":", 1)[1]].name for uri in p.uris]
            for p in fake.owned(person.spotify)
            if p.name == name
        ]


@pytest.fixture
def jobs(
    world: World, service: StationService, chat_engine: ChatEngine, fake_spotify: FakeSpotify
) -> Scheduler:
    config = SpotifyConfig(
        client_id=fake_spotify.client_id, client_secret=fake_spotify.client_secret,
        redirect_uri=next(iter(fake_spotify.redirect_uris)), api_url=fake_spotify.api_url,
        accounts_url=fake_spotify.accounts_url, connect_timeout=2.0, read_timeout=2.0,
    )  # fmt: skip
    box = TokenBox("e2e-secret-key-0123456789-abcdefghij")
    spotify = SpotifyService(engine=world.engine, config=config, box=box)
    return Scheduler(world, service, chat_engine, spotify, fake_spotify)


async def opt_in(fake: FakeDiscord, jobs: Scheduler) -> Person:
    """A person makes a station, likes two of its cards, links Spotify and opts in for
    daily picks at 08:30 Berlin time, all on Discord."""
    ana = fake.new_user("ana", "Ana")
    shown = cards(await station(fake, ana, "radio", {"mood": "cool jazz"}))
    for card in shown[:2]:
        assert (await note(fake, ana, fake.react(ana, card, "👍"))).startswith("👍 Liked")
    user = await jobs.chat.user_of(Who("discord", str(ana.id)))
    account = f"ana{next(_spotify_ids)}"  # one Spotify account per Wavelength user
    jobs.fake_spotify.add_user(account, "Ana")
    consent = jobs.spotify.authorize_url(user)
    redirect = await asyncio.to_thread(jobs.fake_spotify.consent, consent, account)
    assert (await asyncio.to_thread(jobs.spotify.complete_pasted, user, redirect)).linked
    settings = {"time_zone": "Europe/Berlin", "time": "08:30", "daily": True}
    said = await ask(fake, ana, "settings", settings)
    assert "Europe/Berlin" in said and "08:30" in said and "daily DMs on" in said
    return Person(ana, user, account)


def dms(fake: FakeDiscord, person: FakeUser) -> list[Json]:
    channel = fake.dm_channel(person)
    return fake.channel_messages(channel) if channel is not None else []


def picks_in(messages: list[Json]) -> list[list[Json]]:
    """Each picks header among ``messages`` with the cards that follow it."""
    out: list[list[Json]] = []
    for m in messages:
        if m["content"].startswith("☀️"):
            out.append([m])
        elif m["embeds"] and out:
            out[-1].append(m)
    return out


def card_names(delivery: list[Json]) -> list[str]:
    return [str(m["embeds"][0]["title"]).split(". ", 1)[1] for m in delivery[1:]]


def test_opted_in_on_discord_todays_picks_arrive_once_at_half_past_eight_berlin_time(
    jobs: Scheduler, world: World
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, jobs.chat):
            person = await opt_in(fake, jobs)
            ana, user = person.discord, person.user
            seen = len(dms(fake, ana))

            early = await jobs.at(berlin(SATURDAY, 8, 29), user)
            assert (early.due, early.sent) == (0, 0) and len(dms(fake, ana)) == seen
            assert jobs.playlists(person, DAILY_PLAYLIST) == []

            due = await jobs.at(berlin(SATURDAY, 8, 31), user)
            assert (due.due, due.sent) == (1, 1), due.notes
            [delivery] = picks_in(dms(fake, ana)[seen:])
            assert delivery[0]["content"].startswith("☀️ Today's picks for you:")
            assert '"Daily picks"' in delivery[0]["content"]
            assert len(delivery) == 1 + 10 and len(dms(fake, ana)) == seen + 11
            assert all(fake.bot_reactions(m) == ["👍", "👎", "⏭️", "❤️"] for m in delivery[1:])
            assert jobs.playlists(person, DAILY_PLAYLIST) == [card_names(delivery)]

            again = await jobs.at(berlin(SATURDAY, 11, 0), user)
            assert (again.claimed, again.sent) == (0, 0) and len(dms(fake, ana)) == seen + 11
            with world.engine.connect() as conn:
                ledger = deliveries.status_of(conn=conn, user=user, kind=DAILY, day=f"{SATURDAY}")
            assert ledger is Status.SENT

            # A reaction under a delivered card teaches the "Daily picks" station.
            told = await note(fake, ana, fake.react(ana, delivery[3], "❤️"))
            assert told.startswith("❤️ Loved") and card_names(delivery)[2] in told
            with world.engine.connect() as conn:
                daily = station_repo.find_station(conn=conn, owner=user, name="Daily picks")
                assert daily is not None
                taught = fb.feedback_for_station(conn=conn, station=daily.id)
            loved = [world.tracks[f.track].name for f in taught if f.reaction is Reaction.LOVE]
            assert loved == [card_names(delivery)[2]]

    play(scenario)


def test_on_sunday_the_nostalgia_mix_arrives_by_dm_and_in_spotify_once_beside_the_picks(
    jobs: Scheduler, world: World
) -> None:
    sunday = SATURDAY + timedelta(days=1)

    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, jobs.chat):
            person = await opt_in(fake, jobs)
            ana, user = person.discord, person.user
            # Two years ago they played some thrash metal a lot (an imported history).
            metal = world.by_genre("thrash metal")[::3][:8]
            then = berlin(sunday, 8, 31) - timedelta(days=800)
            events = [
                ListeningEvent(track=t, played_at=then - timedelta(days=d))
                for t in metal
                for d in range(0, 60, 5)
            ]
            with world.engine.begin() as conn:
                catalog.insert_listening_events(
                    conn=conn, user_id=user, events=events, source="import"
                )
            seen = len(dms(fake, ana))

            report = await jobs.at(berlin(sunday, 8, 31), user)
            assert (report.due, report.sent) == (2, 2), report.notes
            arrived = dms(fake, ana)[seen:]
            [picks] = picks_in(arrived)
            [mix] = [m for m in arrived if m["content"].startswith("Your weekly nostalgia mix.")]
            assert len(arrived) == len(picks) + 1 == 12
            assert "📼" in mix["content"] and mix["embeds"] == []
            assert sum(t.name in mix["content"] for t in metal) >= 6
            [pushed] = jobs.playlists(person, NOSTALGIA_PLAYLIST)
            assert pushed and all(name in mix["content"] for name in pushed[:15])
            assert jobs.playlists(person, DAILY_PLAYLIST) == [card_names(picks)]

            again = await jobs.at(berlin(sunday, 12, 0), user)
            assert (again.claimed, again.sent) == (0, 0) and len(dms(fake, ana)) == seen + 12
            assert len(jobs.playlists(person, NOSTALGIA_PLAYLIST)) == 1
            # Both fall due at once and are sent side by side; each arrives whole (the picks
            # were split by the mix 7 runs in 8 before the outbox took turns per person).
            start = arrived.index(picks[0])
            assert arrived[start : start + len(picks)] == picks

    play(scenario)


def test_pause_stops_the_next_days_picks_and_resume_brings_them_back(jobs: Scheduler) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, jobs.chat):
            person = await opt_in(fake, jobs)
            ana, user = person.discord, person.user
            assert (await jobs.at(berlin(SATURDAY, 9, 0), user)).sent == 1
            seen = len(dms(fake, ana))

            assert "paused" in (await ask(fake, ana, "pause")).lower()
            paused = await jobs.at(berlin(SATURDAY + timedelta(days=1), 9, 0), user)
            assert (paused.due, paused.sent) == (0, 0) and len(dms(fake, ana)) == seen

            assert "paused" not in (await ask(fake, ana, "resume")).lower()
            back = await jobs.at(berlin(SATURDAY + timedelta(days=2), 9, 0), user)
            assert (back.due, back.sent) == (1, 1), back.notes
            [picks] = picks_in(dms(fake, ana)[seen:])
            assert picks[0]["content"].startswith("☀️ Today's picks") and len(picks) == 11
            [playlist] = jobs.playlists(person, DAILY_PLAYLIST)
            assert playlist == card_names(picks)  # the same playlist, updated in place

    play(scenario)
