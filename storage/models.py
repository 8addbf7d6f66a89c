"""Typed SQLAlchemy 2.0 models. Schema changes go through Alembic (``migrations/``) only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Explicit constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(64)
# 64-bit ids where a table grows with every play or reaction; SQLite only autoincrements INTEGER.
EVENT_ID = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ArtistRow(Base):
    __tablename__ = "artists"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    spotify_uri: Mapped[str | None] = mapped_column(String(64))
    # Comma-free list joined by "|" so it stays portable across SQLite and PostgreSQL.
    genres: Mapped[str | None] = mapped_column(Text)


class AlbumRow(Base):
    __tablename__ = "albums"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    artist_id: Mapped[str] = mapped_column(ForeignKey("artists.id"))


class TrackRow(Base):
    __tablename__ = "tracks"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    artist_id: Mapped[str] = mapped_column(ForeignKey("artists.id"), index=True)
    album_id: Mapped[str | None] = mapped_column(ForeignKey("albums.id"))
    match_key: Mapped[str] = mapped_column(Text, index=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    popularity: Mapped[int | None] = mapped_column(SmallInteger)
    explicit: Mapped[bool | None] = mapped_column(Boolean)
    year: Mapped[int | None] = mapped_column(SmallInteger)
    decade: Mapped[int | None] = mapped_column(SmallInteger)
    genre: Mapped[str | None] = mapped_column(Text)
    danceability: Mapped[float | None] = mapped_column(Float)
    energy: Mapped[float | None] = mapped_column(Float)
    valence: Mapped[float | None] = mapped_column(Float)
    acousticness: Mapped[float | None] = mapped_column(Float)
    instrumentalness: Mapped[float | None] = mapped_column(Float)
    speechiness: Mapped[float | None] = mapped_column(Float)
    liveness: Mapped[float | None] = mapped_column(Float)
    tempo: Mapped[float | None] = mapped_column(Float)
    loudness: Mapped[float | None] = mapped_column(Float)
    mode: Mapped[int | None] = mapped_column(SmallInteger)
    key: Mapped[int | None] = mapped_column(SmallInteger)


class PlaylistRow(Base):
    __tablename__ = "playlists"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    num_followers: Mapped[int | None] = mapped_column(Integer)
    num_tracks: Mapped[int] = mapped_column(Integer)
    modified_at: Mapped[int | None] = mapped_column(BigInteger)
    collaborative: Mapped[bool | None] = mapped_column(Boolean)


class PlaylistItemRow(Base):
    __tablename__ = "playlist_items"

    playlist_id: Mapped[str] = mapped_column(
        ForeignKey("playlists.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[str] = mapped_column(ForeignKey("tracks.id"), index=True)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IdentityRow(Base):
    """A user's account on a chat platform or streaming service."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(Text)
    # Set when the platform said the account can't be messaged (blocked the bot, closed DMs,
    # deleted): scheduled deliveries skip it until the user writes again.
    unreachable_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the person last wrote from this account: scheduled messages go where they talk.
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ListeningEventRow(Base):
    __tablename__ = "listening_events"
    # One play per user, track and instant: re-importing a history file adds nothing.
    __table_args__ = (
        UniqueConstraint("user_id", "played_at", "track_id"),
        Index("ix_listening_events_user_track", "user_id", "track_id"),
    )

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    track_id: Mapped[str] = mapped_column(ForeignKey("tracks.id"))
    played_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ms_played: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))


