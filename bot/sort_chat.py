"""`/sort` in the conversation: split your liked songs into your own lists, by example.

The sorter (wavelength/sorter.py) does the learning; this reads the `/sort` sub-commands and
turns the results into replies. Songs are shown numbered, and the numbers of the latest list
shown are what `/sort label N ...` and `/sort move N ...` refer to (kept per person in memory:
after a restart, `/sort next` or `/sort list NAME` shows fresh numbers).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.commands import OFF, ON
from bot.conversation import Reply
from bot.render import track_line

if TYPE_CHECKING:
    from wavelength.domain import Track, TrackId, UserId
    from wavelength.sorter import SorterService, SortSplit, SortState

HELP = """\
Sort your liked songs into your own lists, by example:
  /sort new solo focus | car with friends | workout    2 to 10 lists, split by |
  /sort next              songs to label (the ones that teach me most)
  /sort label 2 workout   song 2 goes in "workout" (overlap on: workout + car with friends)
  /sort show              the split, with how sure I am · /sort list NAME  one whole list
  /sort move 4 solo focus a correction: I learn from it at once
  /sort overlap on|off    may a song be in several lists? (off: one list each)
  /sort void on|off       may songs that fit nowhere stay out? (off: every song is placed)
  /sort push              each list into its own Spotify playlist, updated in place"""

_SPLIT = re.compile(r"\s*[|;]\s*|\s*,\s*")
_NUMBERED = re.compile(r"^(\d{1,3})\s+(.+)$")
SHOW = 5  # songs shown per list in the overview


class SortChat:
    def __init__(self, sorter: SorterService | None) -> None:
        self._sorter = sorter
        self._numbers: dict[int, list[TrackId]] = {}
        self._lock = threading.Lock()

    def handle(self, user: UserId, args: str) -> Reply:
        from wavelength.sorter import SorterError

        if self._sorter is None:
            return Reply("Sorting liked songs isn't available in this setup.")
        verb, _, rest = args.strip().partition(" ")
        rest = rest.strip()
        try:
            return self._dispatch(user, verb.casefold(), rest)
        except SorterError as exc:
            return Reply(str(exc))

    def _dispatch(self, user: UserId, verb: str, rest: str) -> Reply:
        from wavelength.sorter import SorterError

        s = self._sorter
        assert s is not None
        match verb:
            case "":
                try:
                    return Reply(_state_text(s.state(user)) + "\n\n" + HELP)
                except SorterError:
                    return Reply(HELP)  # no sort started yet
            case "help":
                return Reply(HELP)
            case "new" | "start":
                names = [n for n in _SPLIT.split(rest) if n]
                state = s.start(user, names)
                return Reply(_state_text(state) + "\n" + self._propose(user))
            case "next" | "more":
                return Reply(self._propose(user))
            case "label" | "add":
                number, names = self._numbered(rest, "label")
                state = s.label(user, self._track(user, number), names)
                return Reply(_state_text(state))
            case "move" | "fix":
                number, names = self._numbered(rest, "move")
                split = s.correct(user, self._track(user, number), names)
                return Reply("Moved; the rest is re-sorted.\n" + self._overview(user, split))
            case "show" | "split":
                return Reply(self._overview(user, s.split(user)))
            case "list":
                return Reply(self._whole(user, rest))
            case "overlap" | "void":
                on = _on_off(rest)
                if verb == "overlap":
                    state = s.set_options(user, mutual=not on)
                else:
                    state = s.set_options(user, complete=not on)
                return Reply(_state_text(state))
            case "push":
                reports = s.push(user)
                lines = [f"💾 {len(reports)} Spotify playlists updated:"]
                lines += [
                    f"  {r.purpose.removeprefix('sort:')}: {r.tracks} songs {r.url}"
                    for r in reports
                ]
                return Reply("\n".join(lines))
        return Reply(f"I don't know /sort {verb[:20]}.\n{HELP}")

    # -- numbered songs -----------------------------------------------------------------------

    def _remember(self, user: UserId, tracks: Sequence[Track]) -> None:
        with self._lock:
            self._numbers[user] = [t.id for t in tracks]

    def _track(self, user: UserId, number: int) -> TrackId:
        from wavelength.sorter import SorterError

        with self._lock:
            shown = self._numbers.get(user, [])
        if not 1 <= number <= len(shown):
            raise SorterError(
                f"There's no song {number} in the last list I showed you "
                f"({len(shown)} songs). /sort next or /sort list NAME shows numbered songs."
            )
        return shown[number - 1]

    @staticmethod
    def _numbered(rest: str, verb: str) -> tuple[int, list[str]]:
        from wavelength.sorter import SorterError

        m = _NUMBERED.match(rest)
        if m is None:
            raise SorterError(
                f"Usage: /sort {verb} 2 LIST NAME (the song's number, then the list)."
            )
        names = [n.strip() for n in m.group(2).split("+") if n.strip()]
        return int(m.group(1)), names

    def _propose(self, user: UserId) -> str:
        assert self._sorter is not None
        songs = self._sorter.propose(user)
        if not songs:
            return "Every song is labelled or sorted; /sort show has the split."
        self._remember(user, songs)
        lines = ["Which list? Label each with /sort label N LIST:"]
        lines += [f"{i:>3}. {track_line(t)}" for i, t in enumerate(songs, 1)]
        return "\n".join(lines)

    def _overview(self, user: UserId, split: SortSplit) -> str:
        lines, numbered = [], []
        for lst in split.lists:
            lines.append(f"📂 {lst.name}: {len(lst.songs)} songs")
            for song in lst.songs[:SHOW]:
                numbered.append(song.track)
                mark = "✓" if song.labelled else f"{song.confidence:.0%}"
                lines.append(f"{len(numbered):>3}. {track_line(song.track)}  ({mark})")
        if not split.complete:
            lines.append(f"🕳 fits nowhere well: {len(split.void)} songs")
        self._remember(user, numbered)
        lines.append("/sort move N LIST corrects one; /sort list NAME shows a whole list.")
        return "\n".join(lines)

    def _whole(self, user: UserId, name: str, limit: int = 50) -> str:
        assert self._sorter is not None
        lst = self._sorter.sublist(user, name)
        shown = lst.songs[:limit]
        self._remember(user, [s.track for s in shown])
        lines = [f"📂 {lst.name}: {len(lst.songs)} songs"]
        for i, song in enumerate(shown, 1):
            mark = "✓" if song.labelled else f"{song.confidence:.0%}"
            lines.append(f"{i:>3}. {track_line(song.track)}  ({mark})")
        if len(lst.songs) > limit:
            lines.append(f"     … and {len(lst.songs) - limit} more")
        return "\n".join(lines)


def _on_off(text: str) -> bool:
    from wavelength.sorter import SorterError

    word = text.strip().casefold()
    if word in ON | OFF:
        return word in ON
    raise SorterError("Say on or off.")


def _state_text(state: SortState) -> str:
    counts = " · ".join(f"{n}: {state.labelled.get(n, 0)} labelled" for n in state.lists)
    rules = ("one list per song" if state.mutual else "songs may overlap") + (
        ", every song placed" if state.complete else ", misfits left out"
    )
    text = f"Sorting {state.pile} liked songs into {len(state.lists)} lists ({rules}). {counts}"
    if state.unsortable:
        text += f". {state.unsortable} songs can't be sorted yet (not in the catalog's model)"
    if state.ready:
        text += ". Ready: /sort show for the split."
    else:
        text += ". Label at least one song per list."
    return text
