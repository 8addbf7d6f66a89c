"""parse_intent: one intent for every message, never an exception."""

from __future__ import annotations

import random

import pytest

from bot.intent_types import (
    Copy,
    Delete,
    FromPlaylist,
    Help,
    History,
    Join,
    ListStations,
    MoreLikeThis,
    NewStation,
    Next,
    NoMore,
    React,
    Refine,
    Rename,
    SetFamiliarity,
    Share,
    Stats,
    Switch,
    Tune,
    Undo,
    Unknown,
    Why,
)
from bot.intents import Intent, parse_intent
from recommender.steer import parse_steer
from wavelength.domain import Familiarity, Reaction

LIKE, LOVE, DISLIKE, SKIP = Reaction.LIKE, Reaction.LOVE, Reaction.DISLIKE, Reaction.SKIP


def steer(text: str) -> Refine:
    found = parse_steer(text)
    assert found is not None
    return Refine(found)


COMMANDS: list[tuple[str, Intent]] = [
    ("/help", Help()),
    ("/start", Help()),
    ("/HELP", Help()),
    ("/start@wavelength_bot", Help()),
    ("/stats", Stats()),
    ("/stats@wavelength_bot extra words", Stats()),
    ("/radio rainy sunday jazz", NewStation("rainy sunday jazz")),
    ("/radio@bot 90s hip hop", NewStation("90s hip hop")),
    ("/radio", Next()),
    ("/next", Next()),
    ("/stations", ListStations()),
    ("/switch Rainy Jazz", Switch("Rainy Jazz")),
    ('/switch "Rainy Jazz"', Switch("Rainy Jazz")),
    ("/rename Night Drive", Rename("Night Drive")),
    ("/rename Rainy Jazz -> Night Drive", Rename("Night Drive", "Rainy Jazz")),
    ("/rename Rainy Jazz → Night Drive", Rename("Night Drive", "Rainy Jazz")),
    ("/delete Rainy Jazz", Delete("Rainy Jazz")),
    ("/share", Share()),
    ("/share Rainy Jazz", Share("Rainy Jazz")),
    ("/join K3X9PQ2M", Join("K3X9PQ2M")),
    ("/copy k3x9pq2m", Copy("k3x9pq2m")),
    ("/why", Why()),
    ("/why 3", Why(3)),
    ("/why #3", Why(3)),
    ("/undo", Undo()),
    ("/history", History()),
    ("/tune", Tune()),
    (
        "/tune style=1.5 like=2 dislike=0.5 discovery=surprise",
        Tune(1.5, 2.0, 0.5, Familiarity.SURPRISE),
    ),
    ("/tune like=0", Tune(like=0.0)),
    ("/tune dislike: 3", Tune(dislike=3.0)),
    ("/tune discovery=safe", Tune(familiarity=Familiarity.SAFE)),
    ("/tune discovery=BALANCED, style=1", Tune(style=1.0, familiarity=Familiarity.BALANCED)),
    ("/from Road Trip", FromPlaylist("Road Trip")),
    ("/like 2", React(LIKE, (2,))),
    ("/love 1 3", React(LOVE, (1, 3))),
    ("/love 1, 3, 3", React(LOVE, (1, 3))),
    ("/dislike #4", React(DISLIKE, (4,))),
    ("/skip", React(SKIP, ())),
    ("/like ٣", React(LIKE, (3,))),
]

