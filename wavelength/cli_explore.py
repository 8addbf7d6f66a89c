"""``wavelength train``, ``similar`` and ``search``: build the vectors, then look into them
(registered on the app in ``wavelength.cli``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from storage.db import open_database
from vectorstore.base import VectorName
from wavelength.cli_common import ProgressOpt, err, heavy_errors, load_settings
from wavelength.settings import CfModel

if TYPE_CHECKING:
    from wavelength.explore import Scored


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

    settings = load_settings()
    engine = open_database(settings.database_url)
    with heavy_errors():
        encoder = make_encoder(settings)
        err(f"text encoder: {encoder}")
        embedder = make_embedder(settings, cf)
        store = open_vector_store(settings)
        try:
            report = train(engine, store, encoder, embedder, echo=err, progress=progress)
            mark_trained(engine, settings, report, generation=getattr(store, "generation", 0))
        finally:
            store.close()
    typer.echo(report.summary())


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

    settings = load_settings()
    engine = open_database(settings.database_url)
    with heavy_errors():
        store = open_vector_store(settings)
        try:
            result = similar(engine, store, item, using=space, n=n)
        except NotFoundError as exc:
            err(f"wavelength: {exc}")
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

    settings = load_settings()
    engine = open_database(settings.database_url)
    where = Filter(year_min=year_from, year_max=year_to, explicit=False if clean else None)
    with heavy_errors():
        encoder = make_encoder(settings)
        store = open_vector_store(settings)
        try:
            results = search(engine, store, encoder, text, n=n, where=where)
        finally:
            store.close()
    _print_scored(results)


def _print_scored(items: Sequence[Scored]) -> None:
    if not items:
        typer.echo("  (nothing)")
    for rank, item in enumerate(items, 1):
        typer.echo(f"  {rank:>2}. {item.score:6.3f}  {item.label}")
