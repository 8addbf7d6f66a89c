"""`wavelength jobs`: what the scheduler runs, and running one delivery by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from wavelength.settings import Settings

jobs_app = typer.Typer(
    help=(
        "Scheduled jobs: daily picks by DM and to Spotify, resuming interrupted pushes, "
        "re-training the collaborative vectors."
    ),
    no_args_is_help=True,
)

JOB_NAMES = ("daily-picks", "model-refresh")


@jobs_app.command("list")
def jobs_list_cmd() -> None:
    """The jobs `wavelength serve` schedules, who is opted in and what was delivered."""
    from jobs.schedule import due_at
    from jobs.wiring import DELIVERY_EVERY_S, MODEL_CHECK_EVERY_S, SPOTIFY_RESUME_EVERY_S
    from storage import accounts, deliveries
    from storage.db import open_database
    from wavelength.cli import _settings

    settings = _settings()
    database = open_database(settings.database_url)
    try:
        with database.connect() as conn:
            opted = accounts.opted_in(conn=conn)
            done = deliveries.counts(conn=conn)
        vectors = _vectors_state(settings, database)
    finally:
        database.dispose()
    spotify = "on" if settings.spotify_enabled else "off: no Spotify app configured"
    typer.echo("Scheduled by `wavelength serve` (a database lease lets one process fire each):")
    typer.echo(f"  daily-picks      every {DELIVERY_EVERY_S:>4} s   daily picks by DM, at each")
    typer.echo("                                    listener's local time (and to Spotify)")
    typer.echo(
        f"  spotify-resume   every {SPOTIFY_RESUME_EVERY_S:>4} s   finish interrupted pushes ({spotify})"
    )
    typer.echo(
        f"  model-refresh    every {MODEL_CHECK_EVERY_S // 3600:>4} h   re-train the collaborative "
        "vectors when enough"
    )
    typer.echo("                                    new playlists arrived")
    now = datetime.now(UTC)
    soon = 0
    for _user, prefs in opted:
        today = now.date()
        for day in (today, today + timedelta(days=1)):
            if now <= due_at(prefs, day) < now + timedelta(days=1):
                soon += 1
    typer.echo(f"Listeners opted in to daily picks: {len(opted)}; due in the next 24 h: {soon}")
    if done:
        parts = " · ".join(f"{status.value} {count:,}" for status, count in sorted(done.items()))
        typer.echo(f"Deliveries so far: {parts}")
    else:
        typer.echo("Deliveries so far: none")
    for line in vectors:
        typer.echo(line)


def _vectors_state(settings: Settings, database: Engine) -> list[str]:
    """The live vector generation, what it learned from and what arrived since (counts and
    a pointer or alias read: nothing that needs the store itself, which `serve` may hold)."""
    from vectorstore import VectorStoreError, open_generations
    from wavelength.model_refresh import assess, catalog_size, meta_key, read_trained

    key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    try:
        generations = open_generations(
            url=settings.qdrant_url, api_key=key, path=settings.vector_dir
        )
        try:
            live = generations.live()
        finally:
            generations.close()
    except VectorStoreError as exc:
        return [f"Vectors: unknown ({exc})"]
    with database.connect() as conn:
        now = catalog_size(conn=conn)
        trained = read_trained(conn=conn, key=meta_key(settings))
    check = assess(
        live=live, trained=trained, now=now, has_cf=None,
        min_new=settings.refresh_min_new_items, share=settings.refresh_min_new_share,
    )  # fmt: skip
    lines = [f"Vectors: generation {live} live"]
    if check.trained is not None:
        size = check.trained.size
        how = "counted at the first check" if check.trained.baseline else "trained"
        lines[0] += (
            f", {how} {check.trained.at:%Y-%m-%d %H:%M} UTC on {size.playlist_items:,} "
            f"playlist items ({size.playlists:,} playlists, {size.tracks:,} tracks)"
        )
    lines.append(
        f"Catalog now: {now.playlist_items:,} playlist items, {now.tracks:,} tracks; {check.reason}"
    )
    return lines


@jobs_app.command("run")
def jobs_run_cmd(
    job: Annotated[
        str, typer.Argument(help="The job: daily-picks or model-refresh.", show_default=False)
    ],
    user: Annotated[
        str | None,
        typer.Option("--user", help="daily-picks: users.name, e.g. telegram:123456 (see `stats`)."),
    ] = None,
    now: Annotated[
        bool,
        typer.Option(
            "--now", help="daily-picks: compose and push now instead of saying when it's due."
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="model-refresh: rebuild even without enough new data."),
    ] = False,
) -> None:
    """Run a job by hand. daily-picks: one user's picks, composed now, shown here, pushed to
    their Spotify when linked (the chat message itself is sent by the running `wavelength
    serve` at the listener's time; this doesn't record a delivery, so it never prevents one).
    model-refresh: re-train the collaborative vectors into a new generation and swap it live
    when enough new playlists arrived (with an embedded store, stop `serve` first: it holds
    the store; with a Qdrant server, running processes follow the swap within a minute)."""
    if job not in JOB_NAMES:
        raise typer.BadParameter(f"unknown job {job!r}; jobs: {', '.join(JOB_NAMES)}")
    if job == "model-refresh":
        _run_model_refresh(force=force)
        return
    if user is None:
        raise typer.BadParameter("daily-picks needs --user NAME")
    asyncio.run(_run_daily(user, now=now))


def _run_model_refresh(*, force: bool) -> None:
    from jobs.wiring import refresh_model, worker_id
    from storage.db import open_database
    from storage.track_facts import SqlTrackCatalog
    from wavelength.cli import _err, _heavy_errors, _settings
    from wavelength.components import make_encoder, open_vector_store
    from wavelength.mixes import MixService
    from wavelength.model_refresh import ModelRefresher, Outcome

    settings = _settings()
    database = open_database(settings.database_url)
    try:
        with _heavy_errors():
            encoder = make_encoder(settings)
            store = open_vector_store(settings)
            try:
                refresher = ModelRefresher(
                    database=database, live=store, encoder=encoder, settings=settings,
                    worker=worker_id(), echo=_err,
                )  # fmt: skip
                mixes = MixService(engine=database, store=store, catalog=SqlTrackCatalog(database))
                result = refresh_model(database, refresher, mixes, force=force)
            finally:
                store.close()
    finally:
        database.dispose()
    typer.echo(f"model-refresh: {result}")
    if result.outcome is Outcome.BUSY:
        raise typer.Exit(1)


async def _run_daily(name: str, *, now: bool) -> None:
    from sqlalchemy import select

    from bot import render
    from jobs.schedule import due_at
    from storage import accounts
    from storage.models import UserRow
    from wavelength.app import runtime
    from wavelength.cli import _err, _settings
    from wavelength.domain import UserId

    settings = _settings()
    async with runtime(settings, echo=_err, progress=False) as rt:
        with rt.database.connect() as conn:
            found = conn.execute(select(UserRow.id).where(UserRow.name == name)).scalar()
            prefs = accounts.get_prefs(conn=conn, user=UserId(found)) if found else None
        if found is None or prefs is None:
            _err(f"wavelength: no user called {name!r}")
            raise typer.Exit(2)
        user = UserId(found)
        if not now:
            when = due_at(prefs, datetime.now(UTC).date())
            state = "on" if prefs.daily and not prefs.paused else "off"
            typer.echo(f"{name}: daily picks {state}; today's time is {when:%H:%M} UTC.")
            return
        batch = await asyncio.to_thread(rt.stations.daily_picks, user, n=10)
        if batch is None:
            typer.echo(f"{name}: nothing to go on yet (no likes, favourites or plays).")
            return
        typer.echo(render.batch_text(batch, intro="Today's picks:"))
        if rt.spotify is not None:
            reply = await asyncio.to_thread(
                rt.spotify_chat.save, user, "daily", "Daily picks", "Daily picks",
                [c.track.id for c in batch.cards],
            )  # fmt: skip
            typer.echo(reply.text)
