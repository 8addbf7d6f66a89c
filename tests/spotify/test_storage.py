"""The Spotify repository on SQLite and PostgreSQL: links, one-time states, push records,
search matches and catalog joins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from storage import catalog
from storage import spotify as repo
from tests.spotify.conftest import new_user
from tests.support.factories import track
from wavelength.domain import TrackId

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_links_are_one_per_spotify_account_and_break_cleanly(engine: Engine) -> None:
    ana, bea = new_user(engine), new_user(engine)
    with engine.begin() as conn:
        assert repo.save_link(
            conn=conn, user=ana, spotify_id="s1", display_name="Ana", token="sealed", now=NOW
        )
        with pytest.raises(repo.SpotifyAccountTaken):
            repo.save_link(
                conn=conn, user=bea, spotify_id="s1", display_name=None, token="t", now=NOW
            )
    with engine.begin() as conn:
        repo.mark_broken(conn=conn, user=ana, now=NOW)
        repo.set_token(conn=conn, user=ana, token="late refresh", now=NOW)  # ignored once broken
        link = repo.get_link(conn=conn, user=ana)
    assert link is not None and link.token is None and link.broken_at == NOW
    with engine.begin() as conn:
        assert not repo.save_link(
            conn=conn, user=ana, spotify_id="s1", display_name="Ana", token="new", now=NOW
        )
        relinked = repo.get_link(conn=conn, user=ana)
    assert relinked is not None and relinked.token == "new" and relinked.broken_at is None


def test_states_are_single_use_and_expire(engine: Engine) -> None:
    user = new_user(engine)
    with engine.begin() as conn:
        repo.put_state(
            conn=conn, state_hash="h1", user=user, expires_at=NOW + timedelta(minutes=10), now=NOW
        )
        repo.put_state(
            conn=conn, state_hash="h2", user=user, expires_at=NOW + timedelta(minutes=1), now=NOW
        )
    with engine.begin() as conn:
        assert repo.take_state(conn=conn, state_hash="h1", now=NOW) == (user, True)
        assert repo.take_state(conn=conn, state_hash="h1", now=NOW) is None
        assert repo.take_state(conn=conn, state_hash="h2", now=NOW + timedelta(minutes=2)) == (
            user,
            False,
        )


def test_a_push_record_keeps_its_playlist_and_progress_across_plans(engine: Engine) -> None:
    user = new_user(engine)
    with engine.begin() as conn:
        first = repo.plan_push(
            conn=conn,
            user=user,
            purpose="daily",
            name="D",
            description="",
            uris=["a", "b"],
            now=NOW,
        )
        assert (first.state, first.written, first.playlist_id) == (repo.PENDING, 0, None)
        repo.set_push_playlist(
            conn=conn, user=user, purpose="daily", playlist_id="p1", state=repo.PENDING, now=NOW
        )
        repo.set_push_progress(conn=conn, user=user, purpose="daily", written=1, now=NOW)
        same = repo.plan_push(
            conn=conn,
            user=user,
            purpose="daily",
            name="D",
            description="",
            uris=["a", "b"],
            now=NOW,
        )
        assert (same.written, same.playlist_id) == (1, "p1")  # resuming the same contents
        other = repo.plan_push(
            conn=conn, user=user, purpose="daily", name="D", description="x", uris=["c"], now=NOW
        )
        assert (other.written, other.uris, other.playlist_id) == (0, ("c",), "p1")
        repo.set_push_retry(
            conn=conn, user=user, purpose="daily", retry_at=NOW + timedelta(hours=1), now=NOW
        )
        assert [(p.purpose, p.retry_at) for p in repo.unfinished_pushes(conn=conn)] == [
            ("daily", NOW + timedelta(hours=1))
        ]
        repo.finish_push(conn=conn, user=user, purpose="daily", now=NOW)
        done = repo.get_push(conn=conn, user=user, purpose="daily")
        assert done is not None and done.state == repo.DONE and done.retry_at is None
        assert repo.unfinished_pushes(conn=conn) == []


def test_matches_and_catalog_ids(engine: Engine) -> None:
    local = track(name="Blue in Green", artist_name="Miles Quiet", uri=False)
    spotify_version = track(7, name="Blue in Green", artist_name="Miles Quiet")
    brand_new = track(8, name="New Song", artist_name="New Artist")
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=[local])
        repo.put_matches(conn=conn, matches={local.id: "spotify:track:x"}, now=NOW)
        repo.put_matches(conn=conn, matches={local.id: None}, now=NOW)  # searched again: none
        assert repo.get_matches(conn=conn, track_ids=[local.id, "other"]) == {local.id: None}
        assert repo.track_names(conn=conn, track_ids=[local.id]) == {
            local.id: ("Blue in Green", "Miles Quiet")
        }
        ids, added = repo.catalog_ids(conn=conn, tracks=[spotify_version, brand_new])
    assert ids == {spotify_version.id: local.id, brand_new.id: brand_new.id}
    assert added == 1
    assert TrackId(brand_new.id).startswith("spotify:track:")
