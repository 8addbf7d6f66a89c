"""Reader for artist CSVs that carry genres (e.g. a ``data_w_genres.csv`` export)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ingest.columns import detect, header_key, split_list, split_names
from ingest.files import InputError, open_text
from wavelength.domain import Artist
from wavelength.ids import artist_id, spotify_uri

if TYPE_CHECKING:
    from pathlib import Path

    from ingest.problems import ProblemLog

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("artist name", "artists", "artist", "name"),
    "genres": ("genres", "genre", "artist genres"),
    "uri": ("artist uri", "uri", "id", "artist id"),
}


def read_artists(
    path: Path, problems: ProblemLog, on_read: Callable[[int], None] = lambda _n: None
) -> Iterator[Artist]:
    """Yield artists with their genres; rows without a name are reported and skipped."""
    with open_text(path, problems, on_read) as text:
        reader = csv.reader(text)
        header = next(reader, [])
        columns = detect(header, COLUMNS)
        if "name" not in columns or "genres" not in columns:
            raise InputError(
                "can't find artist and genres columns; found: "
                + ", ".join(header_key(h) for h in header[:30])
            )
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            names = split_names(row[columns["name"]]) if columns["name"] < len(row) else []
            if not names:
                problems.add(path, reader.line_num, "no artist name; row skipped")
                continue
            genres = (
                tuple(split_list(row[columns["genres"]])) if columns["genres"] < len(row) else ()
            )
            uri_cell = row[columns["uri"]] if "uri" in columns and columns["uri"] < len(row) else ""
            # A list of several artists in one row is a collaboration; its genres belong to it.
            name = names[0] if len(names) == 1 else ", ".join(names)
            yield Artist(
                id=artist_id(name),
                name=name,
                spotify_uri=spotify_uri(uri_cell, "artist"),
                genres=genres,
            )
