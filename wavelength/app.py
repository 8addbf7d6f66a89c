"""The composition root: builds storage, the engine and the frontends and runs them in one loop.

``runtime`` builds everything a frontend needs, once; ``main`` runs the chat frontends whose
tokens are set (Discord, Telegram), the HTTP API and the scheduled jobs side by side in this
event loop, or the console chat when there is no frontend. A deployment can split that in two
(``ServeMode``): processes that chat and serve HTTP without the jobs, and one that runs only
the jobs, writing to people through the bots' senders (REST clients that receive nothing).
SIGINT and SIGTERM stop the frontends first, then let the chat engine finish the calls in
flight (each reaction is written in its own transaction before it is answered), so a shutdown
loses no feedback.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import getpass
import logging
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TextIO

from bot.chat import ChatEngine
from bot.console import run_console
from bot.conversation import Conversation, Reply
from bot.sort_chat import SortChat
from bot.spotify_chat import SpotifyChat
from ingest.demo import DEMO_VERSION, demo_catalog_path
from ingest.pipeline import ingest_tracks
from ingest.problems import ProblemLog
from jobs.scheduler import Job, build_scheduler
from jobs.wiring import scheduled_jobs
from recommender.station import StationComposer
from storage import catalog
from storage.db import open_database
from storage.names import SqlNameIndex
from storage.stats import SqlCatalogStats
from storage.track_facts import SqlTrackCatalog
from wavelength.accounts import AccountService
from wavelength.components import make_encoder, make_shared_neighbours, open_vector_store
from wavelength.mixes import MixService
from wavelength.model_refresh import ModelRefresher
from wavelength.sorter import SorterService
from wavelength.spotify_service import LinkResult, SpotifyService, build_spotify_service
from wavelength.stations import StationService
from wavelength.telemetry import TimedEncoder
from wavelength.warmup import Warmup, needs_training, trained_key

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from vectorstore.base import VectorStore
    from wavelength.settings import Settings

log = logging.getLogger(__name__)

# A frontend runs until ``stop`` is set, then returns once it has shut down cleanly.
Frontend = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def ensure_demo_catalog(engine: Engine, *, echo: Callable[[str], None], progress: bool) -> bool:
    """Load the bundled demo catalog once per database; returns whether it loaded now."""
    with engine.connect() as conn:
        if catalog.get_meta(conn=conn, key=DEMO_VERSION) is not None:
            return False
    echo("First start: loading the bundled demo catalog (real track metadata, no playlists) ...")
    report = ingest_tracks(
        engine, [demo_catalog_path()], problems=ProblemLog(echo=echo), progress=progress
    )
    with engine.begin() as conn:
        catalog.set_meta(conn=conn, key=DEMO_VERSION, value=str(report.read))
    echo(report.summary())
    return True


def freeze_startup_heap() -> None:
    """Move what startup built (the name index alone is about a million strings) out of the
    garbage collector's reach. A full collection over it took 360-400 ms and landed in the
    slowest 1% of station requests: in A/B runs of 480 reactions at 107k tracks, p99 was
    18-23 ms without the freeze and 13-18 ms with it (2026-11-27)."""
    gc.collect()
    gc.freeze()


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything the frontends share, built once."""

    settings: Settings
    database: Engine
    store: VectorStore
    stations: StationService
    accounts: AccountService
    conversation: Conversation
    chat: ChatEngine
    warmup: Warmup
    spotify: SpotifyService | None
    spotify_chat: SpotifyChat
    mixes: MixService
    composer: StationComposer
    names: SqlNameIndex
    sorter: SorterService
    models: ModelRefresher | None = None  # None when the store can't switch generations


