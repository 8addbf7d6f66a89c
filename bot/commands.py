"""Slash commands ("/radio rainy jazz", "/like 2", "/tune style=1.5") → intents.

Telegram appends the bot's name ("/help@wavelength_bot"); it is ignored. Bad arguments give
``Unknown`` with a reason that shows the right syntax, never an exception.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from bot.intent_types import (
    Buddies,
    Connect,
    Copy,
    Delete,
    FromPlaylist,
    Help,
    History,
    Intent,
    Join,
    ListStations,
    Mixes,
    NewStation,
    Next,
    Nostalgia,
    Pause,
    Picks,
    React,
    Rename,
    Resume,
    SaveToSpotify,
    Settings,
    Share,
    Sort,
    SpotifyLink,
    SpotifyPasted,
    SpotifyStatus,
    SpotifyUnlink,
    Stats,
    Switch,
    TasteMap,
    Tune,
    Undo,
    Unknown,
    Why,
)
from wavelength.domain import Familiarity, Reaction

MAX_POSITION = 99  # card numbers are small; anything bigger is a typo
MAX_NAME_CHARS = 100  # station names (the stations table holds 100)
MAX_WEIGHT = 3.0
CODE = re.compile(r"[A-Za-z0-9_-]{4,16}")

TUNE_HELP = (
    "Usage: /tune style=1.5 like=2 dislike=0.5 discovery=surprise. Weights go from 0 to 3 "
    "(1 is the default); discovery is safe, balanced or surprise. /tune alone shows the "
    "current tuning."
)
_TUNE_PAIR = re.compile(r"([^\s=:,;]+)\s*[=:]\s*([^\s,;]+)")
_TUNE_KEYS = {
    "style": "style",
    "mood": "style",
    "like": "like",
    "likes": "like",
    "dislike": "dislike",
    "dislikes": "dislike",
    "discovery": "familiarity",
    "familiarity": "familiarity",
}
_FAMILIARITY = {
    "safe": Familiarity.SAFE,
    "familiar": Familiarity.SAFE,
    "balanced": Familiarity.BALANCED,
    "balance": Familiarity.BALANCED,
    "surprise": Familiarity.SURPRISE,
    "discover": Familiarity.SURPRISE,
}
_ARROW = re.compile(r"\s*(?:->|→|=>|⇒)\s*")
_QUOTES = "\"'“”‘’«»`"


def parse_command(text: str) -> Intent:
    """``text`` starts with "/"."""
    head, _, args = text[1:].partition(" ")
    name = head.split("@", 1)[0].casefold()
    args = args.strip()
    handler = _COMMANDS.get(name)
    if handler is None and not head:
        return Unknown(text, "A slash starts a command, like /help or /radio rainy jazz.")
    if handler is None:
        return Unknown(
            text, f"I don't know the command /{head[:40]}. Type /help to see what I can do."
        )
    return handler(text, args)


def positions(args: str) -> tuple[int, ...] | None:
    """Card numbers in "2", "1 3", "1, 3", "#2": None when anything else is there or a number
    is out of range."""
    found: list[int] = []
    for part in re.split(r"[\s,;&+]+|\band\b", args):
        part = part.strip().lstrip("#")
        if not part:
            continue
        number = card_number(part)
        if number is None:
            return None
        found.append(number)
    return tuple(dict.fromkeys(found))


def card_number(word: str) -> int | None:
    """``word`` as a card number (1..MAX_POSITION, any script's digits), else None."""
    # isdecimal, not isdigit: "²" is a digit int() can't read; the length check keeps int()
    # off 5,000-digit strings (which it refuses).
    if not word.isdecimal() or len(word) > 3:
        return None
    number = int(word)
    return number if 1 <= number <= MAX_POSITION else None


def clean_name(name: str) -> str:
    """A station or playlist name as typed, without surrounding quotes and end punctuation."""
    return name.strip().strip(_QUOTES).strip().rstrip(".!?").strip()


def named(text: str, name: str, make: Callable[[str], Intent], usage: str) -> Intent:
    name = clean_name(name)
    if not name:
        return Unknown(text, usage)
    if len(name) > MAX_NAME_CHARS:
        return Unknown(text, f"Station names are up to {MAX_NAME_CHARS} characters.")
    return make(name)


def _react(reaction: Reaction) -> Callable[[str, str], Intent]:
    def handler(text: str, args: str) -> Intent:
        found = positions(args)
        if found is None:
            return Unknown(
                text,
                f"Usage: /{reaction.value} 2 (the card's number), or /{reaction.value} 1 3 for "
                f"several. Numbers go from 1 to {MAX_POSITION}.",
            )
        return React(reaction, found)

    return handler


def _radio(text: str, args: str) -> Intent:
    if not args:
        return Next()
    if sum(c.isalpha() for c in args) < 2:
        return Unknown(text, "Describe the mood in words: /radio rainy sunday jazz for reading")
    return NewStation(args)


def _rename(text: str, args: str) -> Intent:
    usage = "Usage: /rename NEW NAME, or /rename OLD NAME -> NEW NAME."
    parts = _ARROW.split(args, maxsplit=1)
    if len(parts) == 2:
        old, new = clean_name(parts[0]), clean_name(parts[1])
        if not old or not new:
            return Unknown(text, usage)
        return named(text, new, lambda n: Rename(n, old), usage)
    return named(text, args, Rename, usage)


def _why(text: str, args: str) -> Intent:
    if not args:
        return Why()
    found = positions(args)
    if found is None or len(found) != 1:
        return Unknown(text, "Usage: /why 2 (the card's number), or /why for the last one.")
    return Why(found[0])


def _code(make: Callable[[str], Intent], verb: str) -> Callable[[str, str], Intent]:
    def handler(text: str, args: str) -> Intent:
        code = args.strip().strip(_QUOTES)
        if not CODE.fullmatch(code):
            return Unknown(
                text,
                f"Usage: /{verb} CODE, with the share code someone sent you (like /{verb} "
                "K3X9PQ2M).",
            )
        return make(code)

    return handler


def parse_tune(text: str, args: str) -> Intent:
    """``/tune style=1.5 like=2 dislike=0.5 discovery=surprise``; any part may be left out."""
    values: dict[str, float | Familiarity] = {}
    for key, value in _TUNE_PAIR.findall(args):
        field = _TUNE_KEYS.get(key.casefold())
        if field is None:
            return Unknown(text, f"I don't know the setting '{key[:20]}'. {TUNE_HELP}")
        if field == "familiarity":
            familiarity = _FAMILIARITY.get(value.casefold())
            if familiarity is None:
                return Unknown(text, f"discovery is safe, balanced or surprise. {TUNE_HELP}")
            values[field] = familiarity
            continue
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not (math.isfinite(weight) and 0 <= weight <= MAX_WEIGHT):
            return Unknown(text, f"{key} must be a number from 0 to 3. {TUNE_HELP}")
        values[field] = weight
    if _TUNE_PAIR.sub("", args).strip(" ,;"):
        return Unknown(text, TUNE_HELP)
    fam = values.get("familiarity")
    return Tune(
        style=_weight(values.get("style")),
        like=_weight(values.get("like")),
        dislike=_weight(values.get("dislike")),
        familiarity=fam if isinstance(fam, Familiarity) else None,
    )


def _weight(value: float | Familiarity | None) -> float | None:
    return value if isinstance(value, float) else None


SETTINGS_HELP = (
    "Usage: /settings tz=Europe/Berlin time=08:30 daily=on. tz is your time zone, time is when "
    "daily picks arrive (your local time), daily turns them on or off. /settings alone shows "
    "yours."
)
_SETTINGS_KEYS = {
    "tz": "time_zone",
    "timezone": "time_zone",
    "time_zone": "time_zone",
    "zone": "time_zone",
    "time": "at",
    "at": "at",
    "hour": "at",
    "daily": "daily",
    "dm": "daily",
    "dms": "daily",
}
_SETTING_PAIR = re.compile(r"([^\s=]+)\s*=\s*(\S+)")
ON = frozenset({"on", "yes", "true", "1", "y", "enable", "enabled"})
OFF = frozenset({"off", "no", "false", "0", "n", "disable", "disabled"})


def parse_settings(text: str, args: str) -> Intent:
    """``/settings tz=Europe/Berlin time=08:30 daily=on``; any part may be left out."""
    values: dict[str, str] = {}
    for key, value in _SETTING_PAIR.findall(args):
        field = _SETTINGS_KEYS.get(key.casefold())
        if field is None:
            return Unknown(text, f"I don't know the setting '{key[:20]}'. {SETTINGS_HELP}")
        values[field] = value.strip(_QUOTES)
    if _SETTING_PAIR.sub("", args).strip(" ,;"):
        return Unknown(text, SETTINGS_HELP)
    daily: bool | None = None
    if "daily" in values:
        flag = values["daily"].casefold()
        if flag not in ON | OFF:
            return Unknown(text, f"daily is on or off. {SETTINGS_HELP}")
        daily = flag in ON
    return Settings(time_zone=values.get("time_zone"), at=values.get("at"), daily=daily)


def _connect(text: str, args: str) -> Intent:
    code = args.strip().strip(_QUOTES).replace("-", "").replace(" ", "")
    if not code:
        return Connect()
    if not re.fullmatch(r"[A-Za-z0-9]{4,12}", code):
        return Unknown(
            text,
            "Usage: /connect on one account shows a code; /connect CODE on the other joins them.",
        )
    return Connect(code)


def _buddies(text: str, args: str) -> Intent:
    words = args.casefold().split()
    if not words:
        return Buddies()
    if words[0] == "share" and len(words) == 2 and words[1] in ON | OFF:
        return Buddies(share=words[1] in ON)
    return Unknown(
        text,
        "Usage: /buddies shows playlists from people with your taste; /buddies share on lets "
        "other listeners be matched to your taste (share off stops it).",
    )


def _fixed(intent: Intent) -> Callable[[str, str], Intent]:
    return lambda _text, _args: intent


_COMMANDS: dict[str, Callable[[str, str], Intent]] = {
    "help": _fixed(Help()),
    "start": _fixed(Help()),
    "stats": _fixed(Stats()),
    "radio": _radio,
    "next": _fixed(Next()),
    "stations": _fixed(ListStations()),
    "switch": lambda t, a: named(t, a, Switch, "Usage: /switch STATION NAME (see /stations)."),
    "rename": _rename,
    "delete": lambda t, a: named(t, a, Delete, "Usage: /delete STATION NAME (see /stations)."),
    "share": lambda t, a: (
        named(t, a, Share, "Usage: /share, or /share STATION NAME.") if a else Share()
    ),
    "join": _code(Join, "join"),
    "copy": _code(Copy, "copy"),
    "why": _why,
    "undo": _fixed(Undo()),
    "history": _fixed(History()),
    "tune": parse_tune,
    "from": lambda t, a: named(
        t, a, FromPlaylist, "Usage: /from PLAYLIST NAME, to start a station from a playlist."
    ),
    "connect": _connect,
    "settings": parse_settings,
    "pause": _fixed(Pause()),
    "resume": _fixed(Resume()),
    "sort": lambda _t, a: Sort(a),
    "picks": _fixed(Picks()),
    "mixes": _fixed(Mixes()),
    "nostalgia": _fixed(Nostalgia()),
    "buddies": _buddies,
    "taste": _fixed(TasteMap()),
    "link": lambda _t, a: SpotifyPasted(a) if a else SpotifyLink(),
    "unlink": _fixed(SpotifyUnlink()),
    "spotify": _fixed(SpotifyStatus()),
    "save": _fixed(SaveToSpotify()),
    **{r.value: _react(r) for r in Reaction},
}
