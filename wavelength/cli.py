"""The ``wavelength`` command line: the app, its command groups and the commands that run or
manage Wavelength itself (run, serve, console, stats, db, api-key). The others live beside
it: ``cli_ingest``, ``cli_explore`` (train, similar, search), ``cli_eval`` and ``cli_jobs``."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict
from typing import Annotated

import typer

from storage.db import (
    DatabaseUnavailableError,
    current_revision,
    downgrade,
    make_engine,
    open_database,
    upgrade,
)
from wavelength.cli_common import err, heavy_errors, load_settings
from wavelength.cli_eval import (
    eval_cmd,
    eval_mixes_cmd,
    eval_sort_cmd,
    spread_multi_paths,
)
from wavelength.cli_explore import search_cmd, similar_cmd, train_cmd
from wavelength.cli_ingest import ingest_app
from wavelength.cli_jobs import jobs_app

# The names these had when they lived here; cli_jobs imports them from this module.
_err = err
_settings = load_settings
_heavy_errors = heavy_errors

app = typer.Typer(
    help="Wavelength: a self-hosted conversational radio bot.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(db_app, name="db")
app.add_typer(jobs_app, name="jobs")


@app.command("stats")
def stats_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Counts of tracks, artists, albums, playlists, users and listening events."""
    from storage.stats import SqlCatalogStats

    counts = SqlCatalogStats(open_database(_settings().database_url)).counts()
    if as_json:
        typer.echo(json.dumps(asdict(counts)))
        return
    for name, value in asdict(counts).items():
        typer.echo(f"{name.replace('_', ' '):<18}{value:>14,}")


# In the order `wavelength --help` lists them.
app.command("train")(train_cmd)
app.command("similar")(similar_cmd)
app.command("search")(search_cmd)
app.command("eval")(eval_cmd)
app.command("eval-mixes")(eval_mixes_cmd)
app.command("eval-sort")(eval_sort_cmd)


@app.command("run")
def run_cmd() -> None:
    """Run Wavelength: the console chat when no bot token is set (the main job)."""
    from wavelength.app import main as app_main

    settings = _settings()
    asyncio.run(app_main(settings, stdin=sys.stdin, stdout=sys.stdout, echo=_err))


@app.command("serve")
def serve_cmd(
    jobs_only: Annotated[
        bool,
        typer.Option(
            "--jobs-only",
            help="Only the scheduled jobs, sending through the bots' senders: no chat, no HTTP.",
        ),
    ] = False,
    no_jobs: Annotated[
        bool,
        typer.Option("--no-jobs", help="The bots and the HTTP API without the scheduled jobs."),
    ] = False,
) -> None:
    """Run the chat bots whose tokens are set (DISCORD_TOKEN, TELEGRAM_TOKEN), the HTTP API
    when enabled and the scheduled jobs in one process; the console chat when there is no bot
    and no API. --jobs-only and --no-jobs split that over two processes."""
    from wavelength.app import ServeMode
    from wavelength.app import main as app_main

    if jobs_only and no_jobs:
        _err(
            "wavelength: --jobs-only and --no-jobs exclude each other: run one process with "
            "--no-jobs (bots and API) and one with --jobs-only (the scheduler)."
        )
        raise typer.Exit(2)
    mode = ServeMode.JOBS_ONLY if jobs_only else ServeMode.NO_JOBS if no_jobs else ServeMode.ALL
    settings = _settings()
    if jobs_only and settings.qdrant_url is None:
        # It runs beside a chat process, and the embedded store opens in one process only.
        _err(
            "wavelength: --jobs-only runs beside another Wavelength process, which the "
            "embedded vector store doesn't allow: set QDRANT_URL to a Qdrant server."
        )
        raise typer.Exit(2)
    asyncio.run(app_main(settings, stdin=sys.stdin, stdout=sys.stdout, echo=_err, mode=mode))


@app.command("console")
def console_cmd() -> None:
    """Chat with Wavelength in this terminal."""
    run_cmd()


@db_app.command("upgrade")
def db_upgrade_cmd(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the database schema up (default: to the newest)."""
    upgrade(make_engine(_settings().database_url), revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade_cmd(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. base or -1.")],
) -> None:
    """Migrate the database schema down. Dropping tables loses their data."""
    downgrade(make_engine(_settings().database_url), revision)
    typer.echo(f"database at {revision}")


@db_app.command("current")
def db_current_cmd() -> None:
    """Print the schema revision the database is at."""
    typer.echo(current_revision(make_engine(_settings().database_url)) or "empty (no schema yet)")


api_key_app = typer.Typer(help="Keys for the HTTP API.", no_args_is_help=True)
app.add_typer(api_key_app, name="api-key")


@api_key_app.command("create")
def api_key_create_cmd(
    user: Annotated[
        str, typer.Option("--user", help='A user name ("telegram:1234") or a new API user.')
    ],
    label: Annotated[str, typer.Option(help="What the key is for.")] = "api",
) -> None:
    """Make an API key for a user; it is printed once (only its hash is stored)."""
    from datetime import UTC, datetime

    from storage import api_keys

    name = user.strip()
    if not name or len(name) > 100:
        _err("wavelength: --user must be 1 to 100 characters.")
        raise typer.Exit(2)
    engine = open_database(_settings().database_url)
    with engine.begin() as conn:
        owner = api_keys.user_named(conn=conn, name=name)
        new = api_keys.create_key(conn=conn, user=owner, label=label, now=datetime.now(UTC))
    _err(f"API key {new.id} for user {owner}; send it as: Authorization: Bearer <key>")
    typer.echo(new.key)


def main() -> None:
    """Entry point: one clear line for the errors a user can fix, never a traceback."""
    try:
        app(args=spread_multi_paths(sys.argv[1:]))
    except DatabaseUnavailableError as exc:
        _err(f"wavelength: {exc}")
        sys.exit(2)
    except KeyboardInterrupt:
        _err("wavelength: interrupted; every batch finished before this point is saved.")
        sys.exit(130)
