"""``ReadThrough``: the memo behind catalog facts, track vectors and encoded texts."""

from __future__ import annotations

from recommender.memo import ReadThrough


class Reader:
    """Finds every key but "gone", and records what it was asked for."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def __call__(self, keys: list[str]) -> dict[str, int]:
        self.asked.append(list(keys))
        return {k: len(k) for k in keys if k != "gone"}


def test_reads_only_what_it_lacks_once_and_answers_in_the_order_asked() -> None:
    memo: ReadThrough[str, int] = ReadThrough(10)
    read = Reader()
    assert memo.get_many(["bb", "a", "bb"], read) == {"bb": 2, "a": 1}
    assert list(memo.get_many(["ccc", "a", "gone", "bb"], read)) == ["ccc", "a", "bb"]
    assert read.asked == [["bb", "a"], ["ccc", "gone"]]
    memo.get_many(["gone"], read)
    assert read.asked[-1] == ["ccc", "gone"], "a miss is remembered, not read again"


def test_keys_not_found_can_answer_a_default() -> None:
    memo: ReadThrough[str, int] = ReadThrough(10)
    assert memo.get_many(["gone", "a"], Reader(), default=0) == {"gone": 0, "a": 1}


def test_never_holds_more_than_its_size_and_still_answers_everything() -> None:
    memo: ReadThrough[str, int] = ReadThrough(2)
    read = Reader()
    assert memo.get_many(["a", "bb", "ccc", "dddd"], read) == {"a": 1, "bb": 2, "ccc": 3, "dddd": 4}
    assert len(memo) <= 2


def test_a_clear_by_another_caller_meanwhile_takes_nothing_out_of_an_answer() -> None:
    memo: ReadThrough[str, int] = ReadThrough(10)
    memo.get_many(["a"], Reader())

    def clearing(keys: list[str]) -> dict[str, int]:
        memo.clear()  # as another thread would, finding the memo full
        return {k: len(k) for k in keys}

    assert memo.get_many(["a", "bb"], clearing) == {"a": 1, "bb": 2}
