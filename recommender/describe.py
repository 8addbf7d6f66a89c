"""Text descriptions of tracks, artists and playlists for the sentence encoder.

A description puts what the catalog knows into the words people use when they ask for music
("calm acoustic instrumental, slow tempo, 1970s"), so a mood text and a track meet in the same
embedding space. Thresholds follow Spotify's documented feature scales (0..1, tempo in BPM).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wavelength.domain import AudioFeatures, Track

MAX_TAGS = 5
_TAG_CHARS = re.compile(r"[^\w&' -]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class FeatureWords:
    """Ordered so the strongest cues come first (the encoder weighs early words a little more)."""

    words: tuple[str, ...]

    def __str__(self) -> str:
        return ", ".join(self.words)


def feature_words(f: AudioFeatures) -> FeatureWords:
    words: list[str] = []
    if f.energy is not None:
        if f.energy < 0.3:
            words.append("calm, mellow, quiet")
        elif f.energy > 0.8:
            words.append("energetic, intense, loud")
        elif f.energy > 0.6:
            words.append("lively")
    if f.acousticness is not None:
        if f.acousticness > 0.7:
            words.append("acoustic")
        elif f.acousticness < 0.05:
            words.append("electric, produced")
    if f.instrumentalness is not None and f.instrumentalness > 0.5:
        words.append("instrumental, no vocals")
    if f.speechiness is not None and f.speechiness > 0.33:
        words.append("spoken word, rapping")
    if f.danceability is not None:
        if f.danceability > 0.7:
            words.append("danceable, groovy")
        elif f.danceability < 0.3:
            words.append("not danceable")
    if f.valence is not None:
        if f.valence < 0.25:
            words.append("sad, melancholic, dark")
        elif f.valence > 0.75:
            words.append("happy, cheerful, uplifting")
    if f.tempo is not None and f.tempo > 0:
        words.append(tempo_band(f.tempo))
    if f.liveness is not None and f.liveness > 0.8:
        words.append("live recording")
    return FeatureWords(tuple(words))


def tempo_band(bpm: float) -> str:
    if bpm < 80:
        return "slow tempo"
    if bpm < 110:
        return "mid tempo"
    if bpm < 140:
        return "upbeat tempo"
    return "fast tempo"


def era_words(year: int | None, decade: int | None) -> str | None:
    decade = decade if decade is not None else (year // 10 * 10 if year else None)
    if decade is None:
        return None
    short = f"{decade % 100:02d}s"
    return f"{year}, {decade}s ({short})" if year else f"{decade}s ({short})"


def clean_tag(text: str) -> str | None:
    """A playlist name as a tag: lower case, emoji and punctuation dropped; None if empty."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _SPACES.sub(" ", _TAG_CHARS.sub(" ", text)).strip(" -'")
    return text or None


def describe_track(track: Track, *, genres: Sequence[str] = (), tags: Iterable[str] = ()) -> str:
    """``genres`` are the artist's (tracks rarely carry their own); ``tags`` are the most common
    names of playlists the track is on, as people describe it.

    Title and artist name are left out whenever anything else is known: their words pull a
    mood query towards titles ("Sleep On It" for "music to fall asleep to") and artists towards
    look-alike names ("Daft Punk" near "Daughtry"). Names are matched by lookup, not by vectors.
    """
    parts: list[str] = []
    all_genres = _unique([*(g.strip() for g in (track.genre or "").split(",")), *genres])
    if all_genres:
        parts.append(f"Genres: {', '.join(all_genres[:8])}.")
    era = era_words(track.year, track.decade)
    if era:
        parts.append(f"From {era}.")
    words = feature_words(track.features)
    if words.words:
        parts.append(f"{str(words).capitalize()}.")
    if track.explicit:
        parts.append("Explicit lyrics.")
    tag_list = _unique(tags)[:MAX_TAGS]
    if tag_list:
        parts.append(f"Playlists: {', '.join(tag_list)}.")
    if not parts or parts == ["Explicit lyrics."]:
        parts.insert(0, f"{track.name} by {track.artist.name}.")
    return " ".join(parts)


def describe_artist(
    name: str,
    *,
    genres: Sequence[str] = (),
    features: AudioFeatures | None = None,
    decades: Sequence[int] = (),
    tags: Iterable[str] = (),
) -> str:
    """``features`` are the mean of the artist's tracks; ``decades`` their most common ones.
    The name is used only when nothing else is known (see ``describe_track``)."""
    parts: list[str] = []
    if genres:
        parts.append(f"Genres: {', '.join(_unique(genres)[:10])}.")
    if decades:
        parts.append(f"Active in the {', '.join(f'{d}s' for d in decades[:3])}.")
    if features is not None:
        words = feature_words(features)
        if words.words:
            parts.append(f"Typically {words}.")
    tag_list = _unique(tags)[:MAX_TAGS]
    if tag_list:
        parts.append(f"Playlists: {', '.join(tag_list)}.")
    if not parts:
        parts.append(f"{name}, artist.")
    return " ".join(parts)


def describe_playlist(name: str, description: str | None = None) -> str:
    text = name.strip()
    if description and description.strip():
        text = f"{text}. {description.strip()}"
    return text


def _unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        item = item.strip()
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            out.append(item)
    return out
