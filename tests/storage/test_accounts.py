"""Accounts on both backends: link codes, merging two users, settings, reachability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from storage import accounts, catalog, feedback
from storage import stations as repo
from storage.models import ListeningEventRow, UserRow
from tests.support.factories import track
from wavelength.domain import Mood, Reaction, TrackId, Tuning, UserPrefs

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _tracks(engine: Engine) -> list[TrackId]:
    made = [track(i, artist_name=f"Artist {i}") for i in range(1, 4)]
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=made)
    return [t.id for t in made]


def test_link_codes_are_single_use_and_expire(engine: Engine) -> None:
    with engine.begin() as conn:
        ana = repo.get_or_create_user(
            conn=conn, provider="telegram", external_id="1", display_name=None
        )
        accounts.put_link_code(
            conn=conn, user=ana, code="ABC234", expires_at=NOW + timedelta(minutes=10)
        )
        assert accounts.take_link_code(conn=conn, code="ABC234", now=NOW) == ana
        assert accounts.take_link_code(conn=conn, code="ABC234", now=NOW) is None
        accounts.put_link_code(conn=conn, user=ana, code="OLD234", expires_at=NOW)
        accounts.put_link_code(conn=conn, user=ana, code="NEW234", expires_at=NOW + timedelta(1))
        assert accounts.take_link_code(conn=conn, code="OLD234", now=NOW) is None  # replaced
        accounts.put_link_code(conn=conn, user=ana, code="LATE23", expires_at=NOW)
        assert accounts.take_link_code(conn=conn, code="LATE23", now=NOW) is None  # expired


def test_merge_moves_everything_and_keeps_names_apart(engine: Engine) -> None:
    a, b, c = _tracks(engine)
    with engine.begin() as conn:
        keep = repo.get_or_create_user(
            conn=conn, provider="discord", external_id="d1", display_name=None
        )
        gone = repo.get_or_create_user(
            conn=conn, provider="telegram", external_id="t1", display_name=None
        )
        for user in (keep, gone):
            repo.create_station(conn=conn, owner=user, name="Jazz", mood=Mood(original="jazz", text="jazz"),
                                tuning=Tuning(), now=NOW)  # fmt: skip
        station = repo.list_stations(conn=conn, owner=gone)[0]
        repo.set_active(conn=conn, user=gone, station_id=station.id)
        feedback.add_feedback(conn=conn, user=gone, station=station.id, track=a,
                              reaction=Reaction.LOVE, now=NOW)  # fmt: skip
        feedback.add_feedback(conn=conn, user=keep, station=None, track=a,
                              reaction=Reaction.LOVE, now=NOW)  # fmt: skip
        feedback.add_feedback(conn=conn, user=gone, station=None, track=b,
                              reaction=Reaction.DISLIKE, now=NOW)  # fmt: skip
        catalog_events = [
            {"user_id": u, "track_id": c, "played_at": NOW, "ms_played": 1000, "source": "test"}
            for u in (keep, gone)
        ]
        conn.execute(ListeningEventRow.__table__.insert(), catalog_events)
        accounts.put_prefs(conn=conn, user=gone, prefs=UserPrefs(time_zone="Asia/Tokyo"), now=NOW)
        accounts.merge_users(conn=conn, keep=keep, gone=gone)

        assert sorted(s.name for s in repo.list_stations(conn=conn, owner=keep)) == [
            "Jazz",
            "Jazz (2)",
        ]
        assert accounts.identities_of(conn=conn, user=keep) == [
            ("discord", "d1"),
            ("telegram", "t1"),
        ]
        assert repo.get_active(conn=conn, user=keep) == (station.id, False)
        assert feedback.disliked_tracks(conn=conn, user=keep) == {b}
        assert feedback.favourites(conn=conn, user=keep) == [a]
        assert accounts.get_prefs(conn=conn, user=keep).time_zone == "Asia/Tokyo"
        events = conn.execute(select(func.count()).select_from(ListeningEventRow)).scalar_one()
        assert events == 1  # the same play from both accounts is one play
        assert conn.execute(select(UserRow.id).where(UserRow.id == gone)).first() is None
        # The telegram identity now resolves to the kept user.
        again = repo.get_or_create_user(
            conn=conn, provider="telegram", external_id="t1", display_name=None
        )
        assert again == keep


def test_prefs_default_roundtrip_and_reachability(engine: Engine) -> None:
    with engine.begin() as conn:
        ana = repo.get_or_create_user(
            conn=conn, provider="telegram", external_id="9", display_name=None
        )
        assert accounts.get_prefs(conn=conn, user=ana) == UserPrefs()
        prefs = UserPrefs(time_zone="Europe/Berlin", delivery_minute=7 * 60 + 30, daily=True)
        accounts.put_prefs(conn=conn, user=ana, prefs=prefs, now=NOW)
        accounts.put_prefs(conn=conn, user=ana, prefs=prefs, now=NOW)  # an update, not a clash
        assert accounts.get_prefs(conn=conn, user=ana) == prefs
        assert prefs.delivery_time == "07:30"
        accounts.mark_unreachable(conn=conn, provider="telegram", external_id="9", now=NOW)
        assert accounts.unreachable_since(conn=conn, provider="telegram", external_id="9") == NOW
        accounts.mark_unreachable(conn=conn, provider="telegram", external_id="9", now=None)
        assert accounts.unreachable_since(conn=conn, provider="telegram", external_id="9") is None
