"""The API's request and response bodies (what /docs shows)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from wavelength.domain import Familiarity, Reaction, Station
from wavelength.stations import Batch, Card, Reacted


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecommendIn(_Body):
    text: str = Field(min_length=1, max_length=500, examples=["rainy sunday jazz for reading"])
    top_k: int = Field(default=10, ge=1, le=100)


class StationIn(_Body):
    text: str = Field(min_length=1, max_length=500, examples=["upbeat 80s synth pop"])
    name: str | None = Field(default=None, min_length=1, max_length=100)


class FeedbackIn(_Body):
    track: str = Field(min_length=1, max_length=64, description="a track id from a batch")
    reaction: Reaction


class TuningIn(_Body):
    style: float | None = Field(default=None, ge=0, le=3)
    like: float | None = Field(default=None, ge=0, le=3)
    dislike: float | None = Field(default=None, ge=0, le=3)
    familiarity: Familiarity | None = None


class TrackOut(BaseModel):
    id: str
    name: str
    artist: str
    year: int | None


class Recommendation(BaseModel):
    track: TrackOut
    score: float
    reason: str


class RecommendOut(BaseModel):
    text: str
    tracks: list[Recommendation]


class CardOut(BaseModel):
    position: int
    track: TrackOut
    reason: str
    source: str


class StationOut(BaseModel):
    id: int
    name: str
    mood: str
    share_code: str | None
    tuning: dict[str, float | str]


class BatchOut(BaseModel):
    station: StationOut
    number: int
    cards: list[CardOut]


class StationsOut(BaseModel):
    stations: list[StationOut]
    active: int | None


class ReactedOut(BaseModel):
    reaction: Reaction
    tracks: list[TrackOut]
    banned_artist: str | None


class ShareOut(BaseModel):
    station: StationOut
    code: str


class Problem(BaseModel):
    detail: str


def track_out(card: Card) -> TrackOut:
    t = card.track
    return TrackOut(id=t.id, name=t.name, artist=t.artist.name, year=t.year)


def station_out(s: Station) -> StationOut:
    t = s.tuning
    return StationOut(
        id=s.id,
        name=s.name,
        mood=s.mood.original,
        share_code=s.share_code,
        tuning={
            "style": t.style,
            "like": t.like,
            "dislike": t.dislike,
            "familiarity": t.familiarity.value,
        },
    )


def batch_out(b: Batch) -> BatchOut:
    return BatchOut(
        station=station_out(b.station),
        number=b.number,
        cards=[
            CardOut(position=c.position, track=track_out(c), reason=c.reason, source=c.source)
            for c in b.cards
        ],
    )


def reacted_out(r: Reacted) -> ReactedOut:
    return ReactedOut(
        reaction=r.reaction,
        tracks=[
            TrackOut(id=t.id, name=t.name, artist=t.artist.name, year=t.year) for t in r.tracks
        ],
        banned_artist=r.banned_artist,
    )
