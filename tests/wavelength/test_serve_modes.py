"""``wavelength serve --jobs-only`` and ``--no-jobs``: what each mode runs, and a jobs-only
process delivering daily picks on the fake Telegram and the fake Discord while it receives
nothing (no getUpdates, no webhook change, no gateway session, no command sync)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.chat import Who
from bot.conversation import Conversation, Reply
from bot.spotify_chat import SpotifyChat
from jobs.schedule import DAILY
from storage import deliveries
from storage.deliveries import Status
from storage.names import SqlNameIndex
from storage.stats import SqlCatalogStats
from tests.support.fake_discord import FakeDiscord, fake_discord
from tests.support.fake_telegram import FakeTelegram, Limits
from wavelength.accounts import AccountService
from wavelength.app import (
    SCHEDULER,
    Runtime,
    ServeMode,
    plan,
    runtime_jobs,
    scheduler_frontend,
    serve,
)
from wavelength.cli import app as cli
from wavelength.mixes import MixService
from wavelength.settings import Settings
from wavelength.sorter import SorterService
from wavelength.warmup import Warmup

if TYPE_CHECKING:
    from bot.chat import ChatEngine
    from jobs.scheduler import Job
    from tests.support.world import World
    from wavelength.domain import UserId
    from wavelength.stations import StationService

TELEGRAM_TOKEN = "123456789:a-token-no-request-is-made-with"


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB's opt-in to timedelta durations (the frontend sets it too); warnings are errors."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def runtime_over(
    world: World, service: StationService, chat: ChatEngine, settings: Settings
) -> Runtime:
    """The composition root's runtime over the known-answer world (no Spotify app)."""
    accounts = AccountService(engine=world.engine)
    return Runtime(
        settings=settings,
        database=world.engine,
        store=world.store,
        stations=service,
        accounts=accounts,
        conversation=Conversation(
            catalog=SqlCatalogStats(world.engine), stations=service, accounts=accounts
        ),
        chat=chat,
        warmup=Warmup.ready(),
        spotify=None,
        spotify_chat=SpotifyChat(None),
        mixes=MixService(engine=world.engine, store=world.store, catalog=world.catalog),
        composer=world.composer(),
        names=SqlNameIndex.load(world.engine),
        sorter=SorterService(engine=world.engine, store=world.store, catalog=world.catalog),
    )


def tokens(*, discord: str | None = None, telegram: str | None = None) -> Settings:
    return Settings(
        discord_token=SecretStr(discord) if discord else None,
        telegram_token=SecretStr(telegram) if telegram else None,
    )


async def opt_in(chat: ChatEngine, who: Who) -> UserId:
    """A listener who loved two tracks and asked for daily picks a minute ago (UTC)."""
    await chat.handle(who, "/radio cool jazz")
    await chat.handle(who, "❤️ 1 2")
    minute_ago = datetime.now(UTC) - timedelta(minutes=1)
    said = await chat.handle(who, f"/settings daily=on time={minute_ago:%H:%M}")
    assert "daily" in said[0].text.lower(), said[0].text
    return await chat.user_of(who)


def fast_deliveries(rt: Runtime) -> list[Job]:
    """The runtime's delivery job, every second instead of every minute."""
    [job] = [j for j in runtime_jobs(rt) if j.name == "deliveries"]
    return [replace(job, every_seconds=1)]


def picks_in_dms(fake: FakeDiscord, account: str) -> bool:
    channel = fake.dm_channels.get(int(account))
    messages = fake.channel_messages(channel) if channel is not None else []
    return any("picks" in str(m["content"]) for m in messages)


