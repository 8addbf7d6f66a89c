"""Typed SQLAlchemy 2.0 models. Schema changes go through Alembic (``migrations/``) only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
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


class ListeningEventRow(Base):
    __tablename__ = "listening_events"
    # One play per user, track and instant: re-importing a history file adds nothing.
    __table_args__ = (
        UniqueConstraint("user_id", "played_at", "track_id"),
        Index("ix_listening_events_user_track", "user_id", "track_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
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
