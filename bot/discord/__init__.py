"""The Discord frontend: slash commands, station cards as embeds, reactions that teach."""

from bot.discord._bot import WavelengthBot, intents, run_discord
from bot.discord._outbox import DiscordOutbox

__all__ = ["DiscordOutbox", "WavelengthBot", "intents", "run_discord"]
