"""``wavelength eval``, ``eval-mixes`` and ``eval-sort``: the held-out evaluations with their
baselines (registered on the app in ``wavelength.cli``), and the argv rewrite that lets
``eval`` take several paths after one option."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from wavelength.cli_common import ProgressOpt, err, heavy_errors, load_settings
from wavelength.evaluation.continuation import SeedMode


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

    settings = load_settings()
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
    with heavy_errors():
        try:
            options.check()  # the cheap checks first: loading the encoder takes seconds
            slice_files(options.playlists, max_files=max_files)
            encoder = make_encoder(settings)
            err(f"text encoder: {encoder}")
            report = evaluate(options, encoder=encoder, embedder=make_embedder(settings), echo=err)
        except DataError as exc:
            err(f"wavelength: {exc}")
            raise typer.Exit(2) from None
    typer.echo(markdown(report))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(to_json(report), encoding="utf-8")
        err(f"report written to {json_out}")


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

    settings = load_settings()
    options = personal.MixEvalOptions(
        playlists=playlists,
        histories=histories,
        seed=holdout_seed,
        test_size=test_size,
        only=personal.parse_only(only),
    )
    embedder = make_embedder(settings) or AlsEmbedder()
    with heavy_errors():
        try:
            report = personal.evaluate_mixes(options, embedder=embedder, echo=err)
        except DataError as exc:
            err(f"wavelength: {exc}")
            raise typer.Exit(2) from None
    typer.echo(personal.markdown(report))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(personal.to_json(report), encoding="utf-8")
        err(f"report written to {json_out}")


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
    embedder = make_embedder(load_settings()) or AlsEmbedder()
    with heavy_errors():
        try:
            report = sort_eval.evaluate_sort(options, embedder=embedder, echo=err)
        except DataError as exc:
            err(f"wavelength: {exc}")
            raise typer.Exit(2) from None
    typer.echo(sort_eval.markdown(report))


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
