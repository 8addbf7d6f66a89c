"""The composition root: builds storage, the engine and the frontends and runs them in one loop.

``runtime`` builds everything a frontend needs, once; ``main`` runs the chat frontends whose
tokens are set (Discord, Telegram) side by side in this event loop, or the console chat when
none is. SIGINT and SIGTERM stop the frontends first, then let the chat engine finish the
calls in flight (each reaction is written in its own transaction before it is answered), so a
shutdown loses no feedback.
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
from typing import TYPE_CHECKING, Any, TextIO

from bot.chat import ChatEngine
from bot.console import run_console
from bot.conversation import Conversation, Reply
from bot.sort_chat import SortChat
from bot.spotify_chat import SpotifyChat
from ingest.demo import DEMO_VERSION, demo_catalog_path
from ingest.pipeline import ingest_tracks
from ingest.problems import ProblemLog
from jobs.scheduler import build_scheduler
from jobs.wiring import scheduled_jobs
from recommender.station import StationComposer
from storage import catalog
from storage.db import open_database
from storage.names import SqlNameIndex
from storage.stats import SqlCatalogStats
from storage.track_facts import SqlTrackCatalog
from wavelength.accounts import AccountService
from wavelength.components import make_encoder, open_vector_store
from wavelength.mixes import MixService
from wavelength.sorter import SorterService
from wavelength.spotify_service import LinkResult, SpotifyService, build_spotify_service
from wavelength.stations import StationService
from wavelength.telemetry import TimedEncoder
from wavelength.warmup import Warmup, needs_training

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


@contextlib.asynccontextmanager
async def runtime(
    settings: Settings, *, echo: Callable[[str], None], progress: bool
) -> AsyncIterator[Runtime]:
    """Build the engine on ``settings``; everything is closed again on the way out."""
    settings.data_home.mkdir(parents=True, exist_ok=True)
    database = open_database(settings.database_url)
    store = open_vector_store(settings)
    try:
        if settings.demo_catalog:
            ensure_demo_catalog(database, echo=echo, progress=progress)
        encoder = TimedEncoder(make_encoder(settings))
        composer = StationComposer(store=store, encoder=encoder, catalog=SqlTrackCatalog(database))
        if needs_training(database, store, settings):
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
        mixes = MixService(engine=database, store=store, catalog=SqlTrackCatalog(database))
        sorter = SorterService(
            engine=database, store=store, catalog=SqlTrackCatalog(database), spotify=spotify
        )
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
                spotify, spotify_chat, mixes, composer, names, sorter,
            )  # fmt: skip
        finally:
            await chat.close()  # finishes the calls in flight: no reaction is dropped
            warmup.stop()
            composer.close()
    finally:
        store.close()
        database.dispose()


def chat_frontends(rt: Runtime) -> dict[str, Frontend]:
    """The frontends whose tokens are set, and the HTTP API when it is enabled. Imported
    here so a console-only install never loads discord.py, python-telegram-bot or FastAPI."""
    found: dict[str, Frontend] = {}
    if rt.settings.api_enabled:
        from vectorstore import CollectionName
        from web import build_api, run_api

        key = rt.settings.api_admin_key
        api = build_api(
            stations=rt.stations,
            database=rt.database,
            composer=rt.composer,
            names=rt.names,
            store_ready=lambda: rt.store.info(CollectionName.TRACKS) is not None,
            admin_key=key.get_secret_value() if key is not None else None,
        )
        found["the HTTP API"] = lambda stop: run_api(rt.settings, api, stop=stop)
    if rt.settings.discord_token is not None:
        from bot.discord import run_discord

        found["Discord"] = lambda stop: run_discord(rt.settings, rt.chat, stop=stop)
    if rt.settings.telegram_token is not None:
        from bot.telegram import run_telegram

        found["Telegram"] = lambda stop: run_telegram(rt.settings, rt.chat, stop=stop)
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


async def serve(frontends: dict[str, Frontend], *, echo: Callable[[str], None]) -> None:
    """Run the frontends side by side until SIGINT/SIGTERM or until one of them fails."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers (NotImplementedError); a loop outside the main
        # thread can't take them (RuntimeError): then Ctrl-C ends the process as usual.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    echo(f"Wavelength is listening on {' and '.join(frontends)}. Ctrl-C stops it.")
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
    settings: Settings, *, stdin: TextIO, stdout: TextIO, echo: Callable[[str], None]
) -> None:
    """Run Wavelength on ``settings``: the bots whose tokens are set, else the console."""
    async with runtime(settings, echo=echo, progress=stdin.isatty()) as rt:
        frontends = chat_frontends(rt)
        if frontends:
            configure_logging()
            scheduler = build_scheduler(
                scheduled_jobs(
                    database=rt.database,
                    stations=rt.stations,
                    chat=rt.chat,
                    spotify=rt.spotify,
                    mixes=rt.mixes,
                    sorter=rt.sorter,
                )
            )
            scheduler.start()  # on this loop: the jobs run beside the bots
            try:
                async with spotify_callback(rt, echo=echo):
                    await serve(frontends, echo=echo)
            finally:
                scheduler.shutdown(wait=False)
            return
        user = rt.stations.user("console", getpass.getuser())
        # The console blocks on stdin; a thread keeps the event loop free for the others.
        await asyncio.to_thread(run_console, rt.conversation, stdin, stdout, user=user)
