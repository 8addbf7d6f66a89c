"""Daily picks for many listeners, end to end, with the platforms misbehaving (issue 8).

The real ``DeliveryRunner`` with ``StationPicks`` and ``ChatAndSpotify`` sends each listener
their picks through ``ChatEngine.message``, the real Telegram frontend (python-telegram-bot,
our rate limiter, the outbox) and the real ``SpotifyService`` (spotipy), over loopback HTTP to
the fake Telegram Bot API and the fake Spotify from ``tests/support``. Telegram's limits keep
their shape (1 message/s per chat, 30/s overall) but run ``--speed`` times faster, on both
sides; so do the Spotify service's pauses. Faults, at random: listeners who blocked the bot
(403), 429s (short ones the limiter waits out, long ones the runner defers), 500s and
timeouts on both fakes (Spotify's 5xx sometimes after it applied the change; Telegram's
timeouts sometimes after the message arrived). Then:

1. the first round's task is cancelled midway (the process is killed);
2. a fresh runner (another worker id, the clock past the claim lease) runs the next round,
   a rival with the same clock stands down on the lease, and a racer whose clock is past the
   first one's claims joins it halfway (a stalled worker's claims taken over);
3. rounds follow, the clock moved past ``retry_at`` each time, until nothing is claimable;
   unfinished Spotify pushes are resumed as the scheduler's job does.

Everything is counted from what the fakes recorded, per listener: picks headers received
(``duplicated``: more than one; ``lost``: none while reachable and no final status that says
so in the ledger), the cards under them, and whether the Spotify playlist holds exactly those
tracks. ``--broken`` swaps in a runner that ignores the ledger, to show the check can fail.

    python benchmarks/sim_deliveries.py                       # 10,000 listeners
    python benchmarks/sim_deliveries.py --users 500 --fault-rate 0.05 --seed 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import os
import platform
import random
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bot.gate import SendGate
from bot.telegram import RateLimits, TelegramFrontend
from jobs.delivery import ChatAndSpotify, StationPicks
from jobs.runner import DeliveryRunner, RoundReport
from jobs.schedule import DAILY, due_now
from spotify.auth import SpotifyConfig
from spotify.crypto import TokenBox
from storage import accounts as account_repo
from storage import feedback as feedback_repo
from storage import stations as station_repo
from storage.deliveries import Status
from storage.models import DeliveryRow
from storage.names import SqlNameIndex
from tests.support.chat import make_chat_engine
from tests.support.fake_spotify import BASE62, FakeSpotify, Fault
from tests.support.fake_telegram import ApiError, FakeTelegram, Limits
from tests.support.world import World, world_fixture
from wavelength.domain import Reaction, TrackId, UserId, UserPrefs
from wavelength.spotify_service import SpotifyService
from wavelength.stations import StationService

T0 = datetime(2026, 11, 27, 9, 5, tzinfo=UTC)  # five minutes after everyone's 09:00
DELIVERY_MINUTE = 9 * 60
PLAYLIST = "Wavelength · Daily picks"
SECRET = "sim-secret-key-0123456789-abcdefghijklmnop"  # noqa: S105 (the fake's token box)


@dataclass(frozen=True, slots=True)
class SimConfig:
    users: int = 10_000
    spotify_share: float = 0.10
    blocked_share: float = 0.02
    fault_rate: float = 0.01  # per sendMessage on Telegram, per /v1 request on Spotify
    speed: float = 50.0  # Telegram's limits (and the Spotify service's pauses) sped up
    cards: int = 3  # picks per listener (production sends 10)
    likes: int = 3
    kill_share: float = 0.25  # of the messages expected, sent before the kill (and the racer)
    concurrency: int = 32
    timeout: float = 2.0  # the Telegram client's; an injected timeout answers 3x later
    max_rounds: int = 15
    broken: bool = False
    seed: int = 7


@dataclass(frozen=True, slots=True)
class Listener:
    user: UserId
    chat: int
    blocked: bool
    spotify: str | None


@dataclass
class Figures:
    listeners: int = 0
    cards_expected: int = 0
    blocked: int = 0
    linked: int = 0
    got_picks: int = 0
    duplicated: int = 0
    lost: int = 0
    partial: int = 0  # a header and fewer cards: a send cut short after it began
    messages: int = 0
    ledger: Counter[str] = field(default_factory=Counter)
    sent_after_deferral: int = 0
    deferred: int = 0  # FAILED outcomes over all rounds (each retried in a later round)
    unknown_arrived: int = 0
    unknown_missing: int = 0
    # Of those: settled UNKNOWN because a request got no answer (rather than a killed worker).
    no_answer_arrived: int = 0
    no_answer_missing: int = 0
    # Unknown, nothing arrived, and the fake recorded no request for the chat: the row was
    # *sending* (its gate had opened, so it was past our limiter), cut off on the wire.
    unknown_never_asked: int = 0
    spotify_ok: int = 0
    spotify_wrong: int = 0
    spotify_missing: int = 0
    spotify_unfinished: int = 0
    rounds: list[str] = field(default_factory=list)
    killed_in_flight: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    wall_s: float = 0.0
    deliver_s: float = 0.0
    peak_rss_mb: float = 0.0


class ChaoticTelegram(FakeTelegram):
    """The fake Bot API on a bad day: a share of sendMessage calls get a 429 (short, or
    longer than our limiter waits), a 500, or no answer within the client's timeout: either
    before Telegram took the message ("timeout": the client gives up and closes the
    connection, the fake's handler is cancelled with it) or after ("timeout, taken": the
    message is in the chat, the answer comes too late)."""

    def __init__(self, *, rng: random.Random, rate: float, stall: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rng, self.rate, self.stall = rng, rate, stall
        self.injected: Counter[str] = Counter()

    async def _apply_faults(self, method: str, params: dict[str, Any]) -> float:
        late = await super()._apply_faults(method, params)
        if method != "sendMessage" or self.rng.random() >= self.rate:
            return late
        kind = self.rng.choice(KINDS)
        self.injected[f"telegram {kind}"] += 1
        if kind == "429":
            raise ApiError(429, "Too Many Requests: retry after 1", 1)
        if kind == "429 long":
            raise ApiError(429, "Too Many Requests: retry after 90", 90)
        if kind == "500":
            raise ApiError(500, "Internal Server Error")
        if kind == "timeout, taken":
            return self.stall
        await asyncio.sleep(self.stall)
        return late


KINDS = ("429", "429 long", "500", "timeout", "timeout, taken")


def spotify_chaos(
    rng: random.Random, rate: float, seen: Counter[str]
) -> Callable[[str, str], Fault | None]:
    def pick(method: str, path: str) -> Fault | None:
        if not path.startswith("/v1") or rng.random() >= rate:
            return None
        kind = rng.choice(("429", "429 long", "500", "503", "timeout"))
        seen[f"spotify {kind}"] += 1
        if kind == "timeout":
            return Fault(0, delay=1.5)  # applied, answered after the 1 s read timeout
        if kind.startswith("429"):
            return Fault(429, retry_after=120 if kind == "429 long" else 1)
        return Fault(int(kind), after_apply=method != "GET" and rng.random() < 0.5)

    return pick


class NaiveRunner:
    """What the ledger is for: a round that sends to everyone due and remembers nothing."""

    def __init__(self, *, world: World, composer: StationPicks, sender: ChatAndSpotify,
                 clock: Callable[[], datetime], concurrency: int) -> None:  # fmt: skip
        self._db, self._composer, self._sender = world.engine, composer, sender
        self._clock, self._concurrency = clock, concurrency

    async def run_round(self, *, only: Sequence[UserId]) -> RoundReport:
        with self._db.connect() as conn:
            opted = account_repo.opted_in(conn=conn)
        wanted = set(only)
        due = [d for d in due_now(opted, self._clock()) if d.kind == DAILY and d.user in wanted]
        made = await asyncio.to_thread(self._composer.compose, DAILY, [d.user for d in due])
        gate = asyncio.Semaphore(self._concurrency)

        async def one(d: Any) -> None:
            async with gate:
                with contextlib.suppress(Exception):
                    await self._sender.send(d, made.get(d.user), SendGate(_always))

        await asyncio.gather(*(one(d) for d in due))
        return RoundReport(due=len(due), claimed=len(due))


async def _always() -> bool:
    return True  # no ledger: nothing to mark, nothing to refuse


def spotify_track_id(track: TrackId) -> str:
    """The Spotify id of a catalog track: its own when the catalog id is a Spotify URI (as
    in the test world), else a fixed one derived from it, so matches remembered in the
    database stay valid for every fake."""
    if track.startswith("spotify:track:"):
        return track.rsplit(":", 1)[1]
    n = int.from_bytes(hashlib.sha256(track.encode()).digest()[:17], "big")
    return "".join(BASE62[(n // 62**k) % 62] for k in range(22))


def add_listeners(
    world: World, tg: FakeTelegram, rng: random.Random, cfg: SimConfig
) -> list[Listener]:
    """Listeners who wrote to the bot once (a private chat, a seen identity), loved a few
    tracks of one genre and opted in to daily picks at 09:00 UTC."""
    by_genre: dict[str, list[TrackId]] = {}
    for track in world.tracks.values():
        by_genre.setdefault(track.genre or "", []).append(track.id)
    genres = sorted(by_genre)
    out = []
    with world.engine.begin() as conn:
        for i in range(cfg.users):
            person = tg.user(f"Listener {i}")
            chat = tg.private(person)
            account = str(person["id"])
            user = station_repo.get_or_create_user(
                conn=conn, provider="telegram", external_id=account, display_name=f"Listener {i}"
            )
            account_repo.seen(conn=conn, provider="telegram", external_id=account, now=T0)
            for liked in rng.sample(by_genre[rng.choice(genres)], cfg.likes):
                feedback_repo.add_feedback(
                    conn=conn, user=user, station=None, track=liked, reaction=Reaction.LOVE, now=T0
                )
            prefs = UserPrefs(time_zone="UTC", delivery_minute=DELIVERY_MINUTE, daily=True)
            account_repo.put_prefs(conn=conn, user=user, prefs=prefs, now=T0)
            blocked = rng.random() < cfg.blocked_share
            if blocked:
                tg.block(chat)
            linked = f"sim{account}" if rng.random() < cfg.spotify_share else None
            out.append(Listener(user, chat["id"], blocked, linked))
    return out


def link_spotify(spotify: SpotifyService, fake: FakeSpotify, listeners: list[Listener]) -> None:
    for listener in listeners:
        if listener.spotify is None:
            continue
        fake.add_user(listener.spotify)
        redirect = fake.consent(spotify.authorize_url(listener.user), listener.spotify)
        if not spotify.complete_pasted(listener.user, redirect).linked:
            raise RuntimeError(f"linking {listener.spotify} failed")


def messages_in(tg: FakeTelegram) -> int:
    return sum(len(sent) for sent in tg.sent.values())


async def until_messages(tg: FakeTelegram, n: int, task: asyncio.Task[Any]) -> None:
    while messages_in(tg) < n and not task.done():
        await asyncio.sleep(0.005)


def round_line(name: str, report: RoundReport | None) -> str:
    if report is None:
        return f"{name}: killed"
    if report.lease_held_elsewhere:
        return f"{name}: stood down (lease held)"
    return (
        f"{name}: due {report.due}, claimed {report.claimed}, sent {report.sent}, "
        f"skipped {report.skipped}, failed {report.failed}, unknown (no answer) "
        f"{report.unknown}, settled unknown {report.settled_unknown}"
    )


async def deliver(
    cfg: SimConfig,
    world: World,
    make_runner: Callable[[str, datetime], Any],
    tg: FakeTelegram,
    users: list[UserId],
    expected_messages: int,
) -> tuple[list[str], int, int]:
    """The rounds: killed, restarted with a rival and a racer, then until nothing is left."""
    lines = []
    first = asyncio.create_task(make_runner("w1", T0).run_round(only=users))
    await until_messages(tg, int(expected_messages * cfg.kill_share), first)
    first.cancel()
    try:
        lines.append(round_line("round 1 (w1)", await first))
    except asyncio.CancelledError:
        lines.append("round 1 (w1): killed midway")
    with world.engine.connect() as conn:
        in_flight = len(
            conn.execute(select(DeliveryRow.id).where(DeliveryRow.status == "sending")).all()
        )
    t1 = T0 + timedelta(minutes=11)  # past w1's claims (10 min) and its lease (5 min)
    second = asyncio.create_task(make_runner("w2", t1).run_round(only=users))
    await asyncio.sleep(0)  # w2 takes the lease and claims before the rival looks
    rival = await make_runner("w4", t1).run_round(only=users)
    lines.append(round_line("round 2 rival (w4, same clock)", rival))
    start = messages_in(tg)
    await until_messages(tg, start + int(expected_messages * cfg.kill_share), second)
    # A racer whose clock is past w2's claims: w2 stalled, as far as the racer can tell.
    racer = await make_runner("w3", t1 + timedelta(minutes=11)).run_round(only=users)
    lines.append(round_line("round 2 (w2)", await second))
    lines.append(round_line("round 2 racer (w3, clock +11 min)", racer))
    deferred = (0 if second.cancelled() else second.result().failed) + racer.failed
    if cfg.broken:
        return lines, in_flight, deferred  # a runner without a ledger never knows it is done
    now = t1 + timedelta(minutes=11)
    for n in range(3, cfg.max_rounds + 1):
        now += timedelta(minutes=20)  # past retry_at, claims and the racer's lease
        report = await make_runner("w2", now).run_round(only=users)
        lines.append(round_line(f"round {n} (w2)", report))
        deferred += report.failed
        if report.claimed == 0:
            break
    return lines, in_flight, deferred


def tally(
    figures: Figures,
    world: World,
    tg: FakeTelegram,
    fake: FakeSpotify,
    listeners: list[Listener],
    spotify_uri: dict[str, str],
    names: re.Pattern[str],
) -> None:
    """Per listener, from what the fakes recorded and the ledger."""
    with world.engine.connect() as conn:
        rows = {
            r.user_id: r
            for r in conn.execute(
                select(
                    DeliveryRow.user_id, DeliveryRow.status, DeliveryRow.attempts, DeliveryRow.note
                ).where(
                    DeliveryRow.kind == DAILY,
                    DeliveryRow.user_id.in_([x.user for x in listeners]),
                )
            )
        }
    asked = {p.get("chat_id") for m, p in tg.requests if m == "sendMessage"}
    for x in listeners:
        sent = tg.sent.get(x.chat, [])
        figures.messages += len(sent)
        headers = [m for m in sent if not m.buttons and m.text.startswith("☀️")]
        cards = [m for m in sent if m.buttons]
        row = rows.get(x.user)
        status = Status(row.status) if row is not None else None
        if status is not None:
            figures.ledger[status.value + (" (blocked)" if x.blocked else "")] += 1
        if status is Status.SENT and row is not None and row.attempts > 1:
            figures.sent_after_deferral += 1
        if status is Status.UNKNOWN:
            no_answer = row is not None and (row.note or "").startswith("no answer")
            if headers:
                figures.unknown_arrived += 1
                figures.no_answer_arrived += no_answer
            else:
                figures.unknown_missing += 1
                figures.no_answer_missing += no_answer
                figures.unknown_never_asked += x.chat not in asked
        if headers:
            figures.got_picks += 1
        if len(headers) > 1:
            figures.duplicated += 1
        if not headers and not x.blocked and status not in (Status.SKIPPED, Status.UNKNOWN):
            figures.lost += 1
        if headers and len(cards) < figures.cards_expected * len(headers):
            figures.partial += 1
        if x.spotify is None or len(headers) != 1:
            continue
        found = [names.search(m.text) for m in cards]
        intended = [spotify_uri[f.group(0)] for f in found if f]
        playlists = [p for p in fake.owned(x.spotify) if p.name == PLAYLIST]
        full = len(cards) == figures.cards_expected
        # A send whose last message got no answer is "partly delivered" in the ledger (and
        # not pushed) even when that message did arrive: the sender couldn't know.
        partly = row is not None and (row.note or "").startswith("partly")
        if not playlists:
            if full and status is Status.SENT and not partly:
                figures.spotify_missing += 1
        elif len(playlists) == 1 and playlists[0].uris == intended:
            figures.spotify_ok += 1
        else:
            figures.spotify_wrong += 1


def resume_unfinished(spotify: SpotifyService, users: set[UserId], passes: int = 20) -> int:
    """What the scheduler's spotify-resume job does (``jobs.wiring.resume_pushes``), for
    these users only and without waiting for ``retry_at`` (the sim's time runs fast)."""
    from wavelength.spotify_service import SpotifyServiceError

    left = []
    for _ in range(passes):
        left = [(u, p) for u, p, _at in spotify.unfinished() if u in users]
        if not left:
            break
        for user, purpose in left:
            with contextlib.suppress(SpotifyServiceError):
                spotify.resume(user, purpose)
    return len([u for u, _p, _at in spotify.unfinished() if u in users])


async def simulate(
    cfg: SimConfig, *, world: World, service: StationService | None = None
) -> Figures:
    """One whole run on ``world`` (its listeners are new; others in the database are left
    alone, so a test can share a world)."""
    started = time.perf_counter()
    rng = random.Random(cfg.seed)
    figures = Figures(cards_expected=cfg.cards)
    service = service or StationService(
        engine=world.engine, composer=world.composer(), names=SqlNameIndex.load(world.engine),
        rng=random.Random(cfg.seed),
    )  # fmt: skip
    chat = make_chat_engine(world, service)
    fake = FakeSpotify().start()
    try:
        spotify_uri = {
            t.name: fake.add_track(t.name, t.artist.name, year=t.year or 2001,
                                   track_id=spotify_track_id(t.id))
            for t in world.tracks.values()
        }  # fmt: skip
        config = SpotifyConfig(
            client_id=fake.client_id, client_secret=fake.client_secret,
            redirect_uri=next(iter(fake.redirect_uris)), api_url=fake.api_url,
            accounts_url=fake.accounts_url, connect_timeout=1.0, read_timeout=1.0,
        )  # fmt: skip
        spotify = SpotifyService(
            engine=world.engine, config=config, box=TokenBox(SECRET),
            sleep=lambda s: time.sleep(s / cfg.speed),
        )  # fmt: skip
        stall = 3 * cfg.timeout
        tg = ChaoticTelegram(
            rng=random.Random(cfg.seed + 1), rate=0.0, stall=stall,
            limits=Limits().scaled(cfg.speed),
        )  # fmt: skip
        async with tg:
            listeners = add_listeners(world, tg, rng, cfg)
            await asyncio.to_thread(link_spotify, spotify, fake, listeners)
            figures.listeners = len(listeners)
            figures.blocked = sum(x.blocked for x in listeners)
            figures.linked = sum(x.spotify is not None for x in listeners)
            tg.rate = cfg.fault_rate
            fake.chaos = spotify_chaos(random.Random(cfg.seed + 2), cfg.fault_rate, figures.faults)
            composer = StationPicks(service, n=cfg.cards)

            def make_runner(worker: str, at: datetime) -> DeliveryRunner | NaiveRunner:
                def clock() -> datetime:
                    return at

                sender = ChatAndSpotify(chat, spotify, clock=clock)
                if cfg.broken:
                    return NaiveRunner(world=world, composer=composer, sender=sender,
                                       clock=clock, concurrency=cfg.concurrency)  # fmt: skip
                return DeliveryRunner(
                    database=world.engine, composer=composer, sender=sender, worker=worker,
                    clock=clock, concurrency=cfg.concurrency, kinds=composer.kinds,
                )  # fmt: skip

            limits = RateLimits(
                per_chat_per_s=cfg.speed, group_per_min=20 * cfg.speed, burst=3,
                overall_per_s=30 * cfg.speed,
            )  # fmt: skip
            frontend = TelegramFrontend.build(
                token=tg.token, engine=chat, base_url=tg.base_url,
                base_file_url=tg.base_file_url, limits=limits, timeout=cfg.timeout,
            )  # fmt: skip
            users = [x.user for x in listeners]
            expected = sum(not x.blocked for x in listeners) * (cfg.cards + 1)
            began = time.perf_counter()
            async with frontend:
                figures.rounds, figures.killed_in_flight, figures.deferred = await deliver(
                    cfg, world, make_runner, tg, users, expected
                )
            figures.deliver_s = time.perf_counter() - began
            linked = {x.user for x in listeners if x.spotify is not None}
            figures.spotify_unfinished = await asyncio.to_thread(resume_unfinished, spotify, linked)
            figures.faults.update(tg.injected)
            names = re.compile(
                "|".join(re.escape(n) for n in sorted(spotify_uri, key=len, reverse=True))
            )
            tally(figures, world, tg, fake, listeners, spotify_uri, names)
    finally:
        fake.stop()
        await chat.close()
    figures.wall_s = time.perf_counter() - started
    figures.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def table(cfg: SimConfig, f: Figures) -> str:
    led = f.ledger
    rate = f.messages / f.deliver_s if f.deliver_s else 0.0
    rows: list[tuple[str, object]] = [
        ("listeners opted in (due now)", f"{f.listeners:,}"),
        ("… who blocked the bot", f.blocked),
        ("… linked to Spotify", f.linked),
        ("**duplicated** (listeners with more than one picks header)", f"**{f.duplicated}**"),
        ("**lost** (reachable, nothing arrived, no final status)", f"**{f.lost}**"),
        ("received their picks", f"{f.got_picks:,}"),
        ("… of them cut short after the header (ledger: sent, partly)", f.partial),
        ("ledger: sent", f"{led['sent']:,}"),
        ("deferred (failed: 429 over 60 s, 500, nothing left), retried later", f.deferred),
        ("ledger: sent on a later attempt (deferred, or claim taken over)", f.sent_after_deferral),
        ("ledger: skipped, blocked the bot", led["skipped (blocked)"]),
        ("ledger: skipped, other", led["skipped"]),
        ("ledger: unknown (killed mid-send), picks arrived",
         f.unknown_arrived - f.no_answer_arrived),
        ("ledger: unknown (killed mid-send), nothing arrived",
         f.unknown_missing - f.no_answer_missing),
        ("… of all unknown and nothing arrived: no request reached the fake (cut off after it left)",
         f.unknown_never_asked),
        ("ledger: unknown (a request got no answer), picks arrived", f.no_answer_arrived),
        ("ledger: unknown (a request got no answer), nothing arrived", f.no_answer_missing),
        ("ledger: failed / claimed / sending, left over",
         led["failed"] + led["claimed"] + led["sending"]),
        ("in flight (sending) when round 1 was killed", f.killed_in_flight),
        ("Spotify playlists holding exactly the cards sent", f.spotify_ok),
        ("Spotify playlists wrong (other tracks, or two playlists)", f.spotify_wrong),
        ("Spotify playlists missing after a full delivery", f.spotify_missing),
        ("Spotify pushes still unfinished after resuming", f.spotify_unfinished),
        ("faults injected", sum(f.faults.values())),
        *((f"… {k}", v) for k, v in sorted(f.faults.items())),
        ("Telegram messages delivered", f"{f.messages:,}"),
        ("delivery wall time (all rounds), s", f"{f.deliver_s:.1f}"),
        ("messages/s", f"{rate:.0f}"),
        ("total wall time (with setup), s", f"{f.wall_s:.1f}"),
        ("peak RSS, MB", f"{f.peak_rss_mb:.0f}"),
    ]  # fmt: skip
    head = "| figure | value |\n|---|--:|\n"
    body = "\n".join(f"| {name} | {value} |" for name, value in rows)
    rounds = "\n".join(f"- {line}" for line in f.rounds)
    return head + body + "\n\nRounds:\n" + rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = SimConfig()
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--spotify-share", type=float, default=defaults.spotify_share)
    parser.add_argument("--blocked-share", type=float, default=defaults.blocked_share)
    parser.add_argument("--fault-rate", type=float, default=defaults.fault_rate)
    parser.add_argument("--speed", type=float, default=defaults.speed)
    parser.add_argument("--cards", type=int, default=defaults.cards)
    parser.add_argument("--broken", action="store_true", help="a runner that ignores the ledger")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args()
    cfg = SimConfig(
        users=args.users, spotify_share=args.spotify_share, blocked_share=args.blocked_share,
        fault_rate=args.fault_rate, speed=args.speed, cards=args.cards, broken=args.broken,
        seed=args.seed,
    )  # fmt: skip
    logging.basicConfig(level=logging.CRITICAL)  # thousands of injected faults get logged
    with (
        tempfile.TemporaryDirectory(prefix="wl-sim-") as folder,
        contextlib.contextmanager(world_fixture)(Path(folder)) as world,
    ):
        figures = asyncio.run(simulate(cfg, world=world))
    print(f"# Delivery simulation, {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")  # fmt: skip
    print(f"# {cfg.users:,} listeners, {cfg.cards} picks each, Telegram limits x{cfg.speed:g}, "
          f"fault rate {cfg.fault_rate:g}, seed {cfg.seed}"
          + (", BROKEN runner (no ledger)" if cfg.broken else ""))  # fmt: skip
    print(table(cfg, figures))
    if figures.duplicated or figures.lost:
        sys.exit(1)


if __name__ == "__main__":
    main()
