"""Release-year limits in a mood: "90s", "the 1980s", "late 70s", "from 1975", "before 2000",
"since 2015", "1990-1995", "the last 5 years".

Decades and single years name a sound as much as a limit, so they stay in the text the encoder
reads (track descriptions say "From 1990s (90s)"); open bounds ("since 2015") are pure limits
and are taken out. "older" and "oldies" are not years: they are a tilt (see ``words``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EARLIEST = 1900

_YEAR = r"(?:1[89]\d\d|20\d\d)"
_DECADE_WORDS = {
    "forties": 1940,
    "fifties": 1950,
    "sixties": 1960,
    "seventies": 1970,
    "eighties": 1980,
    "nineties": 1990,
    "noughties": 2000,
}
_PART = r"(?:(?P<part>early|mid|late)[\s-]+)?"
# One period: a year, a decade ("'90s", "1980s", "nineties"), optionally "early/mid/late".
_TERM = (
    rf"{_PART}(?:the\s+)?(?:"
    rf"(?P<year>{_YEAR})(?![\d'’]?s\b)"
    rf"|(?P<decade4>1[89]\d0|20\d0)['’]?s"
    rf"|['’]?(?P<decade2>\d0)['’]?s"
    rf"|(?P<word>{'|'.join(_DECADE_WORDS)}))"
)
_NUMBERS = {
    "a": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "few": 3,
    "couple": 2,
    "couple of": 2,
}


def _term(name: str) -> str:
    """_TERM with its group names suffixed, so one pattern can hold two terms."""
    return re.sub(r"\(\?P<(\w+)>", rf"(?P<\1{name}>", _TERM)


_RANGE = re.compile(
    rf"\b(?P<head>(?:between|from)\s+)?{_term('a')}\s*(?P<join>-|–|—|\bto\b|\buntil\b|\btill\b|\bthrough\b|\bthru\b|\band\b)\s*{_term('b')}\b",
    re.IGNORECASE,
)
_BOUND = re.compile(
    rf"\b(?P<op>since|after|before|until|till|up\s+to|pre|post|from)[\s-]+{_term('a')}"
    rf"(?P<tail>\s+(?:on|onwards?|and\s+(?:later|after|newer|up)|or\s+later))?\b",
    re.IGNORECASE,
)
_OPEN_TAIL = re.compile(
    rf"\b{_term('a')}\s*(?P<tail>\+|\s(?:onwards?|and\s+(?:later|newer|up)|or\s+later|and\s+(?:earlier|before|older)|or\s+earlier))",
    re.IGNORECASE,
)
_RELATIVE = re.compile(
    r"\b(?:(?:the|last|past)\s+)+(?P<n>\d{1,2}|a|one|two|three|four|five|six|seven|eight|nine|ten|few|couple(?:\s+of)?)\s+years\b"
    r"|\b(?:the\s+)?(?:last|past)\s+(?P<decade>decade)\b"
    r"|\b(?P<this>this)\s+year\b|\b(?P<last>last)\s+year\b",
    re.IGNORECASE,
)
_PLAIN = re.compile(rf"\b(?:(?:from|in|of)\s+)?{_term('a')}\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class YearLimits:
    year_min: int | None
    year_max: int | None
    removed: tuple[tuple[int, int], ...]  # spans of pure limits, to take out of the text
    found: tuple[tuple[int, int], ...]  # every span read as years (kept or removed)


def find_years(text: str, *, this_year: int) -> YearLimits:
    """Year limits in ``text``; spans refer to ``text``, whose length is unchanged."""
    masked = text
    spans: list[tuple[int, int]] = []
    removed: list[tuple[int, int]] = []
    periods: list[tuple[int, int]] = []  # decades and years: their union
    lows: list[int] = []  # open bounds: their intersection
    highs: list[int] = []

    def take(match: re.Match[str], *, remove: bool) -> None:
        nonlocal masked
        start, end = match.span()
        spans.append((start, end))
        if remove:
            removed.append((start, end))
        masked = masked[:start] + " " * (end - start) + masked[end:]

    for match in _RANGE.finditer(masked):
        a, b = _period(match, "a", this_year), _period(match, "b", this_year)
        if a and b:
            periods.append((min(a[0], b[0]), max(a[1], b[1])))
            # "70s and 80s rock" lists two sounds; "1990-1995" and "between ..." are limits.
            listed = match["join"].casefold() == "and" and not match["head"]
            take(match, remove=not listed)
    for match in _BOUND.finditer(masked):
        a = _period(match, "a", this_year)
        if a is None:
            continue
        op = match["op"].casefold()
        if op == "from" and not match["tail"]:
            periods.append(a)  # "from 1975": released in 1975; "from 1975 on" is a bound
            take(match, remove=False)
            continue
        if op in ("since", "from"):
            lows.append(a[0])
        elif op in ("after", "post"):
            lows.append(a[1] + 1)
        elif op in ("before", "pre"):
            highs.append(a[0] - 1)
        else:
            highs.append(a[1])
        take(match, remove=True)
    for match in _OPEN_TAIL.finditer(masked):
        a = _period(match, "a", this_year)
        if a is None:
            continue
        tail = match["tail"].casefold()
        if any(w in tail for w in ("earlier", "before", "older")):
            highs.append(a[1])
        else:
            lows.append(a[0])
        take(match, remove=True)
    for match in _RELATIVE.finditer(masked):
        if match["this"]:
            lows.append(this_year)
        elif match["last"]:
            periods.append((this_year - 1, this_year - 1))
        else:
            n = 10 if match["decade"] else _count(match["n"])
            if not 1 <= n <= 50:
                continue
            lows.append(this_year - n)
        take(match, remove=True)
    for match in _PLAIN.finditer(masked):
        a = _period(match, "a", this_year)
        if a:
            periods.append(a)
            take(match, remove=False)
    year_min, year_max = _combine(periods, lows, highs)
    return YearLimits(year_min, year_max, tuple(sorted(removed)), tuple(sorted(spans)))


def _combine(
    periods: list[tuple[int, int]], lows: list[int], highs: list[int]
) -> tuple[int | None, int | None]:
    lo = min((p[0] for p in periods), default=None)
    hi = max((p[1] for p in periods), default=None)
    bound_lo = max(lows, default=None)
    bound_hi = min(highs, default=None)
    new_lo = bound_lo if lo is None or (bound_lo is not None and bound_lo > lo) else lo
    new_hi = bound_hi if hi is None or (bound_hi is not None and bound_hi < hi) else hi
    if new_lo is not None and new_hi is not None and new_lo > new_hi:
        return lo, hi  # "90s since 2015" contradicts itself: the named period wins
    return new_lo, new_hi


def _count(word: str) -> int:
    word = " ".join(word.casefold().split())
    return int(word) if word.isdigit() else _NUMBERS.get(word, 0)


def _period(match: re.Match[str], name: str, this_year: int) -> tuple[int, int] | None:
    """The first and last year a matched term covers, or None when it is not a real year."""
    groups = match.groupdict()
    if year := groups.get(f"year{name}"):
        first = last = int(year)
    elif decade := groups.get(f"decade4{name}"):
        first, last = int(decade), int(decade) + 9
    elif short := groups.get(f"decade2{name}"):
        # "20s" is the 2020s once they have begun, else the 1920s.
        first = 2000 + int(short) if 2000 + int(short) <= this_year else 1900 + int(short)
        last = first + 9
    elif word := groups.get(f"word{name}"):
        first = _DECADE_WORDS[word.casefold()]
        last = first + 9
    else:
        return None
    if first < EARLIEST or first > this_year + 1:
        return None
    part = (groups.get(f"part{name}") or "").casefold()
    if part and last > first:
        first, last = {"early": (first, first + 3), "mid": (first + 3, first + 6)}.get(
            part, (first + 6, first + 9)
        )
    return first, min(last, this_year + 1)
