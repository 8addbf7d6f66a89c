"""The one-line "why this song" on every card, kept as data until it is shown.

Sources know *why* they proposed a track (the mood, a liked track, a named artist, a playlist)
but not the names to print; ``render`` looks the names up once per batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from recommender.station.ports import TrackCatalog
from wavelength.domain import ArtistId, PlaylistId, TrackId

MAX_QUOTE = 48


class Why(StrEnum):
    MOOD = "mood"  # subject: the mood text
    GENRE = "genre"  # subject: a genre named in the mood
    PLAYLISTS = "playlists"  # subject: the best-matching human playlist's id
    LIKED = "liked"  # subject: the liked track it is closest to
    SEED_ARTIST = "seed_artist"  # subject: an artist named in the request
    SEED_TRACK = "seed_track"  # subject: a track named in the request


@dataclass(frozen=True, slots=True)
class Reason:
    why: Why
    subject: str
    collaborative: bool = False  # found through playlist co-occurrence, not the text space


def quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1].rstrip() + "…"


def render(reasons: Iterable[Reason], catalog: TrackCatalog) -> dict[Reason, str]:
    wanted = list(dict.fromkeys(reasons))
    tracks = catalog.tracks(
        TrackId(r.subject) for r in wanted if r.why in (Why.LIKED, Why.SEED_TRACK)
    )
    artists = catalog.artists(ArtistId(r.subject) for r in wanted if r.why is Why.SEED_ARTIST)
    playlists = catalog.playlist_names(
        PlaylistId(r.subject) for r in wanted if r.why is Why.PLAYLISTS
    )
    out: dict[Reason, str] = {}
    for r in wanted:
        if r.why is Why.MOOD:
            out[r] = f'matches "{quote(r.subject)}"'
        elif r.why is Why.GENRE:
            out[r] = f"{r.subject}, as you asked"
        elif r.why is Why.PLAYLISTS:
            name = playlists.get(PlaylistId(r.subject))
            out[r] = f'found in playlists like "{quote(name)}"' if name else "found in playlists"
        elif r.why is Why.LIKED:
            track = tracks.get(TrackId(r.subject))
            title = f'"{quote(track.name)}"' if track else "a track"
            out[r] = f"because you liked {title} on this station"
        elif r.why is Why.SEED_ARTIST:
            artist = artists.get(ArtistId(r.subject))
            name = artist.name if artist else "the artist you named"
            out[r] = f"often in playlists with {name}" if r.collaborative else f"sounds like {name}"
        else:
            track = tracks.get(TrackId(r.subject))
            title = f'"{quote(track.name)}" by {track.artist.name}' if track else "your pick"
            out[r] = (
                f"often in playlists with {title}" if r.collaborative else f"sounds like {title}"
            )
    return out
