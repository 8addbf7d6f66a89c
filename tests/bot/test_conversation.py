from __future__ import annotations

import pytest

from bot.conversation import Conversation, clean
from tests.support.fakes import FakeCatalogStats
from wavelength.domain import CatalogCounts


@pytest.fixture
def conversation() -> Conversation:
    return Conversation(
        catalog=FakeCatalogStats(CatalogCounts(42_554, 100, 0, 7, 70, 2, 9)), max_chars=200
    )


def test_help_lists_the_commands(conversation: Conversation) -> None:
    (reply,) = conversation.handle("ana", "/help")
    assert "/stats" in reply.text
    assert conversation.handle("ana", "/start") == [reply]


def test_stats_reports_the_counts(conversation: Conversation) -> None:
    (reply,) = conversation.handle("ana", "/stats")
    assert "42,554" in reply.text
    assert "playlists" in reply.text
    assert "(70 track rows)" in reply.text


@pytest.mark.parametrize("message", ["/STATS", "/stats@WavelengthBot", "  /stats  "])
def test_command_spelling_variants(conversation: Conversation, message: str) -> None:
    assert "42,554" in conversation.handle("ana", message)[0].text


def test_unknown_command_is_friendly(conversation: Conversation) -> None:
    (reply,) = conversation.handle("ana", "/frobnicate now")
    assert "/frobnicate" in reply.text
    assert "/help" in reply.text


@pytest.mark.parametrize("message", ["", "   ", "\u200b\u200b", "\x00\x07"])
def test_empty_messages_get_a_hint(conversation: Conversation, message: str) -> None:
    assert "/help" in conversation.handle("ana", message)[0].text


def test_huge_message_is_refused_politely(conversation: Conversation) -> None:
    (reply,) = conversation.handle("ana", "jazz " * 10_000)
    assert "50,000 characters" in reply.text
    assert "200" in reply.text


def test_mood_text_is_answered_honestly(conversation: Conversation) -> None:
    (reply,) = conversation.handle("ana", "rainy sunday jazz for reading ☔🎷")
    assert "station" in reply.text


def test_clean_keeps_emoji_and_scripts_but_drops_controls() -> None:
    assert clean("  e\u0301te\u0301 👍 坂本\x07 ") == "été 👍 坂本"
