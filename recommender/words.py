"""The words a mood or a refinement is made of: descriptors that map to audio features, and the
everyday words that must never be taken for an artist ("rain", "sunday", "jazz" are all bands).

Pole phrases reuse the words ``recommender.describe`` writes into track descriptions ("calm,
mellow", "instrumental, no vocals"), so an encoded refinement lands where the tracks are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wavelength.domain import FEATURE_NAMES, Tilt


def wordset(text: str) -> frozenset[str]:
    """A set of words written as one string, which reads better than a long list literal."""
    return frozenset(text.split())


@dataclass(frozen=True, slots=True)
class Pole:
    """One end of a feature axis: the words to encode and the tilts it stands for."""

    phrase: str
    tilts: tuple[Tilt, ...]

    def inverted(self) -> tuple[Tilt, ...]:
        return tuple(Tilt(t.feature, -t.direction) for t in self.tilts)


UPBEAT = Pole("upbeat energetic", (Tilt("energy", 1.0), Tilt("valence", 1.0)))
ENERGETIC = Pole("energetic intense lively", (Tilt("energy", 1.0),))
HEAVY = Pole("heavy intense", (Tilt("energy", 1.0),))
CALM = Pole("calm mellow relaxed", (Tilt("energy", -1.0),))
HAPPY = Pole("happy cheerful uplifting", (Tilt("valence", 1.0),))
SAD = Pole("sad melancholic", (Tilt("valence", -1.0),))
DARK = Pole("dark melancholic moody", (Tilt("valence", -1.0),))
FAST = Pole("fast tempo", (Tilt("tempo", 1.0),))
SLOW = Pole("slow tempo", (Tilt("tempo", -1.0),))
ACOUSTIC = Pole("acoustic", (Tilt("acousticness", 1.0),))
ELECTRONIC = Pole("electronic produced", (Tilt("acousticness", -1.0),))
DANCEABLE = Pole("danceable groovy", (Tilt("danceability", 1.0),))
INSTRUMENTAL = Pole("instrumental no vocals", (Tilt("instrumentalness", 1.0),))
VOCAL = Pole("vocals singing", (Tilt("instrumentalness", -1.0),))
SPOKEN = Pole("rapping spoken word", (Tilt("speechiness", 1.0),))
LOUD = Pole("loud intense", (Tilt("energy", 1.0), Tilt("loudness", 1.0)))
QUIET = Pole("quiet soft", (Tilt("energy", -1.0), Tilt("loudness", -1.0)))
OLD = Pole("old school classic oldies", (Tilt("year", -1.0),))
NEW = Pole("new recent modern", (Tilt("year", 1.0),))
# Activities imply a sound: people ask for "music to fall asleep to" or "for the gym" far more
# often than for "low energy" or "high tempo". Half-strength where the link is looser.
SLEEP = Pole(
    "calm slow quiet soothing",
    (Tilt("energy", -1.0), Tilt("tempo", -0.5), Tilt("loudness", -0.5)),
)
WORKOUT = Pole("energetic intense fast", (Tilt("energy", 1.0), Tilt("tempo", 0.5)))
FOCUS = Pole(
    "calm instrumental",
    (Tilt("energy", -0.5), Tilt("instrumentalness", 0.5), Tilt("speechiness", -0.5)),
)
PARTY = Pole("danceable upbeat party", (Tilt("danceability", 1.0), Tilt("energy", 0.5)))

# Base forms; they describe a mood ("sad", "acoustic") and refine one ("more acoustic").
DESCRIPTORS: dict[str, Pole] = {
    **dict.fromkeys(("upbeat", "peppy", "bouncy"), UPBEAT),
    **dict.fromkeys(
        ("energetic", "intense", "hype", "hyped", "pumped", "lively", "punchy"), ENERGETIC
    ),
    **dict.fromkeys(("heavy",), HEAVY),
    **dict.fromkeys(
        (
            "calm",
            "chill",
            "chilled",
            "mellow",
            "relaxed",
            "relaxing",
            "laidback",
            "soothing",
            "peaceful",
            "gentle",
            "lowkey",
            "tranquil",
            "serene",
        ),
        CALM,
    ),
    **dict.fromkeys(("happy", "cheerful", "uplifting", "joyful", "positive", "bright"), HAPPY),
    **dict.fromkeys(
        ("sad", "melancholic", "melancholy", "gloomy", "depressing", "somber", "sombre", "moody"),
        SAD,
    ),
    **dict.fromkeys(("dark",), DARK),
    **dict.fromkeys(("fast", "quick", "uptempo"), FAST),
    **dict.fromkeys(("slow", "downtempo"), SLOW),
    **dict.fromkeys(("acoustic", "unplugged"), ACOUSTIC),
    **dict.fromkeys(("electronic", "electric", "synthy"), ELECTRONIC),
    **dict.fromkeys(("danceable", "dancey", "dancy", "groovy", "dance"), DANCEABLE),
    **dict.fromkeys(("instrumental", "instrumentals"), INSTRUMENTAL),
    **dict.fromkeys(("vocals", "vocal", "singing", "lyrics"), VOCAL),
    **dict.fromkeys(("rap", "rapping", "spoken"), SPOKEN),
    **dict.fromkeys(("loud",), LOUD),
    **dict.fromkeys(("quiet", "soft"), QUIET),
    **dict.fromkeys(("old", "oldies", "oldschool", "vintage", "retro"), OLD),
    **dict.fromkeys(("recent", "modern", "latest"), NEW),
    **dict.fromkeys(("sleep", "asleep", "sleeping", "bedtime", "nap", "lullaby"), SLEEP),
    **dict.fromkeys(("gym", "workout", "running", "lifting", "cardio", "training"), WORKOUT),
    **dict.fromkeys(("focus", "study", "studying", "reading", "coding", "concentration"), FOCUS),
    **dict.fromkeys(("party", "partying", "clubbing"), PARTY),
}

# Comparatives: alone they are a refinement ("calmer"), in a mood a descriptor.
COMPARATIVES: dict[str, Pole] = {
    **dict.fromkeys(("upbeater", "peppier", "bouncier"), UPBEAT),
    **dict.fromkeys(("livelier", "punchier", "wilder"), ENERGETIC),
    **dict.fromkeys(("heavier", "harder"), HEAVY),
    **dict.fromkeys(("calmer", "chiller", "mellower", "gentler", "softer"), CALM),
    **dict.fromkeys(("happier", "brighter", "cheerier", "sunnier"), HAPPY),
    **dict.fromkeys(("sadder", "gloomier", "moodier"), SAD),
    **dict.fromkeys(("darker",), DARK),
    **dict.fromkeys(("faster", "quicker"), FAST),
    **dict.fromkeys(("slower",), SLOW),
    **dict.fromkeys(("groovier",), DANCEABLE),
    **dict.fromkeys(("louder",), LOUD),
    **dict.fromkeys(("quieter",), QUIET),
    **dict.fromkeys(("older",), OLD),
    **dict.fromkeys(("newer", "fresher"), NEW),
}

# Two-word descriptors, matched before single words ("old school", "laid back").
PHRASES: dict[tuple[str, str], Pole] = {
    ("old", "school"): OLD,
    ("laid", "back"): CALM,
    ("low", "key"): CALM,
    ("low", "energy"): CALM,
    ("high", "energy"): ENERGETIC,
    ("feel", "good"): HAPPY,
    ("spoken", "word"): SPOKEN,
    ("up", "tempo"): FAST,
    ("down", "tempo"): SLOW,
    ("more", "recent"): NEW,
}

# Genres, instruments and sound words: "no drums", "without country" are about sound, not
# about an artist called "Country".
SOUND_WORDS = wordset("""
    rock pop jazz metal country rap hip hop hiphop edm techno house trance dubstep classical
    folk blues reggae punk indie soul funk disco rnb r&b gospel opera christmas xmas holiday
    kpop latin reggaeton trap drill grunge emo screamo ambient lofi lo-fi synthwave swing
    bossa nova salsa samba afrobeat afrobeats grime garage dnb drum bass jungle noise shoegaze
    drums drum guitar guitars piano bass sax saxophone violin violins strings synth synths horns
    brass trumpet cello organ autotune auto-tune beats beat vocals vocal singing lyrics words
    voice voices screaming yelling shouting talking ads covers cover remixes remix live explicit
    swearing cursing profanity songs ballads ballad
    """)

# Scenes, times, weather, places and activities: mood words, never taken for a name when the
# whole request is one of them or a weak trigger ("summer vibes") would otherwise match a band.
MOOD_WORDS = wordset("""
    morning mornings evening evenings night nights midnight afternoon day days weekend sunday
    monday tuesday wednesday thursday friday saturday sundays dawn sunrise sunset dusk late
    early rain rainy raining storm stormy snow snowy winter summer spring autumn fall sunny
    sun cloudy foggy fog grey gray cold warm hot cozy cosy beach sea ocean city road trip
    drive driving car train cafe coffee kitchen cooking dinner breakfast party club bar pub
    gym workout running run study studying focus work working reading sleep sleeping asleep
    nap relax relaxing meditation yoga love romance romantic heartbreak breakup home office
    chill vibe vibes mood feel feeling feelings good bad nice cool sexy dreamy dream dreams
    nostalgic nostalgia epic cinematic happy sad angry calm wild soft hard deep light dark
    background focus energy power fire ice water wind rainforest forest mountain mountains
    space stars star moon sky sea blue red green gold black white golden magic
    """)

FILLER = wordset("""
    something anything some music songs song tracks track tunes tune stuff please pls plz
    play playing station radio playlist give me i want need
    """)

# Function words: alone they name nobody ("for", "to the").
FUNCTION_WORDS = wordset("""
    a an the and or for to with of in on at by from into my your our his her their its you it
    this that these those any all
    """)

INTENSIFIERS = wordset("too so very really super extra overly that quite pretty way much more less")


def pole_for(word: str) -> Pole | None:
    """The pole a single lower-case word names (base form or comparative), if any."""
    return DESCRIPTORS.get(word) or COMPARATIVES.get(word)


def is_everyday(word: str) -> bool:
    """True for words that describe a sound or a scene rather than name someone."""
    return (
        word in SOUND_WORDS
        or word in MOOD_WORDS
        or word in FILLER
        or word in FUNCTION_WORDS
        or word in INTENSIFIERS
        or pole_for(word) is not None
    )


# Limits said in words. "explicit ok" only confirms the default; "clean" before a sound word
# ("clean guitar tones") is about the sound.
EXPLICIT_OK = re.compile(
    r"\bexplicit(?:\s+(?:lyrics|content|songs))?\s+(?:is\s+|are\s+)?(?:ok|okay|fine|allowed|welcome)\b"
    r"|\b(?:ok|okay|fine)\s+with\s+explicit\b",
    re.IGNORECASE,
)
EXPLICIT_OFF = re.compile(
    r"\b(?:no|not|non|without)[\s-]+(?:explicit|swearing|swear\s+words|cursing|curse\s+words|profanity|bad\s+words)(?:\s+(?:lyrics|content|songs|stuff))?\b"
    r"|\b(?:family|kid|kids|child|children|office|work|school)[\s-]+(?:friendly|safe)\b"
    r"|\bclean(?:\s+(?:only|versions?|lyrics|edits?|songs))?\b(?!\s+(?:guitars?|tones?|sounds?|production|vocals|mix|beats?|electric|riffs?))"
    r"|\bradio\s+edits?\b|\bsfw\b",
    re.IGNORECASE,
)
NO_VOCALS = re.compile(
    r"\b(?:no|without|zero|minus)\s+(?:vocals?|singing|singers?|lyrics|words|voices?)\b"
    r"|\bvocal[\s-]*free\b|\bwordless\b|\blyric(?:s)?[\s-]*less\b",
    re.IGNORECASE,
)


_FEATURE_ORDER = (*FEATURE_NAMES, "year")


def combine_tilts(tilts: list[Tilt]) -> tuple[Tilt, ...]:
    """One tilt per feature: the sum, clipped to ±1 (opposite words cancel out)."""
    total: dict[str, float] = {}
    for t in tilts:
        total[t.feature] = total.get(t.feature, 0.0) + t.direction
    return tuple(
        Tilt(f, max(-1.0, min(1.0, total[f])))
        for f in _FEATURE_ORDER
        if f in total and total[f] != 0
    )
