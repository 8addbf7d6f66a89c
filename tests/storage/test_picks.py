"""The many-listener reads and writes of the daily picks, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from storage import catalog, picks
from storage import feedback as fb
from storage import stations as repo
from tests.support.factories import track
from wavelength.domain import ListeningEvent, Mood, Pick, Reaction

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_seeds_fresh_sets_and_batches_for_many_listeners(engine: Engine) -> None:
    songs = [track(i, artist_name=f"Artist {i}") for i in range(1, 7)]
    a, b, c, d, e, f = (t.id for t in songs)
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=songs)
        ana, bo, cy = (
            repo.get_or_create_user(conn=conn, provider="t", external_id=x, display_name=None)
            for x in ("ana", "bo", "cy")
        )
        fb.add_feedback(conn=conn, user=ana, station=None, track=a, reaction=Reaction.LIKE,
                        now=NOW - timedelta(days=2))  # fmt: skip
        fb.add_feedback(conn=conn, user=ana, station=None, track=b, reaction=Reaction.LOVE,
                        now=NOW)  # fmt: skip
        fb.add_feedback(conn=conn, user=ana, station=None, track=c, reaction=Reaction.DISLIKE,
                        now=NOW)  # fmt: skip
        plays = [ListeningEvent(track=songs[i], played_at=NOW - timedelta(hours=h))
                 for i, h in ((2, 1), (3, 1), (3, 2), (3, 3))]  # fmt: skip
        catalog.insert_listening_events(conn=conn, user_id=ana, events=plays, source="import")
        fb.add_feedback(conn=conn, user=bo, station=None, track=e, reaction=Reaction.LIKE, now=NOW)
        seeds = picks.taste_seeds_many(conn=conn, users=[ana, bo, cy], limit=10)
        # Newest like first, then favourites, then most played; never the disliked one.
        assert seeds == {ana: [b, a, d], bo: [e], cy: []}
        assert picks.disliked_many(conn=conn, users=[ana, bo]) == {ana: {c}}

        mood = Mood(original="daily", text="")
        one = repo.create_station(conn=conn, owner=ana, name="Daily picks", mood=mood, now=NOW)
        two = repo.create_station(conn=conn, owner=bo, name="Daily picks", mood=mood, now=NOW)
        found = repo.named_stations(conn=conn, owners=[ana, bo, cy], name="daily PICKS")
        assert {u: s.id for u, s in found.items()} == {ana: one.id, bo: two.id}
        repo.set_moods(conn=conn, moods=[(one.id, Mood(original="new", text=""))], now=NOW)
        assert repo.get_station(conn=conn, station_id=one.id).mood.original == "new"  # type: ignore[union-attr]

        def pick(t: str) -> Pick:
            return Pick(t, songs[0].artist.id, 1.0, "why", "picks")  # type: ignore[arg-type]

        first = picks.record_batches(
            conn=conn, batches=[(one.id, ana, [pick(d), pick(e)]), (two.id, bo, [pick(f)])],
            now=NOW,
        )  # fmt: skip
        again = picks.record_batches(conn=conn, batches=[(one.id, ana, [pick(f)])], now=NOW)
        assert first == {one.id: 1, two.id: 1} and again == {one.id: 2}
        assert picks.played_on(conn=conn, stations=[one.id, two.id]) == {
            one.id: {d, e, f},
            two.id: {f},
        }
        since = picks.shown_since_many(conn=conn, listeners=[ana, bo], since=NOW - timedelta(1))
        assert since == {ana: {d, e, f}, bo: {f}}
        assert picks.shown_since_many(conn=conn, listeners=[ana], since=NOW + timedelta(1)) == {}