@contextlib.asynccontextmanager
async def runtime(
    settings: Settings,
    *,
    echo: Callable[[str], None],
    progress: bool,
    prepare_catalog: bool = True,
) -> AsyncIterator[Runtime]:
    """Build the engine on ``settings``; everything is closed again on the way out.

    ``prepare_catalog``: load the demo catalog and build the vectors in the background when
    they are missing. A jobs-only process leaves both to the chat process, so two processes
    started together never write the same catalog and collections at once."""
    settings.data_home.mkdir(parents=True, exist_ok=True)
    database = open_database(settings.database_url)
    store = open_vector_store(settings)
    shared = make_shared_neighbours(settings)
    try:
        if settings.demo_catalog and prepare_catalog:
            ensure_demo_catalog(database, echo=echo, progress=progress)
        encoder = TimedEncoder(make_encoder(settings))
        # One memo of catalog facts for the station engine, mixes and the sorter, which the
        # composer's refresh clears for all three when new vectors go live.
        facts = SqlTrackCatalog(database)
        composer = StationComposer(
            store=store, encoder=encoder, catalog=facts, shared_neighbours=shared
        )
        if not prepare_catalog:
            # The composer looks for the vectors again on every call until they are there.
            warmup = Warmup.ready()
        elif needs_training(database, store, settings):
            echo(
                "Building the catalog's vectors in the background (once; a few minutes for "
                "the demo catalog on a laptop CPU). The chat works meanwhile."
            )
            warmup = Warmup.start(
                database, store, encoder, settings, echo=echo, on_ready=composer.refresh
            )
        else:
            warmup = Warmup.ready()
        names = SqlNameIndex.load(database)
        stations = StationService(
            engine=database,
            composer=composer,
            names=names,
            batch_size=settings.station_batch_size,
        )
        accounts = AccountService(engine=database)
        spotify = build_spotify_service(settings, database, stations=stations)
        spotify_chat = SpotifyChat(spotify)
        mixes = MixService(engine=database, store=store, catalog=facts)
        models = _model_refresher(store, database, encoder, composer, settings)
        sorter = SorterService(engine=database, store=store, catalog=facts, spotify=spotify)
        conversation = Conversation(
            catalog=SqlCatalogStats(database),
            stations=stations,
            accounts=accounts,
            spotify=spotify_chat,
            mixes=mixes,
            sorter=SortChat(sorter),
            max_chars=settings.max_message_chars,
            warming=warmup.status,
        )
        chat = ChatEngine(
            conversation=conversation, stations=stations, accounts=accounts, database=database
        )
        freeze_startup_heap()
        try:
            yield Runtime(
                settings, database, store, stations, accounts, conversation, chat, warmup,
                spotify, spotify_chat, mixes, composer, names, sorter, models,
            )  # fmt: skip
        finally:
            await chat.close()  # finishes the calls in flight: no reaction is dropped
            warmup.stop()
            if models is not None:
                models.stop()  # a refresh build must not outlive the store it reads
    finally:
        store.close()
        database.dispose()
        if shared is not None:
            shared.close()


def _model_refresher(
    store: VectorStore,
    database: Engine,
    encoder: TimedEncoder,
    composer: StationComposer,
    settings: Settings,
) -> ModelRefresher | None:
    """The periodic model refresh, over a store that can switch generations; the composer
    forgets what it cached from the old vectors on every switch."""
    from jobs.wiring import worker_id
    from vectorstore import LiveStore

    if not isinstance(store, LiveStore):
        return None
    store.on_swap(lambda _generation: composer.refresh())
    return ModelRefresher(
        database=database, live=store, encoder=encoder, settings=settings, worker=worker_id()
    )


def chat_frontends(rt: Runtime) -> dict[str, Frontend]:
    """The frontends whose tokens are set, and the HTTP API when it is enabled. Imported
    here so a console-only install never loads discord.py, python-telegram-bot or FastAPI."""
    found: dict[str, Frontend] = {}
    if rt.settings.api_enabled:
        from wavelength.api_processes import make_processes
        from wavelength.components import make_api
        from wavelength.compose_pool import make_pool
        from web import run_api

        others = make_processes(rt.settings)  # before the app: it decides where metrics go
        pool = make_pool(rt.settings, rt.stations)
        api = make_api(
            rt.settings, stations=rt.stations, database=rt.database, composer=rt.composer,
            names=rt.names, store=rt.store, nexts=pool.next if pool is not None else None,
        )  # fmt: skip
        if others is not None:
            found["the HTTP API"] = lambda stop: others.serving(
                api, stop=stop, ready=lambda: rt.warmup.status() is None
            )
        elif pool is None:
            found["the HTTP API"] = lambda stop: run_api(rt.settings, api, stop=stop)
        else:
            found["the HTTP API"] = lambda stop: pool.serving(
                run_api(rt.settings, api, stop=stop), ready=lambda: rt.warmup.status() is None
            )
    if rt.settings.discord_token is not None:
        from bot.discord import run_discord

        found["Discord"] = lambda stop: run_discord(rt.settings, rt.chat, stop=stop)
    if rt.settings.telegram_token is not None:
        from bot.telegram import run_telegram

        found["Telegram"] = lambda stop: run_telegram(rt.settings, rt.chat, stop=stop)
    return found


