from __future__ import annotations

from recommender.station.genres import FAMILY_MIN_LABELS, GenreIndex

VOCABULARY = frozenset(
    {"hip hop", "east coast hip hop", "jazz", "cool jazz", "jazz funk", "punk", "french pop",
     "pop", "deep house", "house", "sleep"}
    | {f"indie {k}" for k in ("rock", "pop", "folk", "soul", "r&b", "dance", "electronica",
                              "garage", "surf")}  # a family without a label of its own
)  # fmt: skip


def test_longest_labels_win_and_do_not_overlap() -> None:
    index = GenreIndex(VOCABULARY)
    assert index.named_in("90s East Coast Hip-Hop for the gym") == ("east coast hip hop",)
    assert index.named_in("french pop and cool jazz") == ("french pop", "cool jazz")


def test_qualifiers_alone_are_not_genres() -> None:
    index = GenreIndex(VOCABULARY)
    assert index.named_in("deep sleep music") == ("sleep",)  # "deep" alone is a quality
    assert index.named_in("deep house") == ("deep house",)  # as part of a label it counts


def test_a_word_running_through_many_labels_names_a_family() -> None:
    assert sum("indie" in g for g in VOCABULARY) >= FAMILY_MIN_LABELS
    index = GenreIndex(VOCABULARY)
    assert index.named_in("upbeat indie for a road trip") == ("indie",)
    widened = index.widen(["indie"])
    assert "indie rock" in widened and "indie surf" in widened and "pop" not in widened


def test_widen_adds_sub_genres_by_whole_words() -> None:
    index = GenreIndex(VOCABULARY)
    assert set(index.widen(["jazz"])) == {"jazz", "cool jazz", "jazz funk"}
    assert set(index.widen(["pop"])) == {"pop", "french pop", "indie pop"}
    assert set(index.widen(["house"])) == {"house", "deep house"}
