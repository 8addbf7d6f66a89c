"""The ``wavelength`` command line."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from storage.db import (
    DatabaseUnavailableError,
    current_revision,
    downgrade,
    make_engine,
    open_database,
    upgrade,
)
from vectorstore.base import VectorName
from wavelength.cli_jobs import jobs_app
from wavelength.evaluation.continuation import SeedMode
from wavelength.settings import CfModel

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport
    from ingest.problems import ProblemLog
    from wavelength.explore import Scored
    from wavelength.settings import Settings

app = typer.Typer(
    help="Wavelength: a self-hosted conversational radio bot.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ingest_app = typer.Typer(
    help="Read playlists, tracks, artists and listening histories into the catalog.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(db_app, name="db")
app.add_typer(jobs_app, name="jobs")

PathsArg = Annotated[
    list[Path], typer.Argument(help="Files or folders (searched recursively).", show_default=False)
]
BatchOpt = Annotated[int | None, typer.Option(help="Records per transaction.", min=1)]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")]


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _problems() -> ProblemLog:
    """A problem log that prints above a running progress bar instead of through it."""
    from tqdm import tqdm

    from ingest.problems import ProblemLog

    return ProblemLog(echo=lambda line: tqdm.write(line, file=sys.stderr))


def _settings() -> Settings:
    from wavelength.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        _err(
            f"wavelength: invalid setting {where}: {first.get('msg')}. Fix the environment or .env file."
        )
        raise typer.Exit(2) from None


def _finish(report: IngestReport) -> None:
    _err(report.summary())
    if report.nothing_read:
        _err("wavelength: nothing could be read; see the problems above.")
        raise typer.Exit(1)


@ingest_app.command("playlists")
def ingest_playlists_cmd(
    paths: PathsArg, batch_size: BatchOpt = None, progress: ProgressOpt = True
) -> None:
    """Spotify Million Playlist Dataset slices (JSON, optionally .gz)."""
    from ingest.pipeline import ingest_playlists

    settings = _settings()
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

    engine = open_database(_settings().database_url)
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

    engine = open_database(_settings().database_url)
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
        _err("wavelength: --user must be 1 to 100 characters.")
        raise typer.Exit(2)
    engine = open_database(_settings().database_url)
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

    engine = open_database(_settings().database_url)
    if not ensure_demo_catalog(engine, echo=_err, progress=progress):
        _err("The demo catalog is already loaded.")


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


@app.command("train")
def train_cmd(
    cf: Annotated[
        CfModel | None, typer.Option(help="Collaborative model (default: the cf_model setting).")
    ] = None,
    progress: ProgressOpt = True,
) -> None:
    """Describe, encode, learn from playlists and index every track, artist and playlist."""
    from wavelength.components import make_embedder, make_encoder, open_vector_store
    from wavelength.training import train
    from wavelength.warmup import mark_trained

    settings = _settings()
    engine = open_database(settings.database_url)
    with _heavy_errors():
        encoder = make_encoder(settings)
        _err(f"text encoder: {encoder}")
        embedder = make_embedder(settings, cf)
        store = open_vector_store(settings)
        try:
            report = train(engine, store, encoder, embedder, echo=_err, progress=progress)
            mark_trained(engine, settings, report)
        finally:
            store.close()
    typer.echo(report.summary())


@app.command("similar")
def similar_cmd(
    item: Annotated[
        str,
        typer.Argument(
            help='A track (Spotify URI or link, or "Artist - Title") or an artist name.',
            show_default=False,
        ),
    ],
    space: Annotated[VectorName, typer.Option(help="Which vectors to compare.")] = VectorName.CF,
    n: Annotated[int, typer.Option("-n", min=1, max=100, help="How many results.")] = 10,
) -> None:
    """Print the tracks (and artists) nearest to a track or artist, with scores."""
    from wavelength.components import open_vector_store
    from wavelength.explore import NotFoundError, similar

    settings = _settings()
    engine = open_database(settings.database_url)
    with _heavy_errors():
        store = open_vector_store(settings)
        try:
            result = similar(engine, store, item, using=space, n=n)
        except NotFoundError as exc:
            _err(f"wavelength: {exc}")
            raise typer.Exit(1) from None
        finally:
            store.close()
    typer.echo(f"{result.item.kind} {result.item.label}  [{result.using.value} space]")
    if result.note:
        typer.echo(f"  ({result.note})")
    if result.artists:
        typer.echo("similar artists:")
        _print_scored(result.artists)
    typer.echo("nearest tracks:" if result.item.kind == "track" else "tracks by other artists:")
    _print_scored(result.tracks)


@app.command("search")
def search_cmd(
    text: Annotated[
        str, typer.Argument(help="What you want to hear, in words.", show_default=False)
    ],
    n: Annotated[int, typer.Option("-n", min=1, max=100, help="How many results.")] = 10,
    year_from: Annotated[int | None, typer.Option(help="Earliest year.")] = None,
    year_to: Annotated[int | None, typer.Option(help="Latest year.")] = None,
    clean: Annotated[bool, typer.Option("--clean", help="No explicit tracks.")] = False,
) -> None:
    """Print the tracks whose descriptions are nearest to a free-text mood."""
    from vectorstore import Filter
    from wavelength.components import make_encoder, open_vector_store
    from wavelength.explore import search

    settings = _settings()
    engine = open_database(settings.database_url)
    where = Filter(year_min=year_from, year_max=year_to, explicit=False if clean else None)
    with _heavy_errors():
        encoder = make_encoder(settings)
        store = open_vector_store(settings)
        try:
            results = search(engine, store, encoder, text, n=n, where=where)
        finally:
            store.close()
    _print_scored(results)


@app.command("eval")
def eval_cmd(
    playlists: Annotated[
        Path,
        typer.Option(
            help="A folder of MPD-format slice files (*.json, *.json.gz).", show_default=False
        ),
    ],
    holdout_seed: Annotated[
        int, typer.Option(help="Seed of the train/test split (quote it with every number).")
    ],
    test_size: Annotated[
        int, typer.Option(min=1, help="Test playlists (drawn among those with 10+ tracks).")
    ] = 500,
    k: Annotated[int, typer.Option("--k", min=1, help="Tracks every ranker returns.")] = 100,
    batches: Annotated[int, typer.Option(min=1, help="Batches of 5 per simulated listener.")] = 10,
    seed_mode: Annotated[
        SeedMode, typer.Option(help="Continuation seed: the first 5 tracks or the first half.")
    ] = SeedMode.FIRST,
    tracks: Annotated[
        list[Path] | None,
        typer.Option(help="Track CSVs (files or folders) for metadata; one or more paths."),
    ] = None,
    artists: Annotated[
        list[Path] | None, typer.Option(help="Artist CSVs with genres; one or more paths.")
    ] = None,
    workdir: Annotated[
        Path | None,
        typer.Option(help="Keep the trained workspace here (reused when the inputs match)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON here.")
    ] = None,
    max_files: Annotated[
        int | None, typer.Option(min=1, help="Read only the first N slice files.")
    ] = None,
    progress: ProgressOpt = True,
) -> None:
    """Evaluate the station engine on held-out playlists, with baselines, and print tables.

    Trains its own catalog on the train playlists, then scores three tasks against baselines.
    """
    from wavelength.components import make_embedder, make_encoder
    from wavelength.evaluation import DataError, EvalOptions, evaluate, markdown, to_json
    from wavelength.evaluation.data import slice_files

    settings = _settings()
    options = EvalOptions(
        playlists=playlists,
        seed=holdout_seed,
        test_size=test_size,
        k=k,
        batches=batches,
        seed_mode=seed_mode,
        tracks=tuple(tracks or ()),
        artists=tuple(artists or ()),
        workdir=workdir,
        max_files=max_files,
        progress=progress,
    )
    with _heavy_errors():
        try:
            options.check()  # the cheap checks first: loading the encoder takes seconds
            slice_files(options.playlists, max_files=max_files)
            encoder = make_encoder(settings)
            _err(f"text encoder: {encoder}")
            report = evaluate(options, encoder=encoder, embedder=make_embedder(settings), echo=_err)
        except DataError as exc:
            _err(f"wavelength: {exc}")
            raise typer.Exit(2) from None
    typer.echo(markdown(report))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(to_json(report), encoding="utf-8")
        _err(f"report written to {json_out}")


@app.command("eval-mixes")
def eval_mixes_cmd(
    playlists: Annotated[Path, typer.Option(help="A folder of MPD-format slice files.")],
    histories: Annotated[
        Path, typer.Option(help="A folder of listening-history files, one listener each.")
    ],
    holdout_seed: Annotated[int, typer.Option(help="Seed of the split and every random draw.")],
    test_size: Annotated[int, typer.Option(min=1, help="Held-out playlists (buddies).")] = 500,
    only: Annotated[
        list[str] | None, typer.Option(help="buddies, centers and/or nostalgia (default: all).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON here.")
    ] = None,
) -> None:
    """Evaluate personal mixes (organic playlists, taste centers, nostalgia) with baselines."""
    from recommender.cf import AlsEmbedder
    from wavelength.components import make_embedder
    from wavelength.evaluation import DataError, personal

    settings = _settings()
    options = personal.MixEvalOptions(
        playlists=playlists,
        histories=histories,
        seed=holdout_seed,
        test_size=test_size,
        only=personal.parse_only(only),
    )
    embedder = make_embedder(settings) or AlsEmbedder()
    with _heavy_errors():
        try:
            report = personal.evaluate_mixes(options, embedder=embedder, echo=_err)
        except DataError as exc:
            _err(f"wavelength: {exc}")
            raise typer.Exit(2) from None
    typer.echo(personal.markdown(report))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(personal.to_json(report), encoding="utf-8")
        _err(f"report written to {json_out}")


@app.command("eval-sort")
def eval_sort_cmd(
    playlists: Annotated[Path, typer.Option(help="A folder of MPD-format slice files.")],
    holdout_seed: Annotated[int, typer.Option(help="Seed of the test users and every draw.")],
    users: Annotated[int, typer.Option(min=1, help="Test users (piles of 2-5 playlists).")] = 150,
) -> None:
    """Evaluate the liked-songs sorter on piles of real playlists against nearest centroid."""
    from recommender.cf import AlsEmbedder
    from wavelength.components import make_embedder
    from wavelength.evaluation import DataError
    from wavelength.evaluation import sort as sort_eval

    options = sort_eval.SortEvalOptions(playlists=playlists, seed=holdout_seed, users=users)
    embedder = make_embedder(_settings()) or AlsEmbedder()
    with _heavy_errors():
        try:
            report = sort_eval.evaluate_sort(options, embedder=embedder, echo=_err)
        except DataError as exc:
            _err(f"wavelength: {exc}")
            raise typer.Exit(2) from None
    typer.echo(sort_eval.markdown(report))


def _print_scored(items: Sequence[Scored]) -> None:
    if not items:
        typer.echo("  (nothing)")
    for rank, item in enumerate(items, 1):
        typer.echo(f"  {rank:>2}. {item.score:6.3f}  {item.label}")


@contextmanager
def _heavy_errors() -> Iterator[None]:
    """The encoder, the vector store and bad arguments fail with one line, exit 2."""
    from recommender.encoder import EncoderError
    from vectorstore import VectorStoreError

    try:
        yield
    except (EncoderError, VectorStoreError) as exc:
        _err(f"wavelength: {exc}")
        raise typer.Exit(2) from None
    except ValueError as exc:
        _err(f"wavelength: {exc}")
        raise typer.Exit(2) from None


@app.command("run")
def run_cmd() -> None:
    """Run Wavelength: the console chat when no bot token is set (the main job)."""
    from wavelength.app import main as app_main

    settings = _settings()
    asyncio.run(app_main(settings, stdin=sys.stdin, stdout=sys.stdout, echo=_err))


@app.command("serve")
def serve_cmd() -> None:
    """Run the chat bots whose tokens are set (DISCORD_TOKEN, TELEGRAM_TOKEN) in one process;
    the console chat when none is. Same as ``run``."""
    run_cmd()


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


# `wavelength eval` options that take several paths. Click reads one value per option, so
# `--tracks a.csv b/` is rewritten to `--tracks a.csv --tracks b/` before parsing.
MULTI_PATH_OPTIONS = frozenset({"--tracks", "--artists"})


def spread_multi_paths(argv: Sequence[str]) -> list[str]:
    """Repeat a multi-path option of ``eval`` before each bare word that follows it."""
    if not argv or argv[0] != "eval":
        return list(argv)
    out: list[str] = []
    owner: str | None = None
    for word in argv:
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            owner = name if name in MULTI_PATH_OPTIONS else None
            out.append(word)
        elif owner is not None and out[-1] != owner:
            out += [owner, word]
        else:
            out.append(word)
    return out


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
