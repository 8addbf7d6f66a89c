"""parse_mood on a tiny catalog with known answers (names that are also everyday words)."""

from __future__ import annotations

import random

import pytest

from recommender.mentions import MAX_LOOKUPS
from recommender.mood import ParsedMood, Unresolved, parse_mood
from recommender.names import NameMatch
from recommender.years import find_years
from tests.support.factories import track
from tests.support.fakes import FakeNameIndex
from wavelength.domain import Tilt
from wavelength.ids import artist_id

THIS_YEAR = 2026
CATALOG = [
    track(1, name="Karma Police", artist_name="Radiohead", popularity=70),
    track(2, name="Creep", artist_name="Radiohead", popularity=85),
    track(3, name="One More Time", artist_name="Daft Punk"),
    track(4, name="D.A.N.C.E.", artist_name="Justice"),
    track(5, name="Rain Song", artist_name="Rain"),
    track(6, name="Sunday Song", artist_name="Sunday"),
    track(7, name="Jazz Song", artist_name="Jazz"),
    track(8, name="Yesterday", artist_name="The Beatles"),
    track(9, name="1979", artist_name="The Smashing Pumpkins"),
    track(10, name="Holocene", artist_name="Bon Iver"),
    track(11, name="The Sound of Silence", artist_name="Simon & Garfunkel"),
    track(12, name="Back in Black", artist_name="AC/DC"),
    track(13, name="Stand by Me", artist_name="Ben E. King"),
    track(14, name="Everything In Its Right Place", artist_name="Radiohead"),
]
RADIOHEAD = artist_id("Radiohead")


@pytest.fixture(scope="module")
def names() -> FakeNameIndex:
    return FakeNameIndex.of(CATALOG)


def parse(text: str, names: FakeNameIndex) -> ParsedMood:
    return parse_mood(text, names, this_year=THIS_YEAR)


@pytest.mark.parametrize(
    ("request_text", "text"),
    [
        ("rainy sunday jazz for reading", "rainy sunday jazz reading"),
        ("90s hip hop for the gym", "90s hip hop gym"),
        ("like Radiohead but calmer", "calmer"),
        ("something to fall asleep to, no vocals", "to fall asleep to, instrumental"),
        ("like Daft Punk but not Justice", ""),
        ("Radiohead", ""),
        ("like Radiohead on a rainy day", "on a rainy day"),
        ("clean hip hop", "hip hop"),
        ("I'd like some jazz", "jazz"),
        ("feels like rain", "feels like rain"),
        ("something like rainy days", "rainy days"),
        ("jazz without drums", "jazz"),
        ("upbeat but not too loud", "upbeat"),
        ("🌧️ sunday jazz ☕", "🌧️ sunday jazz ☕"),
        ("música tranquila para estudiar", "música tranquila para estudiar"),
        ("some music", "some music"),  # all filler: encoded as typed rather than empty
        ("Bon Iver-style folk", "folk"),
        ("the 80s", "the 80s"),
        ("hip hop since 2015", "hip hop"),
    ],
)
def test_text_keeps_what_the_encoder_can_use(
    names: FakeNameIndex, request_text: str, text: str
) -> None:
    parsed = parse(request_text, names)
    assert parsed.mood.text == text
    assert parsed.mood.original == request_text


@pytest.mark.parametrize(
    ("request_text", "year_min", "year_max"),
    [
        ("90s hip hop for the gym", 1990, 1999),
        ("the 80s", 1980, 1989),
        ("1980s synth pop", 1980, 1989),
        ("'70s funk", 1970, 1979),
        ("90's r&b", 1990, 1999),
        ("nineties grunge", 1990, 1999),
        ("late 70s punk", 1976, 1979),
        ("early 2000s pop", 2000, 2003),
        ("from 1975", 1975, 1975),
        ("from 1975 onwards", 1975, None),
        ("before 2000", None, 1999),
        ("after 2010", 2011, None),
        ("since 2015", 2015, None),
        ("pre-2000 rock", None, 1999),
        ("2010+ indie", 2010, None),
        ("1990-1995 rock", 1990, 1995),
        ("between 1990 and 1995", 1990, 1995),
        ("from the 70s to the 90s", 1970, 1999),
        ("70s and 80s rock", 1970, 1989),
        ("the last 5 years", 2021, None),
        ("this year", 2026, None),
        ("20s jazz", 2020, 2027),  # the 2020s have begun, so "20s" is theirs
        ("30s swing", 1930, 1939),
        ("1990s since 2015", 1990, 1999),  # contradictory: the named decade wins
        ("older", None, None),
        ("oldies", None, None),
        ("top 40 hits", None, None),
        ("2050 vibes", None, None),
        ("from 1800", None, None),
    ],
)
def test_years(names: FakeNameIndex, request_text: str, year_min: int, year_max: int) -> None:
    mood = parse(request_text, names).mood
    assert (mood.year_min, mood.year_max) == (year_min, year_max)


