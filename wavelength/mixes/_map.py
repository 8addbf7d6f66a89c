"""The taste map: a user's heaviest recent tracks drawn in two dimensions, coloured by taste
center, with the centers as numbered discs (numbered as the daily mixes are)."""

from __future__ import annotations

import numpy as np

from recommender.mixes import Projection, render_png
from wavelength.domain import UserId
from wavelength.mixes._core import MixCore


class TasteMap(MixCore):
    def taste_map_png(self, user: UserId) -> bytes:
        """A PNG: the user's heaviest recent tracks in 2-D, coloured by taste center, with the
        centers as numbered discs (numbers as in ``mixes``). A blank map before any signal."""
        now = self._clock()
        with self._engine.begin() as conn:
            taste = self._taste(conn, user, now)
            if taste is None:
                return render_png(np.zeros((0, 2)), [], np.zeros((0, 2)))
            centers, _ = self._centers(conn, user, taste, now)
        shown = list(range(min(len(taste.ids), self._options.map_tracks)))
        vectors = taste.vectors[shown]
        c = np.asarray([x.vector for x in centers])
        groups = np.argmax(vectors @ c.T, axis=1).tolist()
        projection = Projection.fit(vectors, taste.weights[shown])
        return render_png(projection.apply(vectors), groups, projection.apply(c))
