"""The JSON a station's mood, tuning and steers are stored as.

Tuples and enums come back exactly as they went in, and rows written before a field existed
still load with that field's default.
"""

from __future__ import annotations

from typing import Any

from wavelength.domain import ArtistId, Familiarity, Mood, Steer, Tilt, TrackId, Tuning

__all__ = [
    "mood_from_json",
    "mood_to_json",
    "steers_from_json",
    "steers_to_json",
    "tuning_from_json",
    "tuning_to_json",
]


def _tilts_to_json(tilts: tuple[Tilt, ...]) -> list[dict[str, Any]]:
    return [{"feature": t.feature, "direction": t.direction} for t in tilts]


def _tilts_from_json(data: list[dict[str, Any]]) -> tuple[Tilt, ...]:
    return tuple(Tilt(feature=t["feature"], direction=t["direction"]) for t in data)


def mood_to_json(mood: Mood) -> dict[str, Any]:
    return {
        "original": mood.original,
        "text": mood.text,
        "seed_artists": list(mood.seed_artists),
        "seed_tracks": list(mood.seed_tracks),
        "avoid_artists": list(mood.avoid_artists),
        "year_min": mood.year_min,
        "year_max": mood.year_max,
        "explicit": mood.explicit,
        "instrumental": mood.instrumental,
        "tilts": _tilts_to_json(mood.tilts),
    }


def mood_from_json(data: dict[str, Any]) -> Mood:
    # .get with the field defaults lets rows written before a field existed still load.
    return Mood(
        original=data["original"],
        text=data["text"],
        seed_artists=tuple(ArtistId(a) for a in data.get("seed_artists", ())),
        seed_tracks=tuple(TrackId(t) for t in data.get("seed_tracks", ())),
        avoid_artists=tuple(ArtistId(a) for a in data.get("avoid_artists", ())),
        year_min=data.get("year_min"),
        year_max=data.get("year_max"),
        explicit=data.get("explicit"),
        instrumental=data.get("instrumental", False),
        tilts=_tilts_from_json(data.get("tilts", [])),
    )


def tuning_to_json(tuning: Tuning) -> dict[str, Any]:
    return {
        "style": tuning.style,
        "like": tuning.like,
        "dislike": tuning.dislike,
        "familiarity": tuning.familiarity.value,
    }


def tuning_from_json(data: dict[str, Any]) -> Tuning:
    default = Tuning()
    return Tuning(
        style=data.get("style", default.style),
        like=data.get("like", default.like),
        dislike=data.get("dislike", default.dislike),
        familiarity=Familiarity(data.get("familiarity", default.familiarity)),
    )


def steers_to_json(steers: tuple[Steer, ...]) -> list[dict[str, Any]]:
    return [{"phrase": s.phrase, "sign": s.sign, "tilts": _tilts_to_json(s.tilts)} for s in steers]


def steers_from_json(data: list[dict[str, Any]]) -> tuple[Steer, ...]:
    return tuple(
        Steer(phrase=s["phrase"], sign=s["sign"], tilts=_tilts_from_json(s.get("tilts", [])))
        for s in data
    )
