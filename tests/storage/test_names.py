"""The NameIndex contract, run against SqlNameIndex (SQLite) and FakeNameIndex alike."""

from __future__ import annotations

import random

import pytest
from sqlalchemy.engine import Engine

from recommender.names import EXACT, MIN_SCORE, RESOLVED, SUGGEST, NameIndex, name_score
from storage import catalog
from storage.names import SqlNameIndex
from tests.support.factories import track
from tests.support.fakes import FakeNameIndex
from wavelength.domain import Track
from wavelength.ids import artist_id

CATALOG: list[Track] = [
    track(1, name="Karma Police", artist_name="Radiohead", popularity=70),
    track(2, name="Creep", artist_name="Radiohead", popularity=85),
    track(3, name="No Surprises", artist_name="Radiohead", popularity=60),
    track(4, name="Yesterday", artist_name="The Beatles", popularity=90),
    track(5, name="Let It Be", artist_name="The Beatles", popularity=80),
    track(6, name="Yesterday Once More", artist_name="Beatles", popularity=10),  # a homonym
    track(7, name="The Sound of Silence", artist_name="Simon & Garfunkel", popularity=75),
    track(8, name="Back in Black", artist_name="AC/DC", popularity=80),
    track(9, name="Sweet Child o' Mine", artist_name="Guns N' Roses", popularity=85),
    track(10, name="Halo", artist_name="Beyoncé", popularity=70),
    track(11, name="Feeling Good", artist_name="Nina Simone", popularity=80),
    track(12, name="Feeling Good", artist_name="Muse", popularity=60),
    track(13, name="Feeling Good", artist_name="Michael Bublé"),  # popularity unknown: last
    track(14, name="One More Time", artist_name="Daft Punk", popularity=80),
    track(15, name="D.A.N.C.E.", artist_name="Justice", popularity=60),
    track(16, name="Rain Song", artist_name="Rain"),
    track(17, name="Sunday Song", artist_name="Sunday"),
    track(18, name="Jazz Song", artist_name="Jazz"),
    track(19, name="Song 2 - Remastered", artist_name="Blur", popularity=50),
    track(20, name="Karma Police", artist_name="Radiohead Tribute Band", popularity=5),
]


@pytest.fixture(params=["sql", "fake"])
def names(request: pytest.FixtureRequest) -> NameIndex:
    if request.param == "fake":
        return FakeNameIndex.of(CATALOG)
    engine: Engine = request.getfixturevalue("sqlite_engine")
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=CATALOG)
    return SqlNameIndex.load(engine)


def _top(found: list[object]) -> object:
    assert found, "expected a match"
    return found[0]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Radiohead", "Radiohead"),
        ("radiohead", "Radiohead"),
        ("  RADIOHEAD ", "Radiohead"),
        ("BEYONCE", "Beyoncé"),
        ("the beatles", "The Beatles"),
        ("simon and garfunkel", "Simon & Garfunkel"),
        ("acdc", "AC/DC"),
        ("AC/DC", "AC/DC"),
        ("guns and roses", "Guns N' Roses"),
        ("Daft Punk", "Daft Punk"),
    ],
)
def test_exact_normalised_names_score_100(names: NameIndex, query: str, name: str) -> None:
    best = names.artists(query)[0]
    assert (best.kind, best.name, best.score) == ("artist", name, EXACT)
    assert best.id == artist_id(name)


def test_a_leading_the_ties_and_the_artist_with_more_tracks_wins(names: NameIndex) -> None:
    found = names.artists("beatles")
    assert [(m.name, m.score) for m in found[:2]] == [("The Beatles", EXACT), ("Beatles", EXACT)]


def test_typos_score_high_but_not_exact(names: NameIndex) -> None:
    best = names.artists("radiohed")[0]
    assert best.name == "Radiohead"
    assert RESOLVED <= best.score < EXACT
    near = names.artists("Radiohaed")[0]  # two letters swapped: a "did you mean"
    assert near.name == "Radiohead"
    assert SUGGEST <= near.score < RESOLVED


def test_names_inside_a_longer_request_are_not_matches(names: NameIndex) -> None:
    # "Rain", "Sunday" and "Jazz" are artists; a mood that contains them names none of them.
    assert all(m.score < SUGGEST for m in names.artists("rainy sunday jazz for reading"))
    assert all(m.score < SUGGEST for m in names.artists("radiohead on a rainy day"))


def test_results_are_best_first_limited_and_above_the_floor(names: NameIndex) -> None:
    found = names.artists("radio head", limit=2)
    assert len(found) <= 2
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
    assert all(m.score >= MIN_SCORE for m in found)
    assert names.artists("zzzzqqqxx") == []
    assert names.artists("") == names.tracks("   ") == []


def test_limit_below_one_is_an_error(names: NameIndex) -> None:
    with pytest.raises(ValueError, match="limit"):
        names.artists("x", limit=0)
    with pytest.raises(ValueError, match="limit"):
        names.tracks("x", limit=0)


@pytest.mark.parametrize(
    "query",
    [
        "Radiohead - Karma Police",
        "radiohead – karma police",
        "RADIOHEAD — KARMA POLICE",
        "Radiohed - Karma Police",
    ],
)
def test_artist_dash_title_finds_that_artists_track(names: NameIndex, query: str) -> None:
    best = names.tracks(query)[0]
    assert (best.kind, best.id, best.name) == ("track", track(1).id, "Radiohead - Karma Police")
    assert best.score >= RESOLVED
    assert len(names.tracks(query)) == 1  # the tribute band's cover is another artist


