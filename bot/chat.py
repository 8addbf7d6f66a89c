"""The chat engine every async frontend talks to (Discord, Telegram; later the HTTP API).

Frontends are thin: a platform event becomes one call here with a ``Who`` (the person) and,
for reactions, a ``Where`` (the message), and the ``Reply`` values that come back become
platform messages. The work behind each call (database, vector search, encoder) is blocking,
so it runs in a small thread pool and the event loop stays free to answer Discord's 3-second
deadline and Telegram's updates.

Posted cards are remembered in the database, so a reaction to a card days later, after a
restart, still finds its station and track. The card's listener teaches their own station;
anybody else's reaction to it (a friend in a group chat) counts for their own taste only.
"""

from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from bot import render
from bot.conversation import Reply
from bot.gate import NotSent
from bot.throttle import Throttle
from storage import chat_cards
from wavelength.domain import Reaction, UserId
from wavelength.stations import NotFound, ReadOnly, StationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.conversation import Conversation
    from bot.gate import SendGate
    from wavelength.accounts import AccountService
    from wavelength.stations import Batch, Card, StationService

log = logging.getLogger(__name__)
T = TypeVar("T")

FLOOD = (
    "Easy there, that's a lot at once. I'll keep up with about one message a second; "
    "give me a moment and try again."
)
OOPS = "Something went wrong on my side; nothing you said was lost. Try again?"
# "Where they last wrote" needs minutes, not every message: one write per account per
# SEEN_EVERY keeps a database write off the path of each chat message.
SEEN_EVERY = 600.0


@dataclass(frozen=True, slots=True)
class Who:
    """A person on a platform."""

    platform: str  # "discord" | "telegram"
    account: str  # the platform's user id, as text
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Where:
    """One posted message."""

    platform: str
    chat: str  # channel / chat id, as text
    message: str  # message id, as text


@dataclass(frozen=True, slots=True)
class Delivered:
    """How a message we started (not a reply) went."""

    ok: bool
    unreachable: bool = False  # blocked the bot, DMs closed, account gone: don't retry
    retry_after: float | None = None  # seconds, when the platform asked us to wait
    platform: str | None = None
    note: str | None = None
    # Messages that went out before a failure: a retry would repeat them, so a delivery
    # that got this far counts as made (and says what was missing).
    sent: int = 0
    # A request left and no answer came back (a timeout, a dropped connection): the platform
    # may have shown it, so sending it again could make a second copy.
    in_doubt: bool = False


class Outbox(Protocol):
    """A frontend's way to message a person first (a DM / private chat), for scheduled
    deliveries and confirmations that arrive outside a conversation. Batches are sent as
    cards that take reactions, like any reply. ``gate``, when given, is opened right before
    each request leaves for the platform (after any wait for the rate limits)."""

    platform: str

    async def send(
        self, account: str, replies: Sequence[Reply], *, gate: SendGate | None = None
    ) -> Delivered: ...


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    description: str  # <= 100 characters: Discord's limit for command descriptions
    usage: str


COMMANDS: tuple[Command, ...] = (
    Command("radio", "Start a station from a mood in your own words", "/radio MOOD"),
    Command("next", "The next batch of the station playing", "/next"),
    Command("stations", "Your stations", "/stations"),
    Command("switch", "Play another of your stations", "/switch NAME"),
    Command("rename", "Rename the station playing", "/rename NEW NAME"),
    Command("delete", "Delete one of your stations", "/delete NAME"),
    Command("share", "A code that lets friends play this station", "/share"),
    Command("join", "Play a friend's shared station", "/join CODE"),
    Command("copy", "Make a friend's shared station your own", "/copy CODE"),
    Command("tune", "Weigh style, likes, dislikes; familiar or surprising", "/tune style=1.5"),
    Command("why", "Why a card was played", "/why N"),
    Command("undo", "Take back your last reaction", "/undo"),
    Command("history", "What you've told me", "/history"),
    Command("picks", "Today's picks for you", "/picks"),
    Command("mixes", "Your daily mixes, one per side of your taste", "/mixes"),
    Command("nostalgia", "A mix of what you loved back then", "/nostalgia"),
    Command("buddies", "Playlists made by people with your taste", "/buddies"),
    Command("taste", "A map of your taste", "/taste"),
    Command("sort", "Split your liked songs into your own lists, by example", "/sort"),
    Command("link", "Link your Spotify account", "/link"),
    Command("unlink", "Unlink Spotify and delete the tokens kept for it", "/unlink"),
    Command("spotify", "Your Spotify link, import progress and playlists", "/spotify"),
    Command("save", "Save the station playing as a Spotify playlist", "/save"),
    Command("connect", "Join your Discord and Telegram accounts into one taste", "/connect"),
    Command("settings", "Time zone, daily delivery time, daily DMs on/off", "/settings"),
    Command("pause", "Pause daily deliveries", "/pause"),
    Command("resume", "Resume daily deliveries", "/resume"),
    Command("help", "How to talk to Wavelength", "/help"),
)

