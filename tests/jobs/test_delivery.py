"""A whole delivery round on the known-answer world: picks composed by the station engine,
sent through the chat engine's outboxes and pushed to a playlist sink, exactly once."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.chat import ChatEngine, Delivered, Who
from bot.conversation import Reply
from bot.gate import SendGate
from jobs.delivery import RETRY, ChatAndSpotify, StationPicks
from jobs.runner import DeliveryRunner
from jobs.schedule import DAILY, NOSTALGIA, Due
from storage import deliveries
from storage.deliveries import Status
from tests.support.world import World
from wavelength.domain import TrackId, UserId
from wavelength.spotify_service import PushReport, SpotifyNotLinked
from wavelength.stations import StationService

_ids = itertools.count(1)


class Outbox:
    platform = "telegram"

    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []

    async def send(
        self, account: str, replies: Sequence[Reply], *, gate: SendGate | None = None
    ) -> Delivered:
        if gate is not None:
            await gate.open()
        self.sent += [(account, r) for r in replies]
        return Delivered(ok=True, platform=self.platform)


class Playlists:
    def __init__(self, linked: set[UserId]) -> None:
        self.linked = linked
        self.pushed: list[tuple[UserId, str, int]] = []

    def push(
        self, user: UserId, purpose: str, name: str, description: str,
        track_ids: Sequence[TrackId],
    ) -> PushReport:  # fmt: skip
        if user not in self.linked:
            raise SpotifyNotLinked()
        self.pushed.append((user, purpose, len(track_ids)))
        return PushReport(purpose=purpose, playlist_id="p1", tracks=len(track_ids))


def test_a_round_delivers_picks_once_to_each_opted_in_listener(
    chat_engine: ChatEngine, service: StationService, world: World
) -> None:
    people = [Who("telegram", f"daily-{next(_ids)}", "P") for _ in range(3)]
    outbox = Outbox()

    async def setup() -> list[UserId]:
        users = []
        for i, who in enumerate(people):
            await chat_engine.handle(who, "/radio cool jazz" if i else "/help")
            await chat_engine.handle(who, "❤️ 1 2")
            await chat_engine.handle(who, "/settings daily=on time=00:00")
            users.append(await chat_engine.user_of(who))
        chat_engine.register_outbox(outbox)
        return users

    users = asyncio.run(setup())
    playlists = Playlists(linked={users[1]})
    noon = datetime.now(UTC).replace(hour=6, minute=0)  # six hours after their 00:00

    def round_() -> object:
        picks = StationPicks(service)
        runner = DeliveryRunner(
            database=world.engine, composer=picks,
            sender=ChatAndSpotify(chat_engine, playlists), worker="w", clock=lambda: noon,
            kinds=picks.kinds,
        )  # fmt: skip
        return asyncio.run(runner.run_round(only=users))

    first, second = round_(), round_()
    assert (first.sent, first.skipped) == (2, 1)  # people[0] has liked nothing yet
    assert second.sent == 0 and second.claimed == 0
    got = {account: reply for account, reply in outbox.sent}
    assert set(got) == {people[1].account, people[2].account}
    reply = got[people[1].account]
    assert reply.text.startswith("☀️ Today's picks") and reply.batch is not None
    assert len(reply.batch.cards) == 10 and reply.batch.station.name == "Daily picks"
    assert playlists.pushed == [(users[1], "daily", 10)]
    with world.engine.connect() as conn:
        day = noon.date().isoformat()
        statuses = [deliveries.status_of(conn=conn, user=u, kind=DAILY, day=day) for u in users]
    assert statuses == [Status.SKIPPED, Status.SENT, Status.SENT]


class Says:
    """A messenger that answers with one fixed outcome."""

    def __init__(self, delivered: Delivered) -> None:
        self.delivered = delivered

    async def message(
        self, user: UserId, replies: Sequence[Reply], *, gate: SendGate | None = None
    ) -> Delivered:
        return self.delivered


async def _open() -> bool:
    return True


def test_how_a_send_ends_in_the_ledger(service: StationService, user: UserId) -> None:
    service.create(user, "cool jazz")
    batch = service.next(user)
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    due = Due(user, DAILY, now.date(), now, late=False)

    def outcome(d: Delivered) -> tuple[Status, str | None, datetime | None]:
        sender = ChatAndSpotify(Says(d), None, clock=lambda: now)
        o = asyncio.run(sender.send(due, batch, SendGate(_open)))
        return o.status, o.note, o.retry_at

    assert outcome(Delivered(ok=True, platform="telegram"))[:2] == (Status.SENT, "sent on telegram")
    assert outcome(Delivered(ok=False, unreachable=True, note="blocked"))[:2] == (
        Status.SKIPPED,
        "blocked",
    )
    assert outcome(Delivered(ok=False, retry_after=30.0))[::2] == (
        Status.FAILED,
        now + timedelta(seconds=30),
    )
    assert outcome(Delivered(ok=False, note="503"))[::2] == (Status.FAILED, now + RETRY)
    partly = outcome(Delivered(ok=False, note="503 after 3 messages were delivered", sent=3))
    assert partly[0] is Status.SENT and "partly" in (partly[1] or "")
    # No answer to a request that left: maybe shown, so final and reported, never retried.
    doubt = outcome(Delivered(ok=False, platform="telegram", note="TimedOut", in_doubt=True))
    assert doubt == (Status.UNKNOWN, "no answer from telegram: TimedOut", None)


def test_sunday_brings_the_nostalgia_mix_by_dm_and_to_spotify(
    service: StationService, user: UserId, world: World
) -> None:
    from storage import catalog
    from wavelength.domain import ListeningEvent as Event
    from wavelength.mixes import MixService

    sunday = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    metal = world.by_genre("thrash metal")[::3][:8]
    events = [
        Event(track=t, played_at=sunday - timedelta(days=800 + d))
        for t in metal
        for d in range(0, 60, 5)
    ]
    with world.engine.begin() as conn:
        catalog.insert_listening_events(conn=conn, user_id=user, events=events, source="import")
    mixes = MixService(
        engine=world.engine, store=world.store, catalog=world.catalog, clock=lambda: sunday
    )
    picks = StationPicks(service, nostalgia=mixes)
    assert picks.kinds == (DAILY, NOSTALGIA)
    made = picks.compose(NOSTALGIA, [user])
    mix = made[user]
    playlists = Playlists(linked={user})
    got: list[Reply] = []

    class Inbox:
        async def message(
            self, who: UserId, replies: Sequence[Reply], *, gate: SendGate | None = None
        ) -> Delivered:
            got.extend(replies)
            return Delivered(ok=True, platform="telegram")

    due = Due(user, NOSTALGIA, sunday.date(), sunday, late=False)
    outcome = asyncio.run(ChatAndSpotify(Inbox(), playlists).send(due, mix, SendGate(_open)))
    assert outcome.status is Status.SENT
    assert got[0].text.startswith("Your weekly nostalgia mix.") and "📼" in got[0].text
    assert sum(t.name in got[0].text for t in metal) >= 6  # what they played back then
    assert playlists.pushed and playlists.pushed[0][:2] == (user, "nostalgia")