class AppMetaRow(Base):
    """Small facts about this installation, e.g. which bundled data was loaded already."""

    __tablename__ = "app_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class StationRow(Base):
    """A user's station. Mood, tuning and steers are JSON (see ``storage.station_codec``)."""

    __tablename__ = "stations"
    # name_key is the casefolded name, so "Jazz" and "jazz" can't both belong to one owner.
    __table_args__ = (UniqueConstraint("owner_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    mood: Mapped[dict[str, Any]] = mapped_column(JSON)
    tuning: Mapped[dict[str, Any]] = mapped_column(JSON)
    steers: Mapped[list[Any]] = mapped_column(JSON)
    banned_artists: Mapped[list[str]] = mapped_column(JSON)
    # No foreign key: the playlist may later be a user's own import, stored elsewhere.
    seed_playlist_id: Mapped[str | None] = mapped_column(ID)
    share_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ActiveStationRow(Base):
    """The station each user is listening to now."""

    __tablename__ = "active_stations"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed so deleting a station finds its listeners without scanning every user.
    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE"), index=True
    )
    # True while the user plays someone else's shared station.
    read_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class StationPlayRow(Base):
    """One track a station showed one listener, in numbered batches."""

    __tablename__ = "station_plays"
    __table_args__ = (
        # One row per place in a batch: two composes of one station racing for the same
        # batch number can't both record it (the loser composes again, see StationsCore).
        Index(
            "ux_station_plays_batch_position",
            "station_id",
            "listener_id",
            "batch",
            "position",
            unique=True,
        ),
        # A reaction's "was it shown?" check: one probe, not a read of every play (0011).
        Index("ix_station_plays_station_listener_track", "station_id", "listener_id", "track_id"),
    )

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True, autoincrement=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    listener_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    track_id: Mapped[str] = mapped_column(ForeignKey("tracks.id"))
    batch: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)  # 1-based within the batch
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    shown_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FeedbackRow(Base):
    """One reaction; undo marks it rather than deleting it."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_user_track", "user_id", "track_id"),)

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # A deleted station keeps its reactions as user-wide taste.
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("stations.id", ondelete="SET NULL"), index=True
    )
    track_id: Mapped[str] = mapped_column(ForeignKey("tracks.id"))
    reaction: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Came with a copied station: steers that station, never the user's own taste.
    copied: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class FavouriteRow(Base):
    __tablename__ = "favourites"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    track_id: Mapped[str] = mapped_column(ForeignKey("tracks.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LinkCodeRow(Base):
    """A one-time code that joins a second chat identity to a user (shown on one platform,
    typed on the other)."""

    __tablename__ = "link_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserSettingsRow(Base):
    """Per-user preferences set with /settings; a missing row means the defaults."""

    __tablename__ = "user_settings"
    # The delivery round's "whose time has come": one range of opted-in listeners.
    __table_args__ = (Index("ix_user_settings_next_due", "daily", "paused", "next_due_at"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    time_zone: Mapped[str] = mapped_column(String(64))
    delivery_minute: Mapped[int] = mapped_column(Integer)  # minutes after local midnight
    daily: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When the next delivery falls due (``jobs.schedule.next_due``), kept by the delivery
    # round; NULL until a round has looked, and again whenever the settings change.
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChatCardRow(Base):
    """A track card posted as a chat message, so a reaction to that message (even days later,
    after a restart) finds its station, track and the listener it was shown to."""

    __tablename__ = "chat_cards"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    listener_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE"), index=True
    )
    track_id: Mapped[str] = mapped_column(ForeignKey("tracks.id"))
    position: Mapped[int] = mapped_column(Integer)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SpotifyLinkRow(Base):
    """A user's linked Spotify account. ``token`` is the OAuth token JSON sealed with the
    installation's secret key (``spotify.crypto``); None once the link broke (access revoked)."""

    __tablename__ = "spotify_links"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # One Wavelength user per Spotify account: a second user can't take a link over silently.
    spotify_id: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    token: Mapped[str | None] = mapped_column(Text)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    broken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SpotifyAuthStateRow(Base):
    """A pending OAuth ``state``: single use, short-lived, stored as a hash only."""

    __tablename__ = "spotify_auth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SpotifyPushRow(Base):
    """The playlist Wavelength keeps for one (user, purpose), and the contents it should have.

    Written before any call to Spotify, so a push cut short (crash, rate limit, outage) is
    finished by comparing the playlist with ``uris`` rather than by replaying requests."""

    __tablename__ = "spotify_pushes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(String(40), primary_key=True)
    playlist_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(300))
    uris: Mapped[list[str]] = mapped_column(JSON)
    # "pending" (contents not confirmed), "creating" (a playlist may have been created but
    # its id not recorded) or "done".
    state: Mapped[str] = mapped_column(String(10))
    written: Mapped[int] = mapped_column(Integer)  # items confirmed so far, for status lines
    # The name a create was sent with while its playlist id is unknown, to adopt it by.
    created_name: Mapped[str | None] = mapped_column(String(100))
    retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SpotifyMatchRow(Base):
    """The Spotify URI found by search for a catalog track without one (None: none matched)."""

    __tablename__ = "spotify_matches"

    track_id: Mapped[str] = mapped_column(ForeignKey("tracks.id"), primary_key=True)
    uri: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeliveryRow(Base):
    """One scheduled delivery (daily picks, a nostalgia mix) to one user for one local day.

    The unique key is the exactly-once guarantee: a delivery is claimed here before anything
    is sent, and two schedulers, or one restarted mid-run, find the row instead of sending again.
    """

    __tablename__ = "deliveries"
    # The second: the round's look for claims that ran out and failures due a retry.
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "day"),
        Index("ix_deliveries_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    day: Mapped[str] = mapped_column(String(10))  # the user's local date, YYYY-MM-DD
    # claimed -> sending -> sent | skipped | failed; "sending" left behind by a crash is
    # never re-sent blindly (see jobs/ledger.py).
    status: Mapped[str] = mapped_column(String(10), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class JobLeaseRow(Base):
    """A named lease: only the holder fires the job until it expires (one scheduler fires
    a given job even when several processes run one)."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TasteCenterRow(Base):
    """One of a user's taste centers as fitted on ``day``: tomorrow's fit starts from these, so
    daily mixes stay put unless the listening moved (``recommender.mixes``)."""

    __tablename__ = "taste_centers"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    center_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[str] = mapped_column(String(10))  # UTC date of the fit, YYYY-MM-DD
    # Which vector space the center lives in (model and dimension): a retrained model with
    # other vectors makes stored centers meaningless, so they are then ignored.
    space: Mapped[str] = mapped_column(String(100))
    vector: Mapped[list[float]] = mapped_column(JSON)
    weight: Mapped[float] = mapped_column(Float)
    share: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(Text)


class TasteSharingRow(Base):
    """A user who agreed that others may be matched to their taste (organic playlists)."""

    __tablename__ = "taste_sharing"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SortRow(Base):
    """A user's liked-songs sort (``wavelength.sorter``): the lists they named, the options,
    the songs they labelled, and the last split, so new liked songs can be told apart."""

    __tablename__ = "sorts"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    lists: Mapped[list[str]] = mapped_column(JSON)  # names, in the user's order
    mutual: Mapped[bool] = mapped_column(Boolean)
    complete: Mapped[bool] = mapped_column(Boolean)
    labels: Mapped[list[list[Any]]] = mapped_column(JSON)  # [track id, list index] pairs
    # track id -> list indexes of the last split ([] is the void); {} before the first.
    split: Mapped[dict[str, list[int]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKeyRow(Base):
    """An HTTP API key (``storage.api_keys``). Only a SHA-256 of the key is kept: the keys are
    random 256-bit tokens, so a slow password hash would add latency to every request and no
    safety; a leaked table still lets nobody in."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
