"""The Discord frontend: slash commands, station cards as embeds, reactions that teach."""

from bot.discord._bot import WavelengthBot, intents, run_discord
from bot.discord._outbox import DiscordOutbox
from bot.discord._sender import rest_client, run_discord_sender

__all__ = [
    "DiscordOutbox",
    "WavelengthBot",
    "intents",
    "rest_client",
    "run_discord",
    "run_discord_sender",
]
