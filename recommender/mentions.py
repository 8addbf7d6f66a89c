"""Names inside a mood request: which words after "like", "but not", "X vibes" are an artist
or a track, resolved through a ``NameIndex``.

Only explicit triggers start a search; the words after a trigger are tried longest first and
cut only where a name plausibly ends (before "and", "on", a year, a mood word), so "like
Radiohead on a rainy day" finds Radiohead and "like sunday morning" never becomes the band
Sunday. Every answer is resolved (score ≥ 90), a "did you mean" (70..90) or plainly unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from recommender.names import EXACT, RESOLVED, SUGGEST, NameIndex, NameMatch
from recommender.words import is_everyday, wordset

MAX_LOOKUPS = 24  # index calls per request: bounds the work a long message can cause
MAX_NAME_WORDS = 8
MAX_SUGGESTIONS = 3

TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*|\S")
# A name never ends on these; a list of names is split on the first six.
CONNECTIVES = wordset("and or & + / , with on in at to from for during the a an of by - – — ' ’")
LIST_SEPARATORS = wordset("and or & + / ,")
STOP_WORDS = wordset(
    "but except without while when because though although whereas unless no not like"
)
HARD_STOPS = frozenset('!?;:()[]{}"“”«»<>|')
# Strong triggers: a name follows. "pos" ones seed a station, "neg" ones keep a name out.
TRIGGERS = re.compile(
    r"\b(?:(?P<pos>sounds?\s+(?:a\s+bit\s+|kind\s+of\s+|kinda\s+)?like|similar\s+to|in\s+the\s+(?:style|vein|spirit)\s+of|inspired\s+by|reminiscent\s+of|a\s+la|like)"
    r"|(?P<neg>but\s+not|and\s+not|not\s+even|no\s+more|except(?:\s+for)?|apart\s+from|without|no))\b",
    re.IGNORECASE,
)
# "I'd like", "feels like": the verb, not a comparison.
LIKE_VERB = wordset(
    """i i'd id we we'd you you'd they he she would should could might may feel feels feeling
    felt look looks looking seem seems do don't dont does doesn't doesnt did didn't really also
    still who people u"""
)
LIKE_NOT_NAME = wordset(
    "to it this that these those them when how what i you we he she they my your our"
)


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str
    low: str

    @property
    def is_word(self) -> bool:
        return self.text[0].isalnum()


def tokenize(text: str) -> list[Token]:
    return [
        Token(m.start(), m.end(), m.group(), m.group().casefold()) for m in TOKEN.finditer(text)
    ]


@dataclass(frozen=True, slots=True)
class Mention:
    """Tokens ``first..last`` (inclusive) of the request and what they turned out to be."""

    first: int
    last: int
    text: str
    match: NameMatch | None
    suggestions: tuple[str, ...] = ()


@dataclass(slots=True)
class Resolver:
    """Looks names up, counting calls so one request can't run the index hot."""

    names: NameIndex
    lookups: int = 0
    cache: dict[tuple[str, bool], tuple[NameMatch | None, tuple[NameMatch, ...]]] = field(
        default_factory=dict
    )

    @property
    def exhausted(self) -> bool:
        return self.lookups >= MAX_LOOKUPS

    def resolve(
        self, query: str, *, artists_only: bool = False
    ) -> tuple[NameMatch | None, tuple[NameMatch, ...]]:
        """The match taken as meant (or None) and the near misses worth suggesting.

        The artist index is asked first; a track wins only with a strictly higher score, so an
        exact title beats a misspelt artist but never an exact one."""
        key = (query.casefold(), artists_only)
        if key in self.cache:
            return self.cache[key]
        found = self._artists(query)
        best = found[0] if found and found[0].score >= RESOLVED else None
        if not artists_only and (best is None or best.score < EXACT):
            tracks = self._tracks(query)
            found = found + tracks
            if (
                tracks
                and tracks[0].score >= RESOLVED
                and (best is None or tracks[0].score > best.score)
            ):
                best = tracks[0]
        near = tuple(m for m in found if SUGGEST <= m.score < RESOLVED)
        self.cache[key] = (best, near)
        return best, near

    def _artists(self, query: str) -> list[NameMatch]:
        if self.exhausted:
            return []
        self.lookups += 1
        return self.names.artists(query, limit=MAX_SUGGESTIONS)

    def _tracks(self, query: str) -> list[NameMatch]:
        found: list[NameMatch] = []
        by = re.split(r"\s+by\s+", query, flags=re.IGNORECASE)
        if len(by) == 2 and all(by) and not self.exhausted:  # "Karma Police by Radiohead"
            self.lookups += 1
            found += self.names.tracks(f"{by[1]} - {by[0]}", limit=MAX_SUGGESTIONS)
        if not self.exhausted:
            self.lookups += 1
            found += self.names.tracks(query, limit=MAX_SUGGESTIONS)
        return sorted(found, key=lambda m: -m.score)


def span_after(tokens: list[Token], start: int, taken: set[int]) -> list[int]:
    """Indices of the tokens a name after a trigger may use, from ``start`` on."""
    span: list[int] = []
    for i in range(start, len(tokens)):
        if i in taken or len(span) >= MAX_NAME_WORDS or _stops(tokens, i, first=not span):
            break
        span.append(i)
    return span


