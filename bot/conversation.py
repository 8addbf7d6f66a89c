"""The platform-neutral conversation engine.

Discord, Telegram and the console all hand a user's message to ``Conversation.handle`` and
render the replies it returns; nothing here knows which platform it runs on. A message
becomes one intent (``bot.intents``), the intent one call of the station service, and the
result one or two replies: text for every platform, plus the structured batch for frontends
that draw cards.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot import intent_types as it
from bot import render
from bot.intents import parse_intent
from recommender.station import NotTrainedError
from wavelength.spotify_service import SpotifyServiceError
from wavelength.stations import StationError

if TYPE_CHECKING:
    from bot.sort_chat import SortChat
    from bot.spotify_chat import SpotifyChat
    from wavelength.accounts import AccountService
    from wavelength.domain import CatalogCounts, UserId
    from wavelength.mixes import MixService
    from wavelength.stations import Batch, StationService

log = logging.getLogger(__name__)


class CatalogStats(Protocol):
    def counts(self) -> CatalogCounts: ...


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    batch: Batch | None = None  # the cards, for frontends that draw them
    image: bytes | None = None  # a PNG (the taste map); ``text`` is its caption


HELP = """\
Wavelength: describe a mood, get a radio station that learns from your reactions.

Start a station by saying what you want to hear:
  rainy sunday jazz for reading · 90s hip hop for the gym · like Radiohead but calmer
  something to fall asleep to, no vocals · like Daft Punk but not Justice · 70s soul, clean

React to the cards by number:  👍 2   ❤️ 1   👎 3   ⏭ 4   (or: like 2, love 1, dislike 3, skip 4)
  👍 like · ❤️ love (also saved to favourites) · 👎 never play again · ⏭ skip (a weak no)
Steer in words:  more upbeat · calmer · less vocals · older · surprise me · play it safe
  more like 2 · no more Coldplay · why 3 · undo · what have I told you