class ServeMode(StrEnum):
    """What ``wavelength serve`` runs."""

    ALL = "all"  # the bots, the HTTP API and the scheduled jobs
    NO_JOBS = "no-jobs"  # the bots and the HTTP API; another process runs the jobs
    JOBS_ONLY = "jobs-only"  # the jobs, writing through the bots' senders; no chat, no HTTP


SCHEDULER = "the scheduled jobs"


def sender_frontends(rt: Runtime, *, telegram_base_url: str | None = None) -> dict[str, Frontend]:
    """For the tokens that are set, the bots' senders only: clients that can message people
    (``ChatEngine.message``) but never fetch an update, so they run beside the process that
    chats without conflicting with its polling, webhook or gateway session."""
    found: dict[str, Frontend] = {}
    if rt.settings.discord_token is not None:
        from bot.discord import run_discord_sender

        found["Discord (sending only)"] = lambda stop: run_discord_sender(
            rt.settings, rt.chat, stop=stop
        )
    if rt.settings.telegram_token is not None:
        from bot.telegram import run_telegram_sender

        found["Telegram (sending only)"] = lambda stop: run_telegram_sender(
            rt.settings, rt.chat, stop=stop, base_url=telegram_base_url
        )
    return found


def runtime_jobs(rt: Runtime) -> list[Job]:
    """The scheduled jobs over the runtime's services."""
    return scheduled_jobs(
        database=rt.database,
        stations=rt.stations,
        chat=rt.chat,
        spotify=rt.spotify,
        mixes=rt.mixes,
        sorter=rt.sorter,
        models=rt.models,
    )


def scheduler_frontend(jobs: list[Job]) -> Frontend:
    """APScheduler on this loop, beside the bots, until ``stop``. Every round takes a lease
    in the database first, so any number of processes may run this."""

    async def run(stop: asyncio.Event) -> None:
        scheduler = build_scheduler(jobs)
        scheduler.start()
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)

    return run


def plan(
    rt: Runtime,
    mode: ServeMode,
    *,
    jobs: list[Job] | None = None,
    telegram_base_url: str | None = None,
) -> dict[str, Frontend]:
    """What ``serve`` runs in ``mode``; empty when nothing but the console chat would run.
    ``jobs`` replaces the runtime's jobs (tests run them more often)."""
    if mode is ServeMode.JOBS_ONLY:
        found = sender_frontends(rt, telegram_base_url=telegram_base_url)
    else:
        found = chat_frontends(rt)
        if not found:
            return found  # the console: it never ran the jobs
    if mode is not ServeMode.NO_JOBS:
        found[SCHEDULER] = scheduler_frontend(runtime_jobs(rt) if jobs is None else jobs)
    return found


