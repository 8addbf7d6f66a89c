"""Two listeners and six tracks in one open transaction, for the station repository tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Connection, Engine

from storage import catalog, stations
from tests.support.factories import track
from wavelength.domain import ArtistId, Mood, Pick, Station, TrackId, UserId

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TRACKS = [track(n) for n in range(1, 7)]
T1, T2, T3, T4, T5, T6 = (t.id for t in TRACKS)
JAZZ = Mood(original="late night jazz", text="late night jazz")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def pick(track_id: TrackId, score: float = 0.5) -> Pick:
    return Pick(
        track=track_id,
        artist=ArtistId("nina simone"),
        score=score,
        reason="because",
        source="mood",
    )


@dataclass(frozen=True)
class StationRows:
    conn: Connection
    ana: UserId
    bo: UserId

    def station(self, name: str = "Jazz", owner: UserId | None = None) -> Station:
        return stations.create_station(
            conn=self.conn, owner=owner or self.ana, name=name, mood=JAZZ, now=T0
        )


def station_rows(engine: Engine) -> Iterator[StationRows]:
    """Ana, Bo and the six tracks, in one transaction that the test may keep using."""
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=TRACKS)
        ana = stations.get_or_create_user(
            conn=conn, provider="discord", external_id="1001", display_name="Ana"
        )
        bo = stations.get_or_create_user(
            conn=conn, provider="telegram", external_id="2002", display_name=None
        )
        yield StationRows(conn, ana, bo)
