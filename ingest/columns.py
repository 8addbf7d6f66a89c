"""Column detection for CSV-like files: the same thing goes by many names."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence

_SPACES = re.compile(r"[\s_]+")


def header_key(name: str) -> str:
    """'Top Genre' -> 'top genre', 'track_name' -> 'track name', BOMs and quotes dropped."""
    return _SPACES.sub(" ", name.strip().strip('"').lstrip("\ufeff").lower()).strip()


def find_column(header: Sequence[str], aliases: Sequence[str]) -> int | None:
    """Index of the first header cell matching one of ``aliases`` (in the aliases' order)."""
    keys = [header_key(h) for h in header]
    for alias in aliases:
        if alias in keys:
            return keys.index(alias)
    return None


def detect(header: Sequence[str], wanted: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Map each wanted field to the column index that holds it, for the fields present."""
    found: dict[str, int] = {}
    for field_name, aliases in wanted.items():
        index = find_column(header, aliases)
        if index is not None and index not in found.values():
            found[field_name] = index
    return found


def split_list(value: str) -> list[str]:
    """Genres and artists arrive as "a, b", "a|b" or a Python list literal "['a', 'b']"."""
    value = value.strip()
    if not value:
        return []
    if value.startswith("[") and value.endswith("]"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, list):
            return [str(v).strip() for v in parsed if str(v).strip()]
        value = value[1:-1]
    separator = "|" if "|" in value else ";" if ";" in value else ","
    return [
        part.strip().strip("'\"") for part in value.split(separator) if part.strip().strip("'\"")
    ]


_THOUSANDS = re.compile(r"^-?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$")


def parse_float(value: str) -> float | None:
    value = value.strip()
    if not value or value.lower() in ("nan", "null", "none", "na", "n/a"):
        return None
    if _THOUSANDS.match(value):
        # "1,412": only well-formed groups of three; "0,5" may be a decimal comma, so stays None.
        value = value.replace(",", "")
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number else None  # drop NaN


def parse_bool(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "y", "t"):
        return True
    if lowered in ("false", "0", "no", "n", "f"):
        return False
    return None


def split_names(value: str) -> list[str]:
    """Artist cells: a list literal "['A', 'B']" gives each name; anything else is one name,
    because commas are part of names ("Earth, Wind & Fire")."""
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        return split_list(value)
    return [value] if value else []
