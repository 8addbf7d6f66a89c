"""The station service: a listener's stations, batches and reactions, over storage and the engine.

Platform-neutral and text-free: it takes user ids and parsed requests and returns values
(``Batch``, ``Card``, ...) or raises a ``StationError`` whose message can be shown as it is.
Discord, Telegram, the console and the HTTP API all go through here, so a user can only ever
act on their own stations (or, read-only, on a station someone shared on purpose).

The service is assembled from its parts, one private module each: ``_core`` (construction,
whose station is whose, making a next batch), ``_library`` (making, naming, sharing and
deleting stations), ``_picks`` (the daily picks), ``_reactions`` and ``_steering``; ``_types``
holds the errors and the values returned.
"""

from __future__ import annotations

from wavelength.stations._library import Library, default_name
from wavelength.stations._picks import DAILY_NAME, DailyPicks
from wavelength.stations._reactions import Reactions
from wavelength.stations._steering import Steering
from wavelength.stations._types import (
    Batch,
    Card,
    DidYouMean,
    Explanation,
    NoStation,
    NotFound,
    Reacted,
    ReadOnly,
    StationError,
)

__all__ = [
    "DAILY_NAME",
    "Batch",
    "Card",
    "DidYouMean",
    "Explanation",
    "NoStation",
    "NotFound",
    "Reacted",
    "ReadOnly",
    "StationError",
    "StationService",
    "default_name",
]


class StationService(Library, DailyPicks, Reactions, Steering):
    """Every station operation a frontend offers, for one user id at a time."""