def test_jobs_only_delivers_daily_picks_on_both_platforms_and_receives_nothing(
    world: World, service: StationService, chat_engine: ChatEngine
) -> None:
    async def scenario() -> None:
        async with FakeTelegram(limits=Limits().scaled(20)) as tg, fake_discord() as fake:
            rt = runtime_over(
                world, service, chat_engine, tokens(discord=fake.token, telegram=tg.token)
            )
            ana = tg.user("Ana")
            tg.private(ana)  # she started the bot once (in the chat process)
            bo = fake.new_user("bo")
            users = [
                await opt_in(chat_engine, Who("telegram", str(ana["id"]), "Ana")),
                await opt_in(chat_engine, Who("discord", str(bo.id), "bo")),
            ]
            frontends = plan(
                rt, ServeMode.JOBS_ONLY, jobs=fast_deliveries(rt), telegram_base_url=tg.base_url
            )
            assert list(frontends) == [
                "Discord (sending only)",
                "Telegram (sending only)",
                SCHEDULER,
            ]
            stop = asyncio.Event()
            running = [asyncio.create_task(run(stop)) for run in frontends.values()]
            try:
                # the ledger says SENT once the last card of a delivery went out
                await fake.until(lambda: all(sent(world, u) for u in users), timeout=30)
            finally:
                stop.set()
                await asyncio.wait_for(asyncio.gather(*running), 15)
            assert [task.result() for task in running] == [None] * 3  # each stopped cleanly
            assert any("picks" in t for t in tg.texts(tg.private(ana)))
            assert picks_in_dms(fake, str(bo.id))
            # the cards take reactions like any batch: buttons on Telegram, the four
            # reaction buttons under each Discord card
            assert len([m for m in tg.sent[ana["id"]] if m.buttons]) == 10
            dms = fake.channel_messages(fake.dm_channels[bo.id])
            assert [len(fake.bot_reactions(m)) for m in dms if m["embeds"]] == [4] * 10
            # it only ever sent: no updates fetched, the chat process's webhook or polling
            # untouched, no command menu written, no gateway session, no command sync
            called = {name for name, _ in tg.requests}
            assert called & {"getUpdates", "setWebhook", "deleteWebhook", "setMyCommands"} == set()
            assert {"getMe", "sendMessage"} <= called
            assert fake.sessions == [] and fake.identifies == 0
            assert not [r for r in fake.requests if r.path.endswith("/commands")]
            assert fake.global_commands == [] and fake.unhandled == []
            # stopped senders took their outboxes with them
            after = await chat_engine.message(users[0], [Reply("still there?")])
            assert not after.ok and after.note == "no frontend running"

    asyncio.run(asyncio.wait_for(scenario(), 60))


def sent(world: World, user: UserId) -> bool:
    """The user's daily picks are SENT in the ledger, today's or (a minute after midnight,
    UTC) yesterday's."""
    today = datetime.now(UTC).date()
    with world.engine.connect() as conn:
        return any(
            deliveries.status_of(conn=conn, user=user, kind=DAILY, day=day.isoformat())
            is Status.SENT
            for day in (today - timedelta(days=1), today)
        )


def test_no_jobs_runs_the_bots_without_the_scheduler_and_the_default_runs_both(
    world: World, service: StationService, chat_engine: ChatEngine
) -> None:
    rt = runtime_over(world, service, chat_engine, tokens(telegram=TELEGRAM_TOKEN))
    assert list(plan(rt, ServeMode.NO_JOBS)) == ["Telegram"]
    assert list(plan(rt, ServeMode.ALL)) == ["Telegram", SCHEDULER]
    assert list(plan(rt, ServeMode.JOBS_ONLY)) == ["Telegram (sending only)", SCHEDULER]
    bare = runtime_over(world, service, chat_engine, tokens())
    assert plan(bare, ServeMode.ALL) == {}  # the console, which never ran the jobs
    assert plan(bare, ServeMode.NO_JOBS) == {}
    assert list(plan(bare, ServeMode.JOBS_ONLY)) == [SCHEDULER]  # never the console


def test_the_scheduler_frontend_runs_its_jobs_until_stopped() -> None:
    from jobs.scheduler import Job

    rounds: list[float] = []

    async def count() -> int:
        rounds.append(asyncio.get_running_loop().time())
        return len(rounds)

    async def scenario() -> None:
        stop = asyncio.Event()
        run = asyncio.create_task(scheduler_frontend([Job("count", 1, count, "counts")])(stop))
        while len(rounds) < 2:
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(run, 5)
        seen = len(rounds)
        await asyncio.sleep(1.3)
        assert len(rounds) == seen  # shut down: no more rounds

    asyncio.run(asyncio.wait_for(scenario(), 20))
    assert len(rounds) >= 2


def test_jobs_only_and_no_jobs_exclude_each_other(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QDRANT_URL", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--jobs-only", "--no-jobs"])
    assert result.exit_code == 2
    assert "--jobs-only and --no-jobs exclude each other" in result.output
    embedded = CliRunner().invoke(cli, ["serve", "--jobs-only"])
    assert embedded.exit_code == 2 and "set QDRANT_URL" in embedded.output
    shown = CliRunner().invoke(cli, ["serve", "--help"])
    assert shown.exit_code == 0
    assert "--jobs-only" in shown.output and "--no-jobs" in shown.output


def test_a_sender_with_a_wrong_token_stops_the_jobs_process_and_says_why(
    world: World, service: StationService, chat_engine: ChatEngine
) -> None:
    lines: list[str] = []

    async def scenario() -> None:
        async with FakeTelegram(limits=None) as tg:
            wrong = tokens(telegram=tg.token.replace(":", ":x", 1))
            rt = runtime_over(world, service, chat_engine, wrong)
            frontends = plan(rt, ServeMode.JOBS_ONLY, telegram_base_url=tg.base_url)
            await asyncio.wait_for(serve(frontends, echo=lines.append), 15)
            assert [name for name, _ in tg.requests] == ["getMe"]

    asyncio.run(scenario())
    assert any(line.startswith("Telegram (sending only) stopped:") for line in lines), lines
    assert lines[-1] == "Stopped cleanly."