def test_decades_stay_in_the_text_and_bounds_leave_it() -> None:
    text = "90s rock since 2015 and before 2020"
    found = find_years(text, this_year=THIS_YEAR)
    assert [text[a:b] for a, b in found.removed] == ["since 2015", "before 2020"]
    assert [text[a:b] for a, b in found.found] == ["90s", "since 2015", "before 2020"]


def test_a_seed_artist_and_a_tilt(names: FakeNameIndex) -> None:
    parsed = parse("like Radiohead but calmer", names)
    assert parsed.mood.seed_artists == (RADIOHEAD,)
    assert parsed.mood.tilts == (Tilt("energy", -1.0),)
    assert parsed.matched == (NameMatch("artist", RADIOHEAD, "Radiohead", 100.0),)
    assert parsed.unresolved == ()


def test_avoided_artists(names: FakeNameIndex) -> None:
    mood = parse("like Daft Punk but not Justice", names).mood
    assert mood.seed_artists == (artist_id("Daft Punk"),)
    assert mood.avoid_artists == (artist_id("Justice"),)
    assert parse("chill house, no more Daft Punk", names).mood.avoid_artists == (
        artist_id("Daft Punk"),
    )
    assert parse("jazz without Radiohead", names).mood.avoid_artists == (RADIOHEAD,)
    both = parse("like Radiohead but not Radiohead", names).mood
    assert (both.seed_artists, both.avoid_artists) == ((), (RADIOHEAD,))


@pytest.mark.parametrize(
    "request_text",
    [
        "songs like Karma Police",
        "Radiohead - Karma Police",
        "something like Radiohead - Karma Police",
        "songs like Karma Police by Radiohead",
        "sounds like karma police",
    ],
)
def test_seed_tracks(names: FakeNameIndex, request_text: str) -> None:
    mood = parse(request_text, names).mood
    assert mood.seed_tracks == (track(1).id,)
    assert mood.seed_artists == ()


@pytest.mark.parametrize(
    ("request_text", "seeds"),
    [
        ("like Daft Punk and Justice", ("Daft Punk", "Justice")),
        ("similar to Simon and Garfunkel", ("Simon & Garfunkel",)),
        ("in the style of AC/DC", ("AC/DC",)),
        ("Daft Punk vibes", ("Daft Punk",)),
        ("like the beatles", ("The Beatles",)),
        ("play some radiohead", ("Radiohead",)),
        ("like Radiohed", ("Radiohead",)),  # a typo that still scores ≥ 90
        ("like rain", ("Rain",)),  # asked for by name, after a trigger
    ],
)
def test_seed_artists(names: FakeNameIndex, request_text: str, seeds: tuple[str, ...]) -> None:
    parsed = parse(request_text, names)
    assert parsed.mood.seed_artists == tuple(artist_id(s) for s in seeds)
    assert parsed.unresolved == ()


@pytest.mark.parametrize(
    "request_text",
    [
        "rainy sunday jazz for reading",  # Rain, Sunday and Jazz are artists: never scanned for
        "rain",
        "jazz",
        "summer vibes",
        "like sunday morning",
        "something like rainy days",
        "sunday",
        "feels like rain",
        "I'd like some jazz",
    ],
)
def test_everyday_words_are_never_taken_for_names(names: FakeNameIndex, request_text: str) -> None:
    parsed = parse(request_text, names)
    assert parsed.matched == ()
    assert parsed.unresolved == ()


def test_near_misses_are_asked_about_not_guessed(names: FakeNameIndex) -> None:
    parsed = parse("like Radiohaed on a rainy day", names)
    assert parsed.mood.seed_artists == ()
    assert parsed.unresolved == (Unresolved("Radiohaed", ("Radiohead",)),)
    assert parsed.mood.text == "Radiohaed on a rainy day"  # kept: it may be a mood after all


def test_unknown_names_are_reported_without_suggestions(names: FakeNameIndex) -> None:
    parsed = parse("like Zyxwv Qrst", names)
    assert parsed.unresolved == (Unresolved("Zyxwv Qrst", ()),)
    assert parsed.matched == ()


def test_an_unknown_name_to_avoid_is_reported_and_dropped(names: FakeNameIndex) -> None:
    parsed = parse("jazz but not Zyxwv", names)
    assert parsed.unresolved == (Unresolved("Zyxwv", ()),)
    assert parsed.mood.text == "jazz"


def test_a_whole_request_near_a_name_is_a_question(names: FakeNameIndex) -> None:
    parsed = parse("radiohed", names)
    assert parsed.matched == ()
    assert parsed.unresolved == (Unresolved("radiohed", ("Radiohead",)),)
    assert parsed.mood.text == "radiohed"


def test_track_titles_that_look_like_years_are_found_after_triggers(
    names: FakeNameIndex,
) -> None:
    mood = parse("songs like 1979", names).mood
    assert mood.seed_tracks == (track(9).id,)
    assert (mood.year_min, mood.year_max) == (None, None)