CHAT: list[tuple[str, Intent]] = [
    # Reactions, emoji or words, numbers before or after.
    ("👍 2", React(LIKE, (2,))),
    ("2👍", React(LIKE, (2,))),
    ("2 👍", React(LIKE, (2,))),
    ("👎 1 3", React(DISLIKE, (1, 3))),
    ("👎 1, 3 and 5", React(DISLIKE, (1, 3, 5))),
    ("love 4", React(LOVE, (4,))),
    ("Love 4!", React(LOVE, (4,))),
    ("skip", React(SKIP, ())),
    ("👍", React(LIKE, ())),
    ("👍👍👍", React(LIKE, ())),
    ("👍🏽 2", React(LIKE, (2,))),
    ("❤️ 1", React(LOVE, (1,))),
    ("❤ 1", React(LOVE, (1,))),
    ("♥️ 1", React(LOVE, (1,))),
    ("💖", React(LOVE, ())),
    ("⏭ 5", React(SKIP, (5,))),
    ("⏭️ 5", React(SKIP, (5,))),
    ("⏩", React(SKIP, ())),
    ("like 2", React(LIKE, (2,))),
    ("like #2 too", React(LIKE, (2,))),
    ("hate 3", React(DISLIKE, (3,))),
    ("I hate this song", React(DISLIKE, ())),
    ("don't like 4", React(DISLIKE, (4,))),
    ("I love this one", React(LOVE, ())),
    ("thumbs up 3", React(LIKE, (3,))),
    ("dislike", React(DISLIKE, ())),
    ("👍 ٣", React(LIKE, (3,))),  # any script's digits
    ("why ٣", Why(3)),
    # Batches, undo, history, why.
    ("next", Next()),
    ("Next!", Next()),
    ("more", Next()),
    ("more please", Next()),
    ("another batch", Next()),
    ("keep going", Next()),
    ("undo", Undo()),
    ("forget that", Undo()),
    ("scratch that", Undo()),
    ("never mind", Undo()),
    ("Never mind.", Undo()),
    ("what have I told you", History()),
    ("What have I told you?", History()),
    ("my feedback", History()),
    ("history", History()),
    ("why 3", Why(3)),
    ("why #3?", Why(3)),
    ("why this song?", Why()),
    ("why?", Why()),
    ("why did you pick 2", Why(2)),
    ("Why is 4 here?", Why(4)),
    # Discovery knob.
    ("surprise me", SetFamiliarity(Familiarity.SURPRISE)),
    ("Surprise me!", SetFamiliarity(Familiarity.SURPRISE)),
    ("play it safe", SetFamiliarity(Familiarity.SAFE)),
    ("something familiar", SetFamiliarity(Familiarity.SAFE)),
    ("more familiar", SetFamiliarity(Familiarity.SAFE)),
    ("balanced", SetFamiliarity(Familiarity.BALANCED)),
    # More like / no more.
    ("more like this", MoreLikeThis()),
    ("more like this one", MoreLikeThis()),
    ("more like 2", MoreLikeThis(2)),
    ("more like #2", MoreLikeThis(2)),
    ("more like song 2 please", MoreLikeThis(2)),
    ("more of that", MoreLikeThis()),
    ("no more Coldplay", NoMore("Coldplay")),
    ("no more coldplay songs please", NoMore("coldplay")),
    ("stop playing Coldplay", NoMore("Coldplay")),
    ("Stop playing Guns N' Roses!", NoMore("Guns N' Roses")),
    ("don't play Nickelback ever again", NoMore("Nickelback")),
    ("no more sad songs", steer("less sad")),  # a sound, not an artist
    # Refinements.
    ("more upbeat", steer("more upbeat")),
    ("calmer", steer("calmer")),
    ("a bit calmer please", steer("a bit calmer")),
    ("less vocals", steer("less vocals")),
    ("older", steer("older")),
    ("more jazz", steer("more jazz")),
    ("too loud", steer("too loud")),
    # Stations.
    ("my stations", ListStations()),
    ("list stations", ListStations()),
    ("My Stations?", ListStations()),
    ("switch to Rainy Jazz", Switch("Rainy Jazz")),
    ("switch back to the Rainy Jazz station", Switch("Rainy Jazz")),
    ("play the rainy jazz station", Switch("rainy jazz")),
    ("play my Night Drive station", Switch("Night Drive")),
    ("rename this station to Night Drive", Rename("Night Drive")),
    ("rename the station to 'Night Drive'", Rename("Night Drive")),
    ("rename to Night Drive", Rename("Night Drive")),
    ("rename Rainy Jazz to Night Drive", Rename("Night Drive", "Rainy Jazz")),
    ("call it Sunday Morning", Rename("Sunday Morning")),
    ("delete Rainy Jazz", Delete("Rainy Jazz")),
    ("delete station Rainy Jazz", Delete("Rainy Jazz")),
    ("delete the rainy jazz station", Delete("rainy jazz")),
    ("share", Share()),
    ("share this station", Share()),
    ("share this with my sister", Share()),
    ("share the rainy jazz station", Share("rainy jazz")),
    ("join K3X9PQ2M", Join("K3X9PQ2M")),
    ("join code K3X9PQ2M", Join("K3X9PQ2M")),
    ("copy K3X9PQ2M", Copy("K3X9PQ2M")),
    ("from playlist Road Trip", FromPlaylist("Road Trip")),
    ("start a station from my playlist Road Trip", FromPlaylist("Road Trip")),
    # Help.
    ("help", Help()),
    ("Help!", Help()),
    ("what can you do", Help()),
    ("What can you do?", Help()),
    ("?", Help()),
    ("hi", Help()),
    ("stats", Stats()),
    # Everything else with words: a new station, exactly as typed.
    ("rainy sunday jazz for reading", NewStation("rainy sunday jazz for reading")),
    ("90s hip hop for the gym", NewStation("90s hip hop for the gym")),
    ("like Radiohead but calmer", NewStation("like Radiohead but calmer")),
    ("more like Radiohead", NewStation("more like Radiohead")),
    (
        "something to fall asleep to, no vocals",
        NewStation("something to fall asleep to, no vocals"),
    ),
    ("I like jazz", NewStation("I like jazz")),
    ("why does it always rain on me", NewStation("why does it always rain on me")),
    ("join the party", NewStation("join the party")),
    ("help me sleep", NewStation("help me sleep")),
    ("next level hip hop", NewStation("next level hip hop")),
    ("日本のシティポップ", NewStation("日本のシティポップ")),
    ("música para estudiar 🎧", NewStation("música para estudiar 🎧")),
    ("'; DROP TABLE stations; --", NewStation("'; DROP TABLE stations; --")),
    ("<script>alert(1)</script>", NewStation("<script>alert(1)</script>")),
    ("Robert'); DELETE FROM users;--", NewStation("Robert'); DELETE FROM users;--")),
    ("{{7*7}} ${jndi:ldap://x}", NewStation("{{7*7}} ${jndi:ldap://x}")),
    ("../../etc/passwd", NewStation("../../etc/passwd")),
]


