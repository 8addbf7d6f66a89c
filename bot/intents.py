"""Chat text → one intent: a slash command, a reaction ("👍 2"), a request about stations or
feedback ("undo", "my stations", "why 3"), a refinement ("calmer") or, for anything else with
words in it, a new station's mood.

Pure and total: every string gives an intent, never an exception. Text that only looks
dangerous ("'; DROP TABLE stations; --") is just a mood; nothing here is executed or trusted.
"""

from __future__ import annotations

import re
import unicodedata

from bot.commands import MAX_POSITION, card_number, clean_name, named, parse_command
from bot.intent_types import (
    Copy,
    Delete,
    FromPlaylist,
    Help,
    History,
    Intent,
    Join,
    ListStations,
    MoreLikeThis,
    NewStation,
    Next,
    NoMore,
    React,
    Refine,
    Rename,
    SaveToSpotify,
    SetFamiliarity,
    Share,
    SpotifyPasted,
    Stats,
    Switch,
    Undo,
    Unknown,
    Why,
)
from recommender.steer import parse_steer, pole_for_words
from wavelength.domain import Familiarity, Reaction, Steer

__all__ = ["Intent", "parse_intent"]

_I = re.IGNORECASE


def _alts(text: str) -> list[str]:
    """Phrases written as "a|b|c", easier to scan than a list literal."""
    return text.split("|")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MAX_ARTIST_CHARS = 200  # "no more <name>": longer is not a name anyone has
