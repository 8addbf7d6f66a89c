"""Station composition: a mood and a listener's reactions in, the next batch of tracks out.

A station is a pipeline of small steps (troi's model): sources propose, ``fuse`` blends them
by weighted rank, ``refine`` applies catalog facts and tilts, ``choose`` picks the rank band
and caps artists, and every pick carries its reason. No I/O happens here except through the
ports: the vector store, the text encoder and the track catalog.
"""

from recommender.station.compose import NotTrainedError, StationComposer, Timings
from recommender.station.context import StationContext
from recommender.station.ports import TrackCatalog

__all__ = ["NotTrainedError", "StationComposer", "StationContext", "Timings", "TrackCatalog"]
