"""A mood request in plain language → ``Mood``: what to encode, whom it should sound like, and
hard limits (years, clean lyrics, no vocals).

"rainy sunday jazz for reading" stays text; "90s hip hop for the gym" adds years 1990..1999;
"like Radiohead but calmer" seeds Radiohead and tilts energy down. Names are looked up only
after explicit triggers or when the whole request is exactly a name (see ``mentions``), and a
name is never guessed: each one is resolved, or reported back as ``Unresolved``.

Pure: the catalog is reached only through the ``NameIndex`` port.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from recommender.mentions import (
    LIKE_NOT_NAME,
    LIKE_VERB,
    LIST_SEPARATORS,
    TRIGGERS,
    WEAK_TRIGGERS,
    Mention,
    Resolver,
    Token,
    name_before,
    names_in_span,
    span_after,
    split_suffixes,
    tokenize,
)
from recommender.names import EXACT, RESOLVED, NameIndex, NameMatch
from recommender.steer import pole_for_words
from recommender.words import (
    EXPLICIT_OFF,
    EXPLICIT_OK,
    INSTRUMENTAL,
    INTENSIFIERS,
    NO_VOCALS,
    combine_tilts,
    is_everyday,
    pole_for,
    wordset,
)
from recommender.years import find_years
from wavelength.domain import ArtistId, Mood, Tilt, TrackId

__all__ = ["NameIndex", "NameMatch", "ParsedMood", "Unresolved", "parse_mood"]

MAX_PARSE_CHARS = 2000  # the caller caps messages here too; parsing never reads further
MAX_WHOLE_NAME_WORDS = 6

_NEGATORS = wordset("not less fewer never non nothing zero")
_LEAD_INS = wordset("play put on some give me i want need just only")
# Words the encoder gains nothing from; "for" goes too ("for reading" → "reading").
_TEXT_FILLER = wordset(
    "something anything some music songs song tracks tunes stuff please pls plz for but"
)
_OPENERS = (
    ("give", "me"),
    ("play", "me"),
    ("put", "on"),
    ("i", "want"),
    ("i", "need"),
    ("i'd", "like"),
    ("id", "like"),
    ("i", "would", "like"),
    ("can", "you", "play"),
    ("could", "you", "play"),
    ("play",),
)
_TAIL_FILLER = wordset("songs song music radio station please pls mix stuff tracks only")
_FOR_ARTICLES = wordset("the a an my")


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A name we could not pin down; ``suggestions`` are close catalog names (may be empty)."""

    text: str
    suggestions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ParsedMood:
    mood: Mood
    matched: tuple[NameMatch, ...]  # every name resolved, in the order they were written
    unresolved: tuple[Unresolved, ...]


def parse_mood(text: str, names: NameIndex, *, this_year: int) -> ParsedMood:
    """Read ``text`` (a user's request, at most ``MAX_PARSE_CHARS`` of it) into a ``Mood``.

    ``text`` keeps the words the encoder can use (moods, genres, descriptors, decades) and
    loses trigger and filler words, resolved names and pure limits. Unresolved names after
    "like" stay in the text, since they may be a mood after all ("like a summer breeze").
    Never raises for odd input; at most ``mentions.MAX_LOOKUPS`` index calls per request.
    """
    return _Parse(text, names, this_year).run()


