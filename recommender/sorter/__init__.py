"""The liked-songs sorter: split a pile of songs into the user's own lists from a few
labelled examples per list.

Pure functions over numpy arrays and small frozen values: ``Pile.of(vectors)`` once per pile,
``sort_pile(pile, labels, lists=..., options=...)`` for the split with confidence (any
mutual/complete combination), ``propose_to_label`` for the songs to ask about next. A
correction is a new label and a new ``sort_pile`` call; the pile graph is reused. The service
that reads the database and the vector store is ``wavelength.sorter``.
"""

from recommender.sorter._active import propose_to_label
from recommender.sorter._fit import FitOptions, Labels, Method, Pile
from recommender.sorter._sort import (
    DEFAULT_METHOD,
    Calibration,
    Placement,
    Sorting,
    SortOptions,
    sort_pile,
)

__all__ = [
    "DEFAULT_METHOD",
    "Calibration",
    "FitOptions",
    "Labels",
    "Method",
    "Pile",
    "Placement",
    "SortOptions",
    "Sorting",
    "propose_to_label",
    "sort_pile",
]