Commands:
  /radio MOOD   new station          /next       next batch
  /stations     your stations        /switch N   play station N (or its name)
  /rename NEW   rename this one      /delete N   delete a station
  /share        a code for friends   /join CODE  play a shared station · /copy CODE  make it yours
  /tune style=1 like=1.5 dislike=1 discovery=safe|balanced|surprise
  /from NAME    a station from a playlist in the catalog
  /history      your reactions       /undo       take the last one back
  /why N        why card N           /stats      what the catalog holds
  /connect      one taste on Discord and Telegram (a code to type on the other)
  /settings tz=Europe/Berlin time=08:30 daily=on    when daily picks arrive · /pause /resume
  /picks /mixes /nostalgia /buddies /taste     beyond one station
  /sort         split your liked songs into your own lists, by example
  /link /spotify /save /unlink                 Spotify
  /help         this text            /quit       leave (console)"""


def clean(text: str) -> str:
    """NFC-normalize and drop control and format characters (zero-width joiners stay out
    of commands), keeping the emoji and scripts people actually type."""
    normalized = unicodedata.normalize("NFC", text)
    kept = (
        c
        for c in normalized
        if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs", "Co", "Cn")
    )
    return "".join(kept).strip()


class Conversation:
    """Turns one message into replies."""

    def __init__(
        self,
        *,
        catalog: CatalogStats,
        stations: StationService,
        accounts: AccountService | None = None,
        spotify: SpotifyChat | None = None,
        mixes: MixService | None = None,
        sorter: SortChat | None = None,
        max_chars: int = 2000,
        warming: Callable[[], str | None] = lambda: None,
    ) -> None:
        """``warming`` says why stations can't be composed yet (first-start training), or
        None when they can. Without ``accounts`` (the console) /connect and /settings say
        they need a chat platform."""
        self._catalog = catalog
        self._stations = stations
        self._accounts = accounts
        self._spotify = spotify
        self._mixes = mixes
        self._sorter = sorter
        self._max_chars = max_chars
        self._warming = warming

    def handle(self, user: UserId, message: str) -> list[Reply]:
        """Replies to ``message`` from ``user``; never raises for bad input."""
        if len(message) > self._max_chars * 4:
            return [self._too_long(len(message))]
        text = clean(message)
        if not text:
            return [Reply("I didn't catch anything there. Describe a mood, or type /help.")]
        if len(text) > self._max_chars:
            return [self._too_long(len(text))]
        intent = parse_intent(text)
        if isinstance(intent, (it.NewStation, it.Next, it.Switch, it.Join, it.Copy, it.Refine,
                               it.SetFamiliarity, it.MoreLikeThis, it.NoMore, it.Tune,
                               it.FromPlaylist)):  # fmt: skip
            waiting = self._warming()
            if waiting is not None:
                return [Reply(waiting)]
        try:
            return self._dispatch(user, intent)
        except StationError as exc:
            return [Reply(str(exc))]
        except SpotifyServiceError as exc:
            return [Reply(str(exc))]
        except NotTrainedError:
            return [
                Reply(
                    "I can't compose stations yet: the catalog has no vectors. Run "
                    "`wavelength train` (a few minutes for the demo catalog) and try again."
                )
            ]
        except Exception:
            # A bug or a dead dependency must not end the chat; the log has the details.
            log.exception("failed to handle %s", type(intent).__name__)
            return [Reply("Something went wrong on my side; nothing you said was lost. Try again?")]

    def _too_long(self, length: int) -> Reply:
        return Reply(
            f"That message is {length:,} characters; I read up to {self._max_chars:,}. "
            "A sentence or two about the mood is plenty."
        )

    @staticmethod
    def _batch(batch: Batch, *, intro: str | None = None) -> list[Reply]:
        return [Reply(render.batch_text(batch, intro=intro), batch)]

    def _stats(self) -> Reply:
        c = self._catalog.counts()
        return Reply(
            "Catalog:\n"
            f"  tracks            {c.tracks:>12,}\n"
            f"  artists           {c.artists:>12,}\n"
            f"  albums            {c.albums:>12,}\n"
            f"  playlists         {c.playlists:>12,}  ({c.playlist_items:,} track rows)\n"
            f"  users             {c.users:>12,}\n"
            f"  listening events  {c.listening_events:>12,}"
        )

    def _dispatch(self, user: UserId, intent: it.Intent) -> list[Reply]:
        """One intent, one service call; thin by design (the service holds the logic)."""
        s = self._stations
        match intent:
            case it.Help():
                return [Reply(HELP)]
            case it.Stats():
                return [self._stats()]
            case it.Unknown(reason=reason):
                return [Reply(reason)]
            case it.NewStation(text=text):
                return self._batch(s.create(user, text))
            case it.Next():
                return self._batch(s.next(user))
            case it.ListStations():
                return [Reply(render.stations_text(*s.stations(user)))]
            case it.Switch(target=target):
                return self._batch(s.switch(user, target))
            case it.Rename(new=new, target=target):
                old, station = s.rename(user, new, target)
                return [Reply(f'Renamed "{old}" to "{station.name}".')]
            case it.Delete(target=target):
                gone = s.delete(user, target)
                return [Reply(f'Deleted "{gone.name}" and what it learned there.')]
            case it.Share(target=target):
                return [Reply(render.shared_text(*s.share(user, target)))]
            case it.Join(code=code):
                return self._batch(s.join(user, code))
            case it.Copy(code=code):
                return self._batch(s.copy(user, code), intro="Copied: this station is yours now.")
            case it.React(reaction=reaction, positions=positions):
                return [Reply(render.reacted_text(s.react(user, reaction, positions)))]
            case it.Undo():
                undone = s.undo(user)
                if undone is None:
                    return [Reply("There's nothing to undo: you haven't reacted to anything yet.")]
                return [Reply(render.undone_text(*undone))]
            case it.History():
                return [Reply(render.history_text(s.history(user)))]
            case it.Why(position=position):
                return [Reply(render.why_text(s.why(user, position)))]
            case it.Refine(steer=steer):
                words = ("more " if steer.sign > 0 else "less ") + steer.phrase
                return self._batch(s.refine(user, steer), intro=f"Steering: {words}.")
            case it.SetFamiliarity(familiarity=familiarity):
                intro = render.FAMILIARITY_INTRO[familiarity]
                return self._batch(s.tune(user, familiarity=familiarity), intro=intro)
            case it.MoreLikeThis(position=position):
                return self._batch(s.more_like(user, position), intro="More like that, coming up.")
            case it.NoMore(name=name):
                artist, batch = s.no_more(user, name)
                return self._batch(batch, intro=f"No more {artist} on this station.")
            case it.Tune():
                return self._tune(user, intent)
            case it.FromPlaylist(name=name):
                return self._batch(s.from_catalog_playlist(user, name))
            case it.Picks():
                picks = s.daily_picks(user)
                if picks is None:
                    return [Reply(render.NO_TASTE_YET)]
                return self._batch(picks, intro="☀️ Picks for you, from what you liked:")
            case it.Mixes() | it.Nostalgia() | it.Buddies() | it.TasteMap():
                return [self._personal(user, intent)]
            case it.Sort(args=args):
                if self._sorter is None:
                    return [Reply("Sorting liked songs isn't available in this setup.")]
                return [self._sorter.handle(user, args)]
            case it.Connect() | it.Settings() | it.Pause() | it.Resume():
                return [self._account(user, intent)]
            case (
                it.SpotifyLink()
                | it.SpotifyPasted()
                | it.SpotifyUnlink()
                | it.SpotifyStatus()
                | it.SaveToSpotify()
            ):
                return [self._spotify_reply(user, intent)]
        raise AssertionError(f"unhandled intent {intent!r}")  # mypy checks the match is complete

    def _personal(
        self, user: UserId, intent: it.Mixes | it.Nostalgia | it.Buddies | it.TasteMap
    ) -> Reply:
        m = self._mixes
        if m is None:
            return Reply("Personal mixes aren't available in this setup.")
        match intent:
            case it.Mixes():
                return Reply(render.mixes_text(m.mixes(user)))
            case it.Nostalgia():
                return Reply(render.nostalgia_text(m.nostalgia(user)))
            case it.Buddies(share=None):
                return Reply(render.buddies_text(m.buddies(user)))
            case it.Buddies(share=bool(on)):
                m.share_taste(user, on=on)
                return Reply(render.SHARING[on])
            case it.TasteMap():
                found = m.mixes(user)
                return Reply(render.taste_caption(found), image=m.taste_map_png(user))
        raise AssertionError(f"unhandled personal intent {intent!r}")

    def _spotify_reply(
        self,
        user: UserId,
        intent: it.SpotifyLink
        | it.SpotifyPasted
        | it.SpotifyUnlink
        | it.SpotifyStatus
        | it.SaveToSpotify,
    ) -> Reply:
        sp = self._spotify
        if sp is None:
            return Reply(render.SPOTIFY_NOT_SET_UP)
        match intent:
            case it.SpotifyLink():
                return sp.link(user)
            case it.SpotifyPasted(url=url):
                return sp.pasted(user, url)
            case it.SpotifyUnlink():
                return sp.unlink(user)
            case it.SpotifyStatus():
                return sp.status(user)
            case it.SaveToSpotify():
                station, tracks = self._stations.saved_tracks(user)
                purpose = f"station:{station.id}"
                return sp.save(user, purpose, station.name, station.mood.original, tracks)
        raise AssertionError(f"unhandled Spotify intent {intent!r}")

    def _account(
        self, user: UserId, intent: it.Connect | it.Settings | it.Pause | it.Resume
    ) -> Reply:
        a = self._accounts
        if a is None:
            return Reply("That works in Discord and Telegram chats, not in the console.")
        match intent:
            case it.Connect(code=None):
                code, expires = a.link_code(user)
                return Reply(render.link_code_text(code, expires))
            case it.Connect(code=str(code)):
                joined = a.redeem(user, code)
                return Reply(render.connected_text(a.identities(joined)))
            case it.Settings(time_zone=None, at=None, daily=None):
                return Reply(render.prefs_text(a.prefs(user)))
            case it.Settings(time_zone=tz, at=at, daily=daily):
                prefs = a.update_prefs(user, time_zone=tz, at=at, daily=daily)
                return Reply("Saved. " + render.prefs_text(prefs))
            case it.Pause():
                a.update_prefs(user, paused=True)
                return Reply("⏸ Daily deliveries paused. /resume brings them back.")
            case it.Resume():
                prefs = a.update_prefs(user, paused=False)
                return Reply("▶️ Resumed. " + render.prefs_text(prefs))
        raise AssertionError(f"unhandled account intent {intent!r}")

    def _tune(self, user: UserId, i: it.Tune) -> list[Reply]:
        if (i.style, i.like, i.dislike, i.familiarity) == (None, None, None, None):
            station, _ = self._stations.active(user)
            return [Reply(render.tuning_text(station))]
        batch = self._stations.tune(
            user, style=i.style, like=i.like, dislike=i.dislike, familiarity=i.familiarity
        )
        return self._batch(batch, intro="Retuned.")
