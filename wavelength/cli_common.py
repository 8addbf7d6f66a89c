"""What every ``wavelength`` command module shares: one-line errors on stderr, the validated
settings (or exit 2 naming the first bad one), the progress option, and the guard that turns
the encoder's, the vector store's and bad arguments' errors into one line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

if TYPE_CHECKING:
    from wavelength.settings import Settings

ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")]


def err(message: str) -> None:
    """A line on stderr (stdout is kept for what a command outputs)."""
    typer.echo(message, err=True)


def load_settings() -> Settings:
    """The settings, or exit 2 with one line naming the first invalid one."""
    from wavelength.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        err(
            f"wavelength: invalid setting {where}: {first.get('msg')}. Fix the environment or .env file."
        )
        raise typer.Exit(2) from None


@contextmanager
def heavy_errors() -> Iterator[None]:
    """The encoder, the vector store and bad arguments fail with one line, exit 2."""
    from recommender.encoder import EncoderError
    from vectorstore import VectorStoreError

    try:
        yield
    except (EncoderError, VectorStoreError) as exc:
        err(f"wavelength: {exc}")
        raise typer.Exit(2) from None
    except ValueError as exc:
        err(f"wavelength: {exc}")
        raise typer.Exit(2) from None
