"""``wavelength ingest``: playlists, tracks, artists, listening histories and the demo catalog
into the catalog, streamed in batches, with a one-line summary and problems on stderr."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from storage.db import open_database
from wavelength.cli_common import ProgressOpt, err, load_settings

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport
    from ingest.problems import ProblemLog

ingest_app = typer.Typer(
    help="Read playlists, tracks, artists and listening histories into the catalog.",
    no_args_is_help=True,
)
PathsArg = Annotated[
    list[Path], typer.Argument(help="Files or folders (searched recursively).", show_default=False)
]
BatchOpt = Annotated[int | None, typer.Option(help="Records per transaction.", min=1)]


def _problems() -> ProblemLog:
    """A problem log that prints above a running progress bar instead of through it."""
    from tqdm import tqdm

    from ingest.problems import ProblemLog

    return ProblemLog(echo=lambda line: tqdm.write(line, file=sys.stderr))


def _finish(report: IngestReport) -> None:
    err(report.summary())
    if report.nothing_read:
        err("wavelength: nothing could be read; see the problems above.")
        raise typer.Exit(1)


@ingest_app.command("playlists")
def ingest_playlists_cmd(
    paths: PathsArg, batch_size: BatchOpt = None, progress: ProgressOpt = True
) -> None:
    """Spotify Million Playlist Dataset slices (JSON, optionally .gz)."""
    from ingest.pipeline import ingest_playlists

    settings = load_settings()
    engine = open_database(settings.database_url)
    _finish(
        ingest_playlists(
            engine,
            paths,
            problems=_problems(),
            batch_size=batch_size or settings.ingest_batch_size,
            progress=progress,
        )
    )


@ingest_app.command("tracks")
def ingest_tracks_cmd(
    paths: PathsArg, batch_size: BatchOpt = None, progress: ProgressOpt = True
) -> None:
    """Track CSVs: ids, names, artists and whatever metadata and audio-feature columns exist."""
    from ingest.pipeline import ingest_tracks

    engine = open_database(load_settings().database_url)
    _finish(
        ingest_tracks(
            engine,
            paths,
            problems=_problems(),
            batch_size=batch_size or 2000,
            progress=progress,
        )
    )


@ingest_app.command("artists")
def ingest_artists_cmd(
    paths: PathsArg, batch_size: BatchOpt = None, progress: ProgressOpt = True
) -> None:
    """Artist CSVs with genres (joined to tracks by artist name)."""
    from ingest.pipeline import ingest_artists

    engine = open_database(load_settings().database_url)
    _finish(
        ingest_artists(
            engine,
            paths,
            problems=_problems(),
            batch_size=batch_size or 2000,
            progress=progress,
        )
    )


@ingest_app.command("history")
def ingest_history_cmd(
    paths: PathsArg,
    user: Annotated[str, typer.Option("--user", help="The Wavelength user these plays belong to.")],
    source_user: Annotated[
        str | None, typer.Option(help="Only this user's rows of a multi-user Last.fm-1K file.")
    ] = None,
    batch_size: BatchOpt = None,
    progress: ProgressOpt = True,
) -> None:
    """Listening histories: Spotify streaming-history JSON, Last.fm-1K TSV, scrobble CSVs."""
    from ingest.pipeline import ingest_history

    name = user.strip()
    if not name or len(name) > 100:
        err("wavelength: --user must be 1 to 100 characters.")
        raise typer.Exit(2)
    engine = open_database(load_settings().database_url)
    _finish(
        ingest_history(
            engine,
            paths,
            user=name,
            source_user=source_user,
            problems=_problems(),
            batch_size=batch_size or 2000,
            progress=progress,
        )
    )


@ingest_app.command("demo")
def ingest_demo_cmd(progress: ProgressOpt = True) -> None:
    """The bundled demo catalog (loaded automatically by `wavelength run`)."""
    from wavelength.app import ensure_demo_catalog

    engine = open_database(load_settings().database_url)
    if not ensure_demo_catalog(engine, echo=err, progress=progress):
        err("The demo catalog is already loaded.")
