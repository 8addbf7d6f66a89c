"""Track cards posted as chat messages: which message showed which track, on which station,
to whom. A reaction to a message arrives with nothing but the message's address, possibly
days later and after a restart; this is how it finds its track."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from storage._sql import dialect_insert, utc
from storage.models import Base, ChatCardRow
from wavelength.domain import StationId, TrackId, UserId

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection

_CARDS = Base.metadata.tables["chat_cards"]


@dataclass(frozen=True, slots=True)
class PostedCard:
    platform: str
    chat: str
    message: str
    listener: UserId  # who the card was shown to
    station: StationId
    track: TrackId
    position: int


def remember(*, conn: Connection, cards: Sequence[PostedCard], now: datetime) -> None:
    """Store posted cards; a message id already stored keeps its first card (platforms
    never reuse message ids within a chat, so a repeat is a retried call)."""
    if not cards:
        return
    conn.execute(
        dialect_insert(conn, _CARDS).on_conflict_do_nothing(),
        [
            {
                "platform": c.platform,
                "chat_id": c.chat,
                "message_id": c.message,
                "listener_id": c.listener,
                "station_id": c.station,
                "track_id": c.track,
                "position": c.position,
                "posted_at": utc(now),
            }
            for c in cards
        ],
    )


def find(*, conn: Connection, platform: str, chat: str, message: str) -> PostedCard | None:
    row = conn.execute(
        select(ChatCardRow).where(
            ChatCardRow.platform == platform,
            ChatCardRow.chat_id == chat,
            ChatCardRow.message_id == message,
        )
    ).first()
    if row is None:
        return None
    return PostedCard(
        platform=row.platform,
        chat=row.chat_id,
        message=row.message_id,
        listener=UserId(row.listener_id),
        station=StationId(row.station_id),
        track=TrackId(row.track_id),
        position=row.position,
    )