def test_a_title_containing_by(names: FakeNameIndex) -> None:
    assert parse("like Stand by Me", names).mood.seed_tracks == (track(13).id,)


@pytest.mark.parametrize(
    ("request_text", "explicit"),
    [
        ("clean hip hop", False),
        ("no explicit lyrics please", False),
        ("family friendly pop", False),
        ("kid-friendly songs", False),
        ("radio edits of rap", False),
        ("explicit ok", None),
        ("explicit lyrics are fine", None),
        ("clean guitar tones", None),  # a sound, not a lyrics filter
        ("rap", None),
    ],
)
def test_explicit(names: FakeNameIndex, request_text: str, explicit: bool | None) -> None:
    assert parse(request_text, names).mood.explicit is explicit


@pytest.mark.parametrize(
    ("request_text", "instrumental"),
    [
        ("something to fall asleep to, no vocals", True),
        ("study music without lyrics", True),
        ("instrumental hip hop", True),
        ("wordless ambient", True),
        ("not instrumental", False),
        ("female vocals", False),
    ],
)
def test_instrumental(names: FakeNameIndex, request_text: str, instrumental: bool) -> None:
    assert parse(request_text, names).mood.instrumental is instrumental


@pytest.mark.parametrize(
    ("request_text", "tilts"),
    [
        ("upbeat", {"energy": 1.0, "valence": 1.0}),
        ("fast", {"tempo": 1.0}),
        ("slow", {"tempo": -1.0}),
        ("acoustic", {"acousticness": 1.0}),
        ("danceable", {"danceability": 1.0}),
        ("sad", {"valence": -1.0}),
        ("happy", {"valence": 1.0}),
        ("energetic", {"energy": 1.0}),
        ("chill", {"energy": -1.0}),
        ("calmer", {"energy": -1.0}),
        ("laid-back old school hip hop", {"energy": -1.0, "year": -1.0}),
        ("no sad songs", {"valence": 1.0}),
        ("not too fast", {"tempo": -1.0}),
        ("happy but sad", {}),  # opposite words cancel
        ("female vocals", {"instrumentalness": -1.0}),
        ("rainy sunday jazz", {}),
    ],
)
def test_descriptor_tilts(names: FakeNameIndex, request_text: str, tilts: dict[str, float]) -> None:
    mood = parse(request_text, names).mood
    assert {t.feature: t.direction for t in mood.tilts} == tilts
    if tilts and not request_text.startswith(("no ", "not ")):
        assert mood.text  # descriptor words stay in the text for the encoder


@pytest.mark.parametrize(
    "request_text",
    [
        "",
        "   ",
        "!!!",
        "like",
        "no",
        "like like like",
        "but not",
        "like ,,,",
        "'; DROP TABLE stations; --",
        "<script>alert(1)</script>",
        "\u200b\u200d\ufeff",
        "👍" * 300,
        "🎵 " * 500,
        "like " * 400,
        "no " * 400,
        "1990 " * 300,
        "ẞ ǅ ﬁ ﷺ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 Ⅻ ١٢٣",
        "日本のシティポップ like 山下達郎",
        "a" * 5000,
    ],
)
def test_odd_input_never_raises(names: FakeNameIndex, request_text: str) -> None:
    parsed = parse(request_text, names)
    assert parsed.mood.original == request_text
    assert len(parsed.mood.text) <= 2000


class CountingIndex(FakeNameIndex):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def artists(self, query: str, *, limit: int = 5) -> list[NameMatch]:
        self.calls += 1
        return super().artists(query, limit=limit)

    def tracks(self, query: str, *, limit: int = 5) -> list[NameMatch]:
        self.calls += 1
        return super().tracks(query, limit=limit)


def test_name_lookups_are_capped() -> None:
    index = CountingIndex()
    parse("like Aaa Bbb Ccc, and Ddd or Eee with Fff " * 50, index)
    assert 0 < index.calls <= MAX_LOOKUPS


def test_random_unicode_never_raises(names: FakeNameIndex) -> None:
    rng = random.Random(7)
    alphabet = (
        "abc xyz ABC 0123456789 ,.;:!?-–—'\"/&+#()[]{}<>\\|@*%$^~`_=\n\t"
        "éüßçøåœ ñ ПриветМир 你好世界 こんにちは مرحبا שלום नमस्ते 🎵🎶👍❤️👎⏭️🔥💖🏽\u200d\ufe0f"
    )
    words = ["like", "but", "not", "no", "more", "without", "vibes", "-style", "90s", "1999"]
    words += ["from", "before", "since", "clean", "no vocals", "Radiohead", "Karma Police"]
    for _ in range(300):
        parts = [
            rng.choice(words) if rng.random() < 0.4 else "".join(rng.choices(alphabet, k=5))
            for _ in range(rng.randint(0, 12))
        ]
        parse(" ".join(parts), names)