def _stops(tokens: list[Token], i: int, *, first: bool) -> bool:
    tok = tokens[i]
    if tok.low in STOP_WORDS and not first:
        return True
    if tok.is_word:
        return False
    if tok.text == ".":  # "R.E.M." goes on; a full stop after a word ends the name
        follows_space = i + 1 >= len(tokens) or tokens[i + 1].start > tok.end
        return follows_space and (i == 0 or len(tokens[i - 1].text) > 1)
    return tok.text in HARD_STOPS or tok.low not in CONNECTIVES


def names_in_span(
    tokens: list[Token], span: list[int], text: str, resolver: Resolver, *, artists_only: bool
) -> list[Mention]:
    """Names in ``span``, a list of them joined by "and"/","; stops at the first one that does
    not resolve, which is returned unresolved (with suggestions when there are any)."""
    found: list[Mention] = []
    pos = 0
    while pos < len(span):
        while pos < len(span) and tokens[span[pos]].low in LIST_SEPARATORS:
            pos += 1
        if pos >= len(span):
            break
        mention = _longest_name(tokens, span[pos:], text, resolver, artists_only=artists_only)
        if mention is None:
            break
        found.append(mention)
        if mention.match is None:
            break
        pos = span.index(mention.last) + 1
        if pos < len(span) and tokens[span[pos]].low not in LIST_SEPARATORS:
            break
    return found


def _longest_name(
    tokens: list[Token], span: list[int], text: str, resolver: Resolver, *, artists_only: bool
) -> Mention | None:
    ends = [
        e
        for e in range(len(span), 0, -1)
        if tokens[span[e - 1]].low not in CONNECTIVES
        and (e == len(span) or _can_end_before(tokens[span[e]]))
    ]
    tried: list[tuple[float, Mention]] = []  # near misses, with their best score
    for e in ends:
        if resolver.exhausted:
            break
        first, last = span[0], span[e - 1]
        query = text[tokens[first].start : tokens[last].end]
        everyday = all(is_everyday(tokens[i].low) for i in span[:e] if tokens[i].is_word)
        if everyday and e < len(span):
            continue  # a shortened guess made of mood words is not a name ("sunday" morning)
        best, near = resolver.resolve(query, artists_only=artists_only)
        if best is not None and (best.score >= EXACT or not everyday):
            return Mention(first, last, query, best)
        if not everyday:  # mood words that name nobody exactly are just a mood ("rainy days")
            suggestions = tuple(dict.fromkeys(m.name for m in near))[:MAX_SUGGESTIONS]
            closest = max((m.score for m in near), default=0.0)
            tried.append((closest, Mention(first, last, query, None, suggestions)))
    if not tried:
        return None
    # Report the words that came closest to a name ("Radiohaed", not "Radiohaed on a rainy");
    # with no near miss at all, the shortest candidate is the likeliest name.
    closest = max(score for score, _ in tried)
    if closest > 0:
        return next(m for score, m in tried if score == closest)
    return tried[-1][1]


def _can_end_before(tok: Token) -> bool:
    """A name may stop right before ``tok``: a connective, a year or number, a mood word."""
    return (
        tok.low in CONNECTIVES
        or tok.low in STOP_WORDS
        or tok.low[:1].isdigit()
        or not tok.is_word
        or is_everyday(tok.low)
    )


WEAK_TRIGGERS = frozenset(("vibes", "vibe", "style", "-style", "-esque", "-inspired", "-like"))
_SUFFIX = re.compile(r"(?<=[^\W_])(-style|-esque|-inspired|-like)$", re.IGNORECASE)
MAX_WEAK_WORDS = 4


def split_suffixes(tokens: list[Token]) -> list[Token]:
    """ "Punk-style" → "Punk", "-style": the suffix is a trigger, the rest a name."""
    out: list[Token] = []
    for tok in tokens:
        m = _SUFFIX.search(tok.text)
        if m is None:
            out.append(tok)
            continue
        cut = tok.start + m.start()
        out.append(Token(tok.start, cut, tok.text[: m.start()], tok.low[: m.start()]))
        out.append(Token(cut, tok.end, m.group(), m.group().casefold()))
    return out


def name_before(
    tokens: list[Token], trigger: int, text: str, resolver: Resolver, taken: set[int]
) -> Mention | None:
    """The name right before a weak trigger ("Daft Punk vibes", "Bon Iver-style"). Weak
    triggers mostly follow moods ("summer vibes"), so only a name that resolves counts, or a
    near miss with suggestions; mood words alone are never tried."""
    run: list[int] = []
    k = trigger - 1
    while k >= 0 and k not in taken and len(run) < MAX_WEAK_WORDS * 2:
        tok = tokens[k]
        if tok.low in STOP_WORDS or (not tok.is_word and tok.low not in ("&", "'", "’", ".")):
            break
        run.insert(0, k)
        k -= 1
    candidates = [run[j:] for j in range(len(run)) if tokens[run[j]].is_word]
    candidates = [c for c in candidates if sum(tokens[i].is_word for i in c) <= MAX_WEAK_WORDS]
    near_miss: Mention | None = None
    for cand in candidates:
        words = [tokens[i].low for i in cand if tokens[i].is_word]
        if words[0] in CONNECTIVES or all(is_everyday(w) for w in words) or resolver.exhausted:
            continue
        query = text[tokens[cand[0]].start : tokens[cand[-1]].end]
        best, near = resolver.resolve(query)
        if best is not None:
            return Mention(cand[0], cand[-1], query, best)
        if near and near_miss is None and not any(is_everyday(w) for w in words):
            names = tuple(dict.fromkeys(m.name for m in near))[:MAX_SUGGESTIONS]
            near_miss = Mention(cand[0], cand[-1], query, None, names)
    return near_miss
