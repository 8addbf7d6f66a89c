"""The personal-mix service: daily mixes from taste centers, nostalgia mixes, organic playlist
matches and the taste map, for one user at a time.

Platform-neutral and text-light: it reads the database through ``storage.history``, vectors
through the ``VectorStore`` interface and track facts through a ``TrackCatalog``, calls the
pure core in ``recommender.mixes``, and returns frozen values the chat layer renders. Methods
are synchronous; the chat engine runs them in its thread pool.

The service is assembled from its parts, one private module each: ``_core`` (construction, a
user's weighted taste, today's centers, vector store reads), ``_daily`` (the daily mixes),
``_nostalgia``, ``_buddies`` (organic playlist matches and taste sharing) and ``_map`` (the
taste map); ``_types`` holds the options and the values returned.
"""

from __future__ import annotations

from wavelength.mixes._buddies import Buddies
from wavelength.mixes._core import DAY, MAX_SEARCH, Clock
from wavelength.mixes._daily import DailyMixes
from wavelength.mixes._map import TasteMap
from wavelength.mixes._nostalgia import SHORT_HISTORY, Nostalgia
from wavelength.mixes._types import Mix, MixOptions, MixTrack, NostalgiaMix, PlaylistMatch

__all__ = [
    "DAY",
    "MAX_SEARCH",
    "SHORT_HISTORY",
    "Clock",
    "Mix",
    "MixOptions",
    "MixService",
    "MixTrack",
    "NostalgiaMix",
    "PlaylistMatch",
]


class MixService(DailyMixes, Nostalgia, Buddies, TasteMap):
    """Every personal-mix operation a frontend or job offers, for one user id at a time."""
