"""The Discord frontend: slash commands, station cards as embeds, reactions that teach."""

from bot.discord._bot import WavelengthBot, intents, run_discord

__all__ = ["WavelengthBot", "intents", "run_discord"]