@pytest.mark.parametrize(("text", "intent"), COMMANDS + CHAT)
def test_parse_intent(text: str, intent: Intent) -> None:
    assert parse_intent(text) == intent


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        # Commands with missing or bad arguments say how to use them.
        ("/switch", "/switch STATION NAME"),
        ("/delete", "/delete STATION NAME"),
        ("/rename", "/rename NEW NAME"),
        ("/rename -> New", "/rename OLD NAME -> NEW NAME"),
        ("/from", "/from PLAYLIST NAME"),
        ("/join", "/join CODE"),
        ("/join not a code!", "/join CODE"),
        ("/why x", "/why 2"),
        ("/why 1 2", "/why 2"),
        ("/like x", "/like 2"),
        ("/like 0", "from 1 to 99"),
        ("/skip 100", "from 1 to 99"),
        ("/like " + "9" * 5000, "from 1 to 99"),  # int() refuses 5,000 digits: never asked
        ("/why ²", "/why 2"),  # a digit int() can't read
        ("/radio 👍", "Describe the mood in words"),
        ("/tune style=4", "from 0 to 3"),
        ("/tune like=-1", "from 0 to 3"),
        ("/tune style=abc", "from 0 to 3"),
        ("/tune style=nan", "from 0 to 3"),
        ("/tune style=inf", "from 0 to 3"),
        ("/tune discovery=wild", "safe, balanced or surprise"),
        ("/tune speed=2", "I don't know the setting 'speed'"),
        ("/tune garbage", "/tune style=1.5"),
        ("/tune style=1 garbage", "/tune style=1.5"),
        ("/nope", "I don't know the command /nope"),
        ("/", "A slash starts a command"),
        ("/rename " + "x" * 101, "up to 100 characters"),
        # Free text that can't be acted on gets a friendly reason.
        ("👍 1 👎 2", "One reaction at a time"),
        ("👍 0", "from 1 to 99"),
        ("👍 100", "from 1 to 99"),
        ("no more", "by name"),
        ("no more of this", "by name"),
        ("stop playing this", "by name"),
        ("delete", "by name"),
        ("delete this station", "by name"),
        ("🎵🎶", "emoji"),
        ("🔥", "emoji"),
        ("...", "didn't catch any words"),
        ("!!! ???", "didn't catch any words"),
        ("2", "Just a number"),
        ("1 3", "Just a number"),
        ("9" * 5000, "Just a number"),
        ("👍 ²", "emoji"),
        ("a", "a bit short"),
        ("thanks", "Glad"),
        ("ok", "Glad"),
    ],
)
def test_unknown_with_a_reason(text: str, hint: str) -> None:
    intent = parse_intent(text)
    assert isinstance(intent, Unknown), intent
    assert intent.text == text
    assert hint in intent.reason


def test_long_text_is_a_mood() -> None:
    text = "rainy " * 333
    assert parse_intent(text) == NewStation(text.strip())


INTENT_TYPES = (
    Help, Stats, Next, NewStation, ListStations, Switch, Rename, Delete, Share, Join, Copy,
    React, Undo, History, Refine, SetFamiliarity, MoreLikeThis, NoMore, Why, Tune,
    FromPlaylist, Unknown,
)  # fmt: skip


def test_random_unicode_never_raises() -> None:
    """A fuzz loop over random unicode, biased toward the characters the parser cares about."""
    rng = random.Random(2024)
    pieces = [
        "/", "@", "#", "👍", "👎", "❤️", "⏭", "💖", "🏽", "\u200d", "\ufe0f", " ", "  ", "\n",
        "like", "more", "no more", "why", "rename", "->", "to", "station", "share", "join",
        "=", "style", "tune", "1", "42", "999", "'", '"', "?", "!", ".", ",", "é", "ß", "İ",
        "你好", "مرحبا", "𝔘", "\U0010ffff", "\x00", "\ud7ff", "²", "٣", "9" * 5000,
    ]  # fmt: skip
    for _ in range(3000):
        if rng.random() < 0.5:
            text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        else:
            text = "".join(chr(rng.randint(1, 0x2FFFF)) for _ in range(rng.randint(0, 30)))
        intent = parse_intent(text)
        assert isinstance(intent, INTENT_TYPES)
        if isinstance(intent, NewStation):
            assert sum(c.isalpha() for c in intent.text) >= 2