@contextlib.asynccontextmanager
async def spotify_callback(rt: Runtime, *, echo: Callable[[str], None]) -> AsyncIterator[None]:
    """Serve Spotify's OAuth callback while the bots run (when a Spotify app is set up).

    A completed link starts the library import; the person sees it in the browser page and
    in /spotify. Where the port can't be bound (no public address, taken port), linking
    still works by pasting the redirected address into the chat."""
    if rt.spotify is None:
        yield
        return
    from urllib.parse import urlsplit

    from spotify.web import callback_app, start_callback_server

    async def linked(result: LinkResult) -> None:
        if result.user is None:
            return
        if result.linked:
            rt.spotify_chat.start_import(result.user)
            text = (
                f"✅ {result.message} I'm importing your library in the background; /spotify "
                "shows how far it got, and /save puts a station into your Spotify."
            )
        else:
            text = result.message
        await rt.chat.message(result.user, [Reply(text)])

    app = callback_app(
        complete=rt.spotify.complete,
        notify=linked,
        path=urlsplit(rt.settings.spotify_redirect_uri).path or "/spotify/callback",
    )
    try:
        runner = await start_callback_server(
            app, host=rt.settings.spotify_callback_host, port=rt.settings.spotify_callback_port
        )
    except OSError as exc:
        echo(f"Spotify callback not served ({exc}); people can paste the address instead.")
        yield
        return
    try:
        yield
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def vectors_from_elsewhere(
    rt: Runtime, *, echo: Callable[[str], None], every_s: float = 30.0
) -> AsyncIterator[None]:
    """A jobs-only process never builds the vectors. Until another process (the chat's first
    start, ``wavelength train``) has marked them built, look every ``every_s`` seconds, then
    let the composer read them afresh: what it saw mid-build (no playlists yet) would stick."""

    def built() -> bool:
        with rt.database.connect() as conn:
            return catalog.get_meta(conn=conn, key=trained_key(rt.settings)) is not None

    if await asyncio.to_thread(built):
        yield
        return
    echo("The catalog's vectors aren't built yet; deliveries start once the chat process has.")

    async def watch() -> None:
        while True:
            try:
                if await asyncio.to_thread(built):
                    break
            except Exception:  # a database hiccup: look again next time
                log.warning("could not check whether the vectors are built", exc_info=True)
            await asyncio.sleep(every_s)
        rt.composer.refresh()
        echo("The catalog's vectors are ready.")

    watcher = asyncio.create_task(watch(), name="vectors-watch")
    try:
        yield
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


def _listing(names: list[str]) -> str:
    return " and ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} and {names[-1]}"


async def serve(frontends: dict[str, Frontend], *, echo: Callable[[str], None]) -> None:
    """Run the frontends side by side until SIGINT/SIGTERM or until one of them fails."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers (NotImplementedError); a loop outside the main
        # thread can't take them (RuntimeError): then Ctrl-C ends the process as usual.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    echo(f"Wavelength is running {_listing(list(frontends))}. Ctrl-C stops it.")
    tasks: dict[asyncio.Task[None], str] = {
        asyncio.create_task(run(stop), name=name): name for name, run in frontends.items()
    }
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not stop.is_set() and task.exception() is not None:
                echo(f"{tasks[task]} stopped: {task.exception()}. Shutting down.")
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # as when added
                loop.remove_signal_handler(sig)
    echo("Stopped cleanly.")


def configure_logging() -> None:
    """Warnings and errors to stderr; the HTTP clients' per-request INFO lines are noise for
    a self-hoster (and would repeat every API URL)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in ("httpx", "httpcore", "apscheduler", "discord.http", "discord.gateway"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # spotipy logs every 429 and 5xx it hands back at ERROR; the service handles them.
    logging.getLogger("spotipy.client").setLevel(logging.CRITICAL)


async def main(
    settings: Settings,
    *,
    stdin: TextIO,
    stdout: TextIO,
    echo: Callable[[str], None],
    mode: ServeMode = ServeMode.ALL,
) -> None:
    """Run Wavelength on ``settings``: the bots whose tokens are set, the HTTP API and the
    jobs, or the part ``mode`` names; the console when there is no bot and no API."""
    jobs_only = mode is ServeMode.JOBS_ONLY
    async with runtime(
        settings, echo=echo, progress=stdin.isatty(), prepare_catalog=not jobs_only
    ) as rt:
        frontends = plan(rt, mode)
        if frontends:
            configure_logging()
            if jobs_only:
                if list(frontends) == [SCHEDULER]:
                    echo(
                        "No bot token is set: the jobs can't message anyone (Spotify "
                        "playlists are still kept up to date)."
                    )
                # No Spotify callback either: this process serves nothing over HTTP.
                async with vectors_from_elsewhere(rt, echo=echo):
                    await serve(frontends, echo=echo)
                return
            async with spotify_callback(rt, echo=echo):
                await serve(frontends, echo=echo)
            return
        user = rt.stations.user("console", getpass.getuser())
        # The console blocks on stdin; a thread keeps the event loop free for the others.
        await asyncio.to_thread(run_console, rt.conversation, stdin, stdout, user=user)