# Reactions people can actually put on a message. Telegram only offers a fixed set (no ⏭),
# so each reaction has a few stand-ins from that set: 🥱 is "skip", 💔 is "not for me".
_REACTIONS: dict[str, Reaction] = {
    **dict.fromkeys(["👍", "👌", "👏", "🔥", "💯", "🆒"], Reaction.LIKE),
    **dict.fromkeys(["❤", "♥", "😍", "🥰", "❤\u200d🔥", "💘", "💖"], Reaction.LOVE),
    **dict.fromkeys(["👎", "💔", "🤮", "💩"], Reaction.DISLIKE),
    **dict.fromkeys(["⏭", "⏩", "🥱", "😴"], Reaction.SKIP),
}
_MODIFIERS = {"\ufe0f", "\ufe0e"} | {chr(c) for c in range(0x1F3FB, 0x1F400)}


def reaction_of(emoji: str) -> Reaction | None:
    """The reaction an emoji stands for (variation selectors and skin tones ignored)."""
    bare = "".join(c for c in unicodedata.normalize("NFC", emoji) if c not in _MODIFIERS)
    return _REACTIONS.get(bare.strip())


class ChatEngine:
    def __init__(
        self,
        *,
        conversation: Conversation,
        stations: StationService,
        accounts: AccountService,
        database: Engine,
        workers: int = 4,
        throttle: Throttle | None = None,
        reaction_throttle: Throttle | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._conversation = conversation
        self._stations = stations
        self._accounts = accounts
        self._db = database
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chat")
        self._throttle = throttle or Throttle(burst=8, per_second=1.0)
        # Reactions come in quick bursts (a row of 👍 down five cards), so they get more room.
        self._reaction_throttle = reaction_throttle or Throttle(burst=20, per_second=3.0)
        self._clock = clock
        self._outboxes: dict[str, Outbox] = {}
        self._seen: dict[tuple[str, str], float] = {}  # account -> when it was last marked

    # -- messages ---------------------------------------------------------------------------

    async def handle(self, who: Who, text: str) -> list[Reply]:
        """Replies to anything a person typed; never raises. A flood gets one friendly reply,
        then silence until it stops."""
        admitted = self._throttle.admit((who.platform, who.account))
        if admitted is None:
            return []
        if admitted is False:
            return [Reply(FLOOD)]
        replies = await self._run(self._handle, who, text)
        return replies if replies is not None else [Reply(OOPS)]

    def _handle(self, who: Who, text: str) -> list[Reply]:
        user = self._user(who)
        self._mark_seen(who)
        return self._conversation.handle(user, text)

    def _mark_seen(self, who: Who) -> None:
        """They wrote to us, so we may write to them again (clears a "blocked" mark), and
        messages we start go to this account first."""
        key, now = (who.platform, who.account), time.monotonic()
        if now - self._seen.get(key, -SEEN_EVERY) < SEEN_EVERY:
            return
        self._accounts.reachable(who.platform, who.account)
        if len(self._seen) > 100_000:  # bounded: forgetting only costs one more write
            self._seen.clear()
        self._seen[key] = now

    async def user_of(self, who: Who) -> UserId:
        """The user behind a platform account (made on first sight)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._user, who)

    async def station_names(self, who: Who) -> list[str]:
        """The person's station names, for autocompletion."""
        names = await self._run(
            lambda: [s.name for s in self._stations.stations(self._user(who))[0]]
        )
        return names or []

    # -- cards and reactions ----------------------------------------------------------------

    async def posted(self, who: Who, batch: Batch, cards: Sequence[tuple[Where, Card]]) -> None:
        """Remember which message shows which card, for reactions to come."""
        await self._run(self._posted, who, batch, cards)

    def _posted(self, who: Who, batch: Batch, cards: Sequence[tuple[Where, Card]]) -> None:
        listener = self._user(who)
        posted = [
            chat_cards.PostedCard(
                platform=where.platform,
                chat=where.chat,
                message=where.message,
                listener=listener,
                station=batch.station.id,
                track=card.track.id,
                position=card.position,
            )
            for where, card in cards
        ]
        with self._db.begin() as conn:
            chat_cards.remember(conn=conn, cards=posted, now=self._clock())

    async def react(self, who: Who, where: Where, reaction: Reaction) -> Reply | None:
        """A reaction to a message; None when the message isn't one of our cards."""
        if not self._reaction_throttle.admit((who.platform, who.account)):
            return None
        return await self._run(self._react, who, where, reaction, default=Reply(OOPS))

    def _react(self, who: Who, where: Where, reaction: Reaction) -> Reply | None:
        card = self._card(where)
        if card is None:
            return None
        reactor = self._user(who)
        if reactor == card.listener:
            try:
                reacted = self._stations.react_to_track(reactor, card.station, card.track, reaction)
                return Reply(render.reacted_text(reacted))
            except (ReadOnly, NotFound):
                pass  # a shared station they only listen to: it teaches their own taste
        reacted = self._stations.react_for_taste(reactor, card.track, reaction)
        return Reply(render.taste_reacted_text(reacted, who.name))

    async def unreact(self, who: Who, where: Where, reaction: Reaction) -> Reply | None:
        """A reaction taken off a card: the feedback it gave is taken back."""
        return await self._run(self._unreact, who, where, reaction, default=Reply(OOPS))

    def _unreact(self, who: Who, where: Where, reaction: Reaction) -> Reply | None:
        card = self._card(where)
        if card is None:
            return None
        undone = self._stations.unreact(self._user(who), card.track, reaction)
        return Reply(render.undone_text(*undone)) if undone is not None else None

    async def why(self, who: Who, where: Where) -> Reply | None:
        """Why the card in this message was played (to whoever it was played for)."""
        return await self._run(self._why, where, default=Reply(OOPS))

    def _why(self, where: Where) -> Reply | None:
        card = self._card(where)
        if card is None:
            return None
        explanation = self._stations.why_track(card.listener, card.station, card.track)
        return Reply(render.why_text(explanation))

    def _card(self, where: Where) -> chat_cards.PostedCard | None:
        with self._db.connect() as conn:
            return chat_cards.find(
                conn=conn, platform=where.platform, chat=where.chat, message=where.message
            )

    # -- messages we start ------------------------------------------------------------------

    def register_outbox(self, outbox: Outbox) -> None:
        """A running frontend offers to message people first."""
        self._outboxes[outbox.platform] = outbox

    def unregister_outbox(self, platform: str) -> None:
        self._outboxes.pop(platform, None)

    async def message(
        self, user: UserId, replies: Sequence[Reply], *, gate: SendGate | None = None
    ) -> Delivered:
        """Send ``replies`` to ``user`` on the account they last wrote from whose frontend is
        running; the next account when one turns out unreachable. ``gate`` goes with them to
        the frontend (``bot.gate``); its refusal (``NotSent``) is raised, not reported."""
        contacts = await self._run(self._accounts.contacts, user) or []
        tried = False
        for platform, account in contacts:
            outbox = self._outboxes.get(platform)
            if outbox is None:
                continue
            tried = True
            try:
                result = await outbox.send(account, replies, gate=gate)
            except NotSent:
                raise
            except Exception as exc:
                log.exception("messaging user %s on %s failed", user, platform)
                return Delivered(ok=False, platform=platform, note=type(exc).__name__)
            if result.unreachable:
                await self.unreachable(Who(platform, account))
                continue
            return result
        note = "no reachable account" if tried or not contacts else "no frontend running"
        return Delivered(ok=False, unreachable=tried or not contacts, note=note)

    # -- reachability -----------------------------------------------------------------------

    async def unreachable(self, who: Who) -> None:
        """The platform said this account can't be messaged (blocked us, closed DMs)."""
        self._seen.pop((who.platform, who.account), None)  # their next message clears it
        await self._run(self._accounts.unreachable, who.platform, who.account)

    async def close(self) -> None:
        await asyncio.to_thread(self._pool.shutdown, wait=True)

    # -- plumbing ---------------------------------------------------------------------------

    def _user(self, who: Who) -> UserId:
        return self._stations.user(who.platform, who.account, who.name)

    async def _run(self, fn: Callable[..., T], *args: object, default: T | None = None) -> T | None:
        """``fn(*args)`` in the pool. A ``StationError`` becomes its reply when ``T`` is a
        reply; any other failure is logged and gives ``default``."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, lambda: fn(*args))
        except StationError as exc:
            if isinstance(default, Reply):
                return Reply(str(exc))  # type: ignore[return-value]
            log.info("chat call refused: %s", exc)
            return default
        except Exception:
            # A bug or a dead dependency must not take the bot down; the log has the details.
            log.exception("chat engine call %s failed", getattr(fn, "__name__", fn))
            return default
