"""The station JSON codec: exact round trips, and rows from before a field existed."""

from __future__ import annotations

import json
from typing import Any

from storage.station_codec import (
    mood_from_json,
    mood_to_json,
    steers_from_json,
    steers_to_json,
    tuning_from_json,
    tuning_to_json,
)
from wavelength.domain import ArtistId, Familiarity, Mood, Steer, Tilt, TrackId, Tuning


def test_values_survive_a_trip_through_json_text() -> None:
    mood = Mood(
        original="80s like Daft Punk, no Queen",
        text="80s",
        seed_artists=(ArtistId("daft punk"),),
        seed_tracks=(TrackId("spotify:track:1"),),
        avoid_artists=(ArtistId("queen"),),
        year_min=1980,
        year_max=1989,
        explicit=False,
        instrumental=True,
        tilts=(Tilt("energy", 1.0),),
    )
    tuning = Tuning(style=2.0, like=0.5, dislike=3.0, familiarity=Familiarity.SURPRISE)
    steers = (Steer("more upbeat", +1, (Tilt("energy", 0.5),)), Steer("less vocals", -1))

    def trip(data: Any) -> Any:
        return json.loads(json.dumps(data))  # what the JSON column hands back

    assert mood_from_json(trip(mood_to_json(mood))) == mood
    assert tuning_from_json(trip(tuning_to_json(tuning))) == tuning
    assert steers_from_json(trip(steers_to_json(steers))) == steers
    assert tuning_from_json(tuning_to_json(tuning)).familiarity is Familiarity.SURPRISE


def test_rows_written_before_a_field_existed_load_with_its_default() -> None:
    assert mood_from_json({"original": "jazz", "text": "jazz"}) == Mood(
        original="jazz", text="jazz"
    )
    assert tuning_from_json({}) == Tuning()
    assert tuning_from_json({"like": 2.0}) == Tuning(like=2.0)
    assert steers_from_json([{"phrase": "slower", "sign": -1}]) == (Steer("slower", -1),)
