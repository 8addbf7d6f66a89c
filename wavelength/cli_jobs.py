"""`wavelength jobs`: what the scheduler runs, and running one delivery by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

jobs_app = typer.Typer(
    help="Scheduled jobs: daily picks by DM and to Spotify, resuming interrupted pushes.",
    no_args_is_help=True,
)

JOB_NAMES = ("daily-picks",)


@jobs_app.command("list")
def jobs_list_cmd() -> None:
    """The jobs `wavelength serve` schedules, who is opted in and what was delivered."""
    from jobs.schedule import due_at
    from jobs.wiring import DELIVERY_EVERY_S, SPOTIFY_RESUME_EVERY_S
    from storage import accounts, deliveries
    from storage.db import open_database
    from wavelength.cli import _settings

    settings = _settings()
    database = open_database(settings.database_url)
    try:
        with database.connect() as conn:
            opted = accounts.opted_in(conn=conn)
            done = deliveries.counts(conn=conn)
    finally:
        database.dispose()
    spotify = "on" if settings.spotify_enabled else "off: no Spotify app configured"
    typer.echo("Scheduled by `wavelength serve` (a database lease lets one process fire each):")
    typer.echo(f"  daily-picks      every {DELIVERY_EVERY_S:>4} s   daily picks by DM, at each")
    typer.echo("                                    listener's local time (and to Spotify)")
    typer.echo(
        f"  spotify-resume   every {SPOTIFY_RESUME_EVERY_S:>4} s   finish interrupted pushes ({spotify})"
    )
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


@jobs_app.command("run")
def jobs_run_cmd(
    job: Annotated[str, typer.Argument(help="The job: daily-picks.", show_default=False)],
    user: Annotated[
        str, typer.Option("--user", help="users.name, e.g. telegram:123456 (see `stats`).")
    ],
    now: Annotated[
        bool, typer.Option("--now", help="Compose and push now instead of saying when it's due.")
    ] = False,
) -> None:
    """Run one user's daily picks by hand: composed now, shown here, pushed to their Spotify
    when linked. The chat message itself is sent by the running `wavelength serve` at the
    listener's time (this command doesn't record a delivery, so it never prevents one)."""
    if job not in JOB_NAMES:
        raise typer.BadParameter(f"unknown job {job!r}; jobs: {', '.join(JOB_NAMES)}")
    asyncio.run(_run_daily(user, now=now))


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
