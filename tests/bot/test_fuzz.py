"""Property tests: whatever people type, the parser and the conversation answer, briefly.

Hypothesis feeds the intent and command parsers and ``Conversation.handle`` on the
known-answer world with arbitrary text, command-shaped text and near-misses of real commands.
Bounded example counts keep the file well under 20 s; ``derandomize`` keeps CI reproducible.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import parse_command
from bot.conversation import Conversation
from bot.intents import parse_intent
from storage.stats import SqlCatalogStats
from tests.support.world import World
from wavelength.domain import UserId
from wavelength.stations import StationService

# The smallest chat-message limit of the platforms (Discord 2000, Telegram 4096); the console
# has none. ``max_chars`` is the conversation's input limit, the production default.
MESSAGE_LIMIT = 2000
COMMAND_WORDS = (
    "radio", "next", "why", "tune", "switch", "rename", "delete", "share", "join", "undo",
    "help", "stations", "connect", "settings", "picks", "nostalgia", "link", "unlink", "pause",
    "resume", "start", "spotify", "save",
)  # fmt: skip
ARGS = (
    "", "2", "0", "-1", "99999999999999999999", "style=1.5", "style=", "=", "x=nan", "tz=Mars/Base",
    "time=25:61", "daily=maybe", "ABCDEF", "🎷", "rainy jazz", "👍 2", "\x00", "  ", "@bot",
)  # fmt: skip

# Unicode of every kind (emoji, combining marks, right-to-left, controls), not just ASCII.
any_text = st.text(min_size=0, max_size=300)
command_like = st.builds(
    lambda word, at, args, extra: f"/{word}{at} {args}{extra}",
    st.sampled_from(COMMAND_WORDS) | st.text(max_size=12),
    st.sampled_from(["", "@wavelength_bot", "@"]),
    st.sampled_from(ARGS),
    st.text(max_size=40),
)
near_miss = st.builds(
    lambda word, args, case: (f"/{word}" if case else f"/{word.upper()}") + f" {args}",
    st.sampled_from(COMMAND_WORDS),
    st.sampled_from(ARGS),
    st.booleans(),
)
# Around and far beyond the input limit.
long_text = st.builds(
    lambda c, n: c * n, st.sampled_from(["a", "👍", "/", " ", "é"]), st.integers(1990, 9000)
)
messages = any_text | command_like | near_miss | st.sampled_from(ARGS) | long_text
FAST = settings(max_examples=300, deadline=None, derandomize=True)


@FAST
@given(text=messages)
def test_parse_intent_never_raises(text: str) -> None:
    assert parse_intent(text) is not None


@FAST
@given(text=command_like | near_miss)
def test_parse_command_never_raises(text: str) -> None:
    assert parse_command(text) is not None


@pytest.fixture(scope="module")
def conversation(world: World, service: StationService) -> Conversation:
    return Conversation(
        catalog=SqlCatalogStats(world.engine), stations=service, max_chars=MESSAGE_LIMIT
    )


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    # One listener across examples is the point: state built by earlier messages (stations,
    # undo history, half-finished renames) is what later messages must cope with.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=messages)
def test_the_conversation_always_answers_briefly(
    conversation: Conversation, user: UserId, text: str
) -> None:
    replies = conversation.handle(user, text)
    assert replies, f"no reply to {text!r}"
    for reply in replies:
        assert reply.text.strip(), f"an empty reply to {text!r}"
        assert len(reply.text) <= MESSAGE_LIMIT, f"{len(reply.text)} characters for {text!r}"