_EMOJI_REACTIONS = {
    "👍": Reaction.LIKE,
    "❤": Reaction.LOVE,
    "♥": Reaction.LOVE,
    "💖": Reaction.LOVE,
    "👎": Reaction.DISLIKE,
    "⏭": Reaction.SKIP,
    "⏩": Reaction.SKIP,
}
_WORD_REACTIONS = {
    **dict.fromkeys(("like", "liked", "likes"), Reaction.LIKE),
    **dict.fromkeys(("love", "loved", "loving"), Reaction.LOVE),
    **dict.fromkeys(("dislike", "disliked", "hate", "hated"), Reaction.DISLIKE),
    **dict.fromkeys(("skip", "skipped"), Reaction.SKIP),
}
# Words that may sit around a reaction without changing it: "I love this one", "like #2 too".
_REACTION_FILLER = _words(
    "i it this that one ones both song songs track tracks number numbers nr num card and too "
    "also really so much please pls # , . ! & +"
)
# Variation selectors, joiners and skin tones change how an emoji looks, not what it says.
_EMOJI_NOISE = re.compile("[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
_REACTION_TOKEN = re.compile(r"\d+|[^\W\d_]+|\S")
_TRAILING = re.compile(r"[\s.!?…,;:]+$")

_PHRASES: dict[str, Intent] = {
    **dict.fromkeys(
        _alts(
            "help|help me|what can you do|what can i do|how does this work|how do i use this|"
            "commands|menu|start|hi|hello|hey|hiya|?|??|???"
        ),
        Help(),
    ),
    **dict.fromkeys(_alts("stats|statistics|catalog stats"), Stats()),
    **dict.fromkeys(
        _alts(
            "next|more|another batch|keep going|more please|next please|next batch|new batch|"
            "more songs|more music|more tracks|give me more|play more|go on|continue|another one|"
            "another|next one|next songs"
        ),
        Next(),
    ),
    **dict.fromkeys(
        _alts(
            "undo|undo that|forget that|scratch that|never mind|nevermind|nvm|oops|take that back|"
            "cancel that|undo last"
        ),
        Undo(),
    ),
    **dict.fromkeys(
        _alts(
            "what have i told you|what have i told you so far|what did i tell you|my feedback|"
            "history|my history|show my feedback|show history|my reactions"
        ),
        History(),
    ),
    **dict.fromkeys(
        _alts(
            "my stations|list stations|list my stations|stations|show stations|show my stations|"
            "what stations do i have|which stations do i have|all stations"
        ),
        ListStations(),
    ),
    **dict.fromkeys(
        _alts(
            "surprise me|more surprises|something new|something different|discover|more discovery|"
            "discovery mode|new stuff|show me something new"
        ),
        SetFamiliarity(Familiarity.SURPRISE),
    ),
    **dict.fromkeys(
        _alts(
            "play it safe|something familiar|familiar|more familiar|stuff i know|songs i know|"
            "only songs i know|safe|familiar stuff"
        ),
        SetFamiliarity(Familiarity.SAFE),
    ),
    **dict.fromkeys(
        _alts("balanced|balance|mix it up|a bit of both|back to normal"),
        SetFamiliarity(Familiarity.BALANCED),
    ),
}
# "thanks" and "ok" are replies, not moods: a station called "thanks" helps nobody.
_ACKS = frozenset(
    _alts(
        "ok|okay|k|kk|thanks|thank you|thanks a lot|thx|ty|cool|nice|great|awesome|perfect|lol|"
        "haha|yes|yep|no|nope|sure"
    )
)

_WHY = re.compile(r"why\b(?P<rest>.*)", _I)
_WHY_WORDS = frozenset(
    _words(
        "did you play pick picked choose chose add added recommend recommended suggest suggested "
        "this that these song track one number no nr card is was it here there the pick #"
    )
)
_MORE_LIKE = re.compile(
    r"(?:(?:play|give\s+me)\s+)?(?:some\s+)?(?:more\s+like|more\s+of|similar\s+to|something\s+like)"
    r"\s+(?:(?P<this>this|that|it|these)(?:\s+(?:one|song|track))?"
    r"|(?:(?:song|track|number|no\.?|card)\s*)?#?(?P<n>[0-9]{1,3}))(?:\s+(?:please|pls))?",
    _I,
)
_NO_MORE = re.compile(
    r"(?:no\s+more|stop\s+playing|never\s+play|don'?t\s+play|do\s+not\s+play|enough)"
    r"(?:\s+of)?(?:\s+(?P<name>.+))?",
    _I,
)
_NAME_TAIL = re.compile(r"(?:\s+(?:songs?|music|tracks?|stuff|please|pls|ever|again))+$", _I)
_PRONOUNS = frozenset(("this", "that", "it", "them", "this artist", "that artist", "this one"))
_STATION = r"(?:(?:the|my)\s+)?(?:station\s+)?(?P<name>.+?)(?:\s+station)?"
_SWITCH = (
    re.compile(
        rf"(?:switch(?:\s+back|\s+over)?|go\s+back|change\s+(?:the\s+)?station)\s+to\s+{_STATION}",
        _I,
    ),
    re.compile(rf"switch\s+{_STATION}", _I),
    re.compile(r"play\s+(?:the\s+|my\s+)?(?P<name>.+?)\s+station", _I),
    re.compile(r"play\s+station\s+(?P<name>.+)", _I),
)
_RENAME_CURRENT = re.compile(
    r"rename\s+(?:(?:this|the|my|current)\s+)?(?:station\s+)?(?:to|as)\s+(?P<new>.+)"
    r"|(?:call|name)\s+(?:this|it|this\s+station|the\s+station)\s+(?P<new2>.+)",
    _I,
)
_RENAME = re.compile(rf"rename\s+{_STATION}(?:\s+to\s+|\s+as\s+|\s*(?:->|→|=>)\s*)(?P<new>.+)", _I)
_DELETE = re.compile(rf"(?:delete|remove\s+station)\s+{_STATION}|delete", _I)
_THIS_STATION = frozenset(("this", "it", "this one", "that", "current", "the current one", "me"))
_SHARE_CURRENT = re.compile(
    r"share(?:\s+(?:this|it|the|my|current))?(?:\s+station)?(?:\s+with\s+.+)?", _I
)
_SHARE = re.compile(rf"share\s+{_STATION}(?:\s+with\s+.+)?", _I)
_JOIN = re.compile(r"(?P<verb>join|copy)\s+(?:station\s+)?(?:code\s+)?(?P<code>[A-Za-z0-9]{8})", _I)
_FROM_PLAYLIST = re.compile(
    r"(?:(?:start\s+)?(?:a\s+)?(?:station\s+)?from|use)\s+(?:my\s+|the\s+)?playlist\s+(?P<name>.+)",
    _I,
)


# An address with both code= (or error=) and state= is the page Spotify sent the browser to.
_SPOTIFY_REDIRECT = re.compile(
    r"https?://\S*[?&](?:code|error)=\S*state=|https?://\S*[?&]state=\S*(?:code|error)="
)


def parse_intent(text: str) -> Intent:
    """The one intent ``text`` (already cleaned, NFC) asks for. Never raises."""
    text = text.strip()
    if text.startswith("/"):
        return parse_command(text)
    if _SPOTIFY_REDIRECT.search(text):
        return SpotifyPasted(text)
    if text.casefold().rstrip(".!") in ("save to spotify", "save this to spotify", "save it"):
        return SaveToSpotify()
    reacted = _reaction(text)
    if reacted is not None:
        return reacted
    if not any(c.isalpha() for c in text):
        return _no_words(text)
    core = _TRAILING.sub("", text)
    low = " ".join(core.casefold().replace("’", "'").split())
    if low in _PHRASES:
        return _PHRASES[low]
    if low in _ACKS:
        return Unknown(
            text,
            "Glad to hear it. React to a song with its number (👍 2, ❤️ 1, 👎 3, ⏭ 4), say "
            '"next" for more, or describe a new mood.',
        )
    for rule in _RULES:
        intent = rule(text, core)
        if intent is not None:
            return intent
    steer = parse_steer(text)
    if steer is not None:
        return Refine(steer)
    if sum(c.isalpha() for c in text) < 2:
        return Unknown(
            text,
            "That's a bit short. Describe a mood in a few words, like \"rainy "
            'sunday jazz for reading", or type /help.',
        )
    return NewStation(text)


def _reaction(text: str) -> Intent | None:
    """ "👍 2", "2👍", "👎 1 3", "love 4", "skip", "I love this one" → React; else None."""
    s = _EMOJI_NOISE.sub("", text).casefold()
    s = re.sub(r"\bthumbs?\s+up\b", "👍", s)
    s = re.sub(r"\bthumbs?\s+down\b", "👎", s)
    s = re.sub(r"\b(?:don'?t|do\s+not)\s+like\b", "dislike", s.replace("’", "'"))
    if len(s) > 80:
        return None
    reactions: list[Reaction] = []
    numbers: list[int] = []
    for tok in _REACTION_TOKEN.findall(s):
        reaction = _EMOJI_REACTIONS.get(tok) or _WORD_REACTIONS.get(tok)
        if reaction is not None:
            reactions.append(reaction)
        elif tok.isdecimal():
            numbers.append(card_number(tok) or 0)  # 0: out of range, reported below
        elif tok not in _REACTION_FILLER:
            return None
    if not reactions:
        return None
    if len(set(reactions)) > 1:
        return Unknown(text, "One reaction at a time, please: like 👍 1 3, then 👎 2.")
    if 0 in numbers:
        return Unknown(text, f"Card numbers go from 1 to {MAX_POSITION}: like 👍 2.")
    return React(reactions[0], tuple(dict.fromkeys(numbers)))


def _no_words(text: str) -> Intent:
    chars = [c for c in text if not c.isspace()]
    if chars and all(c == "?" for c in chars):
        return Help()
    if any(c.isdigit() for c in chars) and all(c.isdigit() or c in "#,. " for c in chars):
        return Unknown(
            text, "Just a number? To react, add an emoji or a word: 👍 2, love 4, skip 3."
        )
    symbols = any(unicodedata.category(c) in ("So", "Sk", "Mn") for c in chars)
    if symbols:
        return Unknown(
            text,
            'I can\'t read a mood from emoji alone. Describe it in words ("rainy sunday jazz"), '
            "or react to a song with 👍 ❤️ 👎 ⏭ and its number.",
        )
    return Unknown(text, "I didn't catch any words there. Describe a mood, or type /help.")


def _why(text: str, core: str) -> Intent | None:
    m = _WHY.fullmatch(core)
    if m is None:
        return None
    rest = re.findall(r"\d+|[^\W\d_]+|#", m["rest"].casefold())
    numbers = [card_number(w) for w in rest if w.isdecimal()]
    if len(numbers) > 1 or any(not w.isdecimal() and w not in _WHY_WORDS for w in rest):
        return None  # "why does it always rain on me" is a mood
    if numbers and numbers[0] is None:
        return None
    return Why(numbers[0] if numbers else None)


def _more_like(text: str, core: str) -> Intent | None:
    m = _MORE_LIKE.fullmatch(core)
    if m is None:
        return None
    if m["n"] is None:
        return MoreLikeThis()
    n = card_number(m["n"])
    return MoreLikeThis(n) if n is not None else None


def _no_more(text: str, core: str) -> Intent | None:
    m = _NO_MORE.fullmatch(core)
    if m is None:
        return None
    name = clean_name(_NAME_TAIL.sub("", m["name"] or ""))
    if not name or name.casefold() in _PRONOUNS:
        return Unknown(text, 'Tell me whom to leave out by name: "no more Coldplay".')
    pole = pole_for_words(name.casefold().split())
    if pole is not None:  # "no more sad songs" is about a sound, not an artist
        return Refine(Steer(pole.phrase, -1, pole.inverted()))
    return NoMore(name[:MAX_ARTIST_CHARS])


def _stations(text: str, core: str) -> Intent | None:
    """Switch, rename, delete, share, join and copy in words."""
    for pattern in _SWITCH:
        if m := pattern.fullmatch(core):
            return named(text, m["name"], Switch, "Which station? Say its name.")
    if m := _RENAME_CURRENT.fullmatch(core):
        return named(text, m["new"] or m["new2"], Rename, "What should I call it?")
    if m := _RENAME.fullmatch(core):
        old = clean_name(m["name"])
        return named(text, m["new"], lambda n: Rename(n, old or None), "What should I call it?")
    if m := _DELETE.fullmatch(core):
        name = clean_name(m["name"] or "")
        if not name or name.casefold() in _THIS_STATION:
            return Unknown(
                text,
                'Tell me which station to delete by name: "delete rainy jazz". '
                '"my stations" lists them.',
            )
        return named(text, name, Delete, "")
    if _SHARE_CURRENT.fullmatch(core):
        return Share()
    if m := _SHARE.fullmatch(core):
        return named(text, m["name"], Share, "")
    if m := _JOIN.fullmatch(core):
        return Join(m["code"]) if m["verb"].casefold() == "join" else Copy(m["code"])
    if m := _FROM_PLAYLIST.fullmatch(core):
        return named(text, m["name"], FromPlaylist, "Which playlist?")
    return None


_RULES = (_why, _more_like, _no_more, _stations)