def test_artist_dash_title_scores_the_weaker_side(names: NameIndex) -> None:
    assert names.tracks("Radiohead - Karma Police")[0].score == EXACT
    assert names.tracks("Radiohed - Karma Police")[0].score == name_score("Radiohed", "Radiohead")
    typo = names.tracks("Radiohead - Karma Polize")[0]
    assert typo.name == "Radiohead - Karma Police"
    assert typo.score == name_score("Karma Polize", "Karma Police")


def test_a_bare_title_finds_every_artists_version_most_popular_first(names: NameIndex) -> None:
    found = names.tracks("feeling good")
    assert [m.name for m in found] == [
        "Nina Simone - Feeling Good",
        "Muse - Feeling Good",
        "Michael Bublé - Feeling Good",
    ]
    assert {m.score for m in found} == {EXACT}


def test_a_bare_title_ranks_exact_before_close(names: NameIndex) -> None:
    found = names.tracks("Yesterday")
    assert found[0].name == "The Beatles - Yesterday"
    assert found[0].score == EXACT
    assert all(m.score < EXACT for m in found[1:])
    typo = names.tracks("Karma Polize")
    assert typo[0].name == "Radiohead - Karma Police"  # more popular than the tribute
    assert RESOLVED <= typo[0].score < EXACT


def test_a_title_with_a_dash_is_still_found(names: NameIndex) -> None:
    best = names.tracks("Song 2 - Remastered")[0]
    assert (best.name, best.score) == ("Blur - Song 2 - Remastered", EXACT)


def test_unknown_titles_find_nothing(names: NameIndex) -> None:
    assert names.tracks("zzqx vvbn") == []
    assert names.tracks("Nobody - Karma Police") != []  # read as a title instead


CONGRUENCE_QUERIES = [
    "radiohead",
    "radio",
    "the",
    "beat",
    "beatles",
    "simon",
    "g n r",
    "karma",
    "feeling",
    "song",
    "Song 2",
    "Radiohead - Creep",
    "Beatles - Yesterday",
    "Radiohead - no surprise",
    "D.A.N.C.E.",
    "dance",
    "ß",
    "日本",
]


def test_sql_and_fake_agree_everywhere(sqlite_engine: Engine) -> None:
    """The same answers, in the same order, for queries chosen to hit ties and near misses."""
    with sqlite_engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=CATALOG)
        sql = SqlNameIndex.load(conn)  # loading inside a transaction works too
    fake = FakeNameIndex.of(CATALOG)
    for query in CONGRUENCE_QUERIES:
        for limit in (1, 3, 10):
            assert sql.artists(query, limit=limit) == fake.artists(query, limit=limit), query
            assert sql.tracks(query, limit=limit) == fake.tracks(query, limit=limit), query


def test_sql_index_counts_artists_without_tracks(sqlite_engine: Engine) -> None:
    from tests.support.factories import artist

    with sqlite_engine.begin() as conn:
        catalog.upsert_artists(conn=conn, artists=[artist("Silent Artist")])
    index = SqlNameIndex.load(sqlite_engine)
    assert index.artist_count == 1
    assert index.artists("silent artist")[0].score == EXACT
    assert index.tracks("silent artist") == []


def _random_catalog(seed: int) -> list[Track]:
    """Names built from a few syllables, so near-duplicates, ties and typos abound."""
    rng = random.Random(seed)
    syllables = ["ra", "dio", "head", "the", "bea", "tles", "and", "love", "sun", "day", "ß", "é"]

    def name(low: int, high: int) -> str:
        words = ["".join(rng.choices(syllables, k=rng.randint(1, 3))) for _ in range(high)]
        return " ".join(words[: rng.randint(low, high)]).title()

    artists = [name(1, 3) for _ in range(60)]
    return [
        track(
            n,
            name=name(1, 4),
            artist_name=rng.choice(artists),
            popularity=rng.choice([None, *range(0, 100, 7)]),
        )
        for n in range(1, 301)
    ]


def test_sql_and_fake_agree_on_a_random_catalog(sqlite_engine: Engine) -> None:
    tracks = _random_catalog(seed=5)
    with sqlite_engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=tracks)
    sql, fake = SqlNameIndex.load(sqlite_engine), FakeNameIndex.of(tracks)
    rng = random.Random(6)
    queries = [t.artist.name for t in rng.sample(tracks, 30)]
    queries += [t.name for t in rng.sample(tracks, 30)]
    queries += [f"{t.artist.name} - {t.name}" for t in rng.sample(tracks, 30)]
    queries += [q[:-1] + "x" for q in queries[:90:3]]  # typos
    queries += ["the", "ra", "love day", "Ra Dio - Head", "sun"]
    for query in queries:
        for limit in (1, 4):
            assert sql.artists(query, limit=limit) == fake.artists(query, limit=limit), query
            assert sql.tracks(query, limit=limit) == fake.tracks(query, limit=limit), query


@pytest.mark.parametrize(
    "query",
    ["\ud800", "👍" * 50, "x" * 3000, "\x00\x1f", "ẞ ǅ ﬁ ﷺ 𝔘𝔫𝔦", " - ", "-", "a - ", "ß - é"],
)
def test_odd_queries_never_raise(names: NameIndex, query: str) -> None:
    names.artists(query)
    names.tracks(query)