class _Parse:
    def __init__(self, original: str, names: NameIndex, this_year: int) -> None:
        self.original = original
        self.source = original[:MAX_PARSE_CHARS]
        self.tokens: list[Token] = split_suffixes(tokenize(self.source))
        self._starts = [t.start for t in self.tokens]
        self._ends = [t.end for t in self.tokens]
        self.resolver = Resolver(names)
        self.this_year = this_year
        self.taken: set[int] = set()  # tokens left out of the text
        self.protected: set[int] = set()  # unresolved names: kept whole in the text
        self.replaced: dict[int, str] = {}  # first token of a taken span → words put instead
        self.seed_artists: list[ArtistId] = []
        self.seed_tracks: list[TrackId] = []
        self.avoid: list[ArtistId] = []
        self.matched: list[NameMatch] = []
        self.unresolved: list[Unresolved] = []
        self.tilts: list[Tilt] = []
        self.explicit: bool | None = None
        self.limited = False  # the request said something about explicit lyrics
        self.instrumental = False
        self.named = False  # a trigger or a whole-request name was looked at

    def run(self) -> ParsedMood:
        self._limits()
        self._strong_triggers()
        self._weak_triggers()
        years = find_years(self._masked(), this_year=self.this_year)
        in_years = {i for span in years.found for i in self._tokens_in(*span)}
        for span in years.removed:
            self.taken.update(self._tokens_in(*span))
        if not self.named and not in_years:
            self._whole_request()
        self._descriptors(skip=in_years)
        text = self._text()
        nothing_else = not (
            self.matched or self.unresolved or self.tilts or self.instrumental or years.found
        )
        if not text and nothing_else and not self.limited:
            text = " ".join(self.source.split())  # all filler ("some music"): encode it as is
        seeds = [a for a in dict.fromkeys(self.seed_artists) if a not in self.avoid]
        mood = Mood(
            original=self.original,
            text=text,
            seed_artists=tuple(seeds),
            seed_tracks=tuple(dict.fromkeys(self.seed_tracks)),
            avoid_artists=tuple(dict.fromkeys(self.avoid)),
            year_min=years.year_min,
            year_max=years.year_max,
            explicit=self.explicit,
            instrumental=self.instrumental,
            tilts=combine_tilts(self.tilts),
        )
        return ParsedMood(mood, tuple(self.matched), tuple(self.unresolved))

    # --- steps -----------------------------------------------------------------------------

    def _limits(self) -> None:
        if self._take_all(EXPLICIT_OK):
            self.limited = True  # said, and the default: nothing to filter
        elif self._take_all(EXPLICIT_OFF):
            self.explicit = False
            self.limited = True
        if self._take_all(NO_VOCALS, replace="instrumental"):
            self._instrumental()

    def _strong_triggers(self) -> None:
        for match in TRIGGERS.finditer(self._masked()):
            trigger = self._tokens_in(*match.span())
            if not trigger or self.taken.intersection(trigger) or self.resolver.exhausted:
                continue
            negative = match["neg"] is not None
            after = trigger[-1] + 1
            if not negative and not self._is_comparison(trigger[0], after):
                continue
            span = span_after(self.tokens, after, self.taken | self.protected)
            if not span:
                continue
            if negative and self._is_sound(span[0]):
                self._negated_sound(trigger, span)
                continue
            self.named = True
            self.taken.update(trigger)
            mentions = names_in_span(
                self.tokens, span, self.source, self.resolver, artists_only=negative
            )
            self._record(mentions, negative=negative)

    def _weak_triggers(self) -> None:
        for i, tok in enumerate(self.tokens):
            if i in self.taken or self.resolver.exhausted:
                continue
            beat = (
                tok.low == "type" and i + 1 < len(self.tokens) and self.tokens[i + 1].low == "beat"
            )
            if tok.low not in WEAK_TRIGGERS and not beat:
                continue
            mention = name_before(self.tokens, i, self.source, self.resolver, self.taken)
            if mention is None:
                continue
            self.named = True
            if mention.match is not None:
                self.taken.update([i, i + 1] if beat else [i])
            self._record([mention], negative=False)

    def _whole_request(self) -> None:
        """ "Radiohead", "play some Radiohead", "Radiohead - Karma Police": exactly a name."""
        words = [i for i, t in enumerate(self.tokens) if i not in self.taken and t.is_word]
        while words and self.tokens[words[0]].low in _LEAD_INS:
            words = words[1:]
        while words and self.tokens[words[-1]].low in _TAIL_FILLER:
            words = words[:-1]
        if not words or len(words) > MAX_WHOLE_NAME_WORDS:
            return
        if all(is_everyday(self.tokens[i].low) for i in words):
            return
        query = self.source[self.tokens[words[0]].start : self.tokens[words[-1]].end]
        best, near = self.resolver.resolve(query)
        if best is None:
            return  # a mood, not a misspelt name: too common to ask about
        if best.score >= EXACT:
            self.taken.update(i for i, t in enumerate(self.tokens) if t.is_word)
            self._record([Mention(words[0], words[-1], query, best)], negative=False)
        elif best.score >= RESOLVED:
            names = tuple(dict.fromkeys([best.name, *(m.name for m in near)]))
            self.unresolved.append(Unresolved(query, names[:3]))

    def _descriptors(self, *, skip: set[int]) -> None:
        """Feature words in what is left: "calmer" tilts energy down, "not too sad" valence up."""
        words = [
            (i, part)
            for i, t in enumerate(self.tokens)
            if t.is_word and i not in self.taken and i not in self.protected and i not in skip
            for part in t.low.replace("’", "'").split("-")
        ]
        k = 0
        while k < len(words):
            i, word = words[k]
            pair = [word, words[k + 1][1]] if k + 1 < len(words) else []
            pole = pole_for_words(pair) if pair and words[k + 1][0] - i <= 1 else None
            width = 2 if pole else 1
            pole = pole or pole_for(word)
            if pole is None:
                k += 1
                continue
            negated = self._negator_before(i)
            if pole is INSTRUMENTAL and negated is None:
                self._instrumental()
            elif negated is not None:
                self.tilts.extend(pole.inverted())
                self.taken.update(range(negated, words[k + width - 1][0] + 1))
            else:
                self.tilts.extend(pole.tilts)
            k += width

    # --- helpers ---------------------------------------------------------------------------

    def _record(self, mentions: list[Mention], *, negative: bool) -> None:
        for n, m in enumerate(mentions):
            tokens = range(m.first, m.last + 1)
            if m.match is None:
                self.unresolved.append(Unresolved(m.text, m.suggestions))
                (self.taken if negative else self.protected).update(tokens)
                continue
            self.matched.append(m.match)
            self.taken.update(tokens)
            if n + 1 < len(mentions):  # the "and" between two names goes with them
                between = range(m.last + 1, mentions[n + 1].first)
                self.taken.update(i for i in between if self.tokens[i].low in LIST_SEPARATORS)
            if negative:
                self.avoid.append(ArtistId(m.match.id))
            elif m.match.kind == "artist":
                self.seed_artists.append(ArtistId(m.match.id))
            else:
                self.seed_tracks.append(TrackId(m.match.id))

    def _is_comparison(self, like: int, after: int) -> bool:
        """False for "I'd like", "feels like", "like to": "like" the verb."""
        if self.tokens[like].low != "like":
            return True
        before = self._word_before(like)
        nxt = self.tokens[after].low if after < len(self.tokens) else ""
        return before not in LIKE_VERB and nxt not in LIKE_NOT_NAME

    def _is_sound(self, i: int) -> bool:
        low = self.tokens[i].low
        return is_everyday(low) or low in INTENSIFIERS or low[:1].isdigit()

    def _negated_sound(self, trigger: list[int], span: list[int]) -> None:
        """ "no sad songs", "without drums", "but not too loud": a sound to avoid. Words with a
        feature tilt the other way; all of them leave the text (an encoder can't negate)."""
        run = [trigger[-1]]
        for i in span:
            low = self.tokens[i].low
            if not (self._is_sound(i) or low in LIST_SEPARATORS):
                break
            run.append(i)
            pole = pole_for(low) or pole_for_words(low.split("-"))
            if pole is not None and pole is not INSTRUMENTAL:
                self.tilts.extend(pole.inverted())
        self.taken.update(trigger)
        self.taken.update(run)

    def _negator_before(self, i: int) -> int | None:
        """Index of a "not"/"less" up to two words before token ``i`` (skipping "too", "so")."""
        k = i - 1
        for _ in range(3):
            if k < 0 or not self.tokens[k].is_word:
                return None
            low = self.tokens[k].low
            if low in _NEGATORS:
                return k
            if low not in INTENSIFIERS or low == "more":
                return None
            k -= 1
        return None

    def _word_before(self, i: int) -> str:
        k = i - 1
        while k >= 0 and not self.tokens[k].is_word:
            k -= 1
        return self.tokens[k].low.replace("’", "'") if k >= 0 else ""

    def _instrumental(self) -> None:
        if not self.instrumental:
            self.instrumental = True
            self.tilts.extend(INSTRUMENTAL.tilts)

    def _take_all(self, pattern: re.Pattern[str], *, replace: str | None = None) -> bool:
        found = False
        for match in pattern.finditer(self._masked()):
            span = self._tokens_in(*match.span())
            if span:
                self.taken.update(span)
                if replace:
                    self.replaced[span[0]] = replace
                found = True
        return found

    def _tokens_in(self, start: int, end: int) -> list[int]:
        """Tokens overlapping the characters ``start..end`` (tokens are ordered, disjoint)."""
        return list(range(bisect_right(self._ends, start), bisect_left(self._starts, end)))

    def _masked(self) -> str:
        """The source with taken tokens blanked out, offsets unchanged."""
        chars = list(self.source)
        for i in self.taken:
            t = self.tokens[i]
            chars[t.start : t.end] = " " * (t.end - t.start)
        return "".join(chars)

    def _text(self) -> str:
        keep = self._drop_filler()
        parts: list[str] = []
        prev = -2
        for i, tok in enumerate(self.tokens):
            if i in self.replaced:
                parts.append(" " + self.replaced[i])
                prev = -2
            if i not in keep:
                continue
            gap = self.source[self.tokens[prev].end : tok.start] if prev == i - 1 else " "
            parts.append(gap + tok.text)
            prev = i
        return _tidy("".join(parts))

    def _drop_filler(self) -> set[int]:
        kept = [i for i in range(len(self.tokens)) if i not in self.taken]
        lows = [self.tokens[i].low.replace("’", "'") for i in kept]
        for opener in _OPENERS:  # "give me", "I'd like" at the start only: elsewhere they mean
            if tuple(lows[: len(opener)]) == opener:
                kept, lows = kept[len(opener) :], lows[len(opener) :]
                break
        keep: set[int] = set()
        after_for = False
        for i, low in zip(kept, lows, strict=True):
            if i not in self.protected and (
                low in _TEXT_FILLER or (after_for and low in _FOR_ARTICLES)
            ):
                after_for = low == "for"
                continue
            after_for = False
            keep.add(i)
        return keep


_SPACE_BEFORE = re.compile(r"\s+([,.;:!?])")
_REPEATS = re.compile(r"([,;:])(?:\s*[,;:])+")
_EDGES = " \t\n,;:.-–—&/+"


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    text = _REPEATS.sub(r"\1", _SPACE_BEFORE.sub(r"\1", text))
    return text.strip(_EDGES)
