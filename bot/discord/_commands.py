"""The slash commands. Each one is thin: it turns its options into the command text the chat
engine reads ("/tune style=1.5 discovery=safe") and hands it over; the answer comes back as
followups. Every interaction is deferred first, because Discord drops any that isn't
answered within 3 seconds and a station can take longer than that to compose."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat import COMMANDS, Where
from bot.discord._cards import chunks
from bot.discord._deliver import answer, describe, who_of

if TYPE_CHECKING:
    from bot.discord._engine import Engine

log = logging.getLogger(__name__)
DESCRIPTIONS = {c.name: c.description for c in COMMANDS}
MAX_MOOD = 1000  # characters; Discord's client refuses longer (a sentence or two is plenty)
MAX_CHOICES = 25  # Discord's limit for autocomplete suggestions
Weight = app_commands.Range[float, 0.0, 3.0]
Discovery = Literal["safe", "balanced", "surprise"]
Station = app_commands.Range[str, 1, 100]
Code = app_commands.Range[str, 1, 32]


def _d(name: str) -> str:
    return DESCRIPTIONS.get(name, name.capitalize())


def tune_text(
    style: float | None, like: float | None, dislike: float | None, discovery: str | None
) -> str:
    parts = [
        f"{k}={v:g}"
        for k, v in (("style", style), ("like", like), ("dislike", dislike))
        if v is not None
    ]
    if discovery:
        parts.append(f"discovery={discovery}")
    return " ".join(["/tune", *parts])


def settings_text(time_zone: str | None, time: str | None, daily: bool | None) -> str:
    parts = []
    if time_zone:
        parts.append(f"tz={''.join(time_zone.split())}")
    if time:
        parts.append(f"time={''.join(time.split())}")
    if daily is not None:
        parts.append(f"daily={'on' if daily else 'off'}")
    return " ".join(["/settings", *parts])


class StationCommands(commands.Cog):
    """/radio, /next, /stations and the rest, plus "Why this card?" on a card's menu."""

    def __init__(self, bot: commands.Bot, engine: Engine) -> None:
        self.bot = bot
        self.engine = engine
        self.why_menu = app_commands.ContextMenu(name="Why this card?", callback=self.why_card)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.why_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.why_menu.name, type=self.why_menu.type)

    async def run(
        self, interaction: discord.Interaction, text: str, *, private: bool = False
    ) -> None:
        """Defer at once, let the engine work off the event loop, then send the followups.
        ``private``: only the person who asked sees the answer (a Spotify consent link is
        bound to them; nobody else may click it)."""
        try:
            await interaction.response.defer(thinking=True, ephemeral=private)
        except discord.HTTPException as exc:
            # Past Discord's deadline nothing can be shown; doing the work would surprise them.
            log.warning("could not defer %s: %s", text.split(" ", 1)[0], describe(exc))
            return
        who = who_of(interaction.user)
        replies = await self.engine.handle(who, text)
        try:
            await answer(interaction, self.engine, who, replies)
        except discord.HTTPException as exc:
            log.warning("could not answer %s: %s", text.split(" ", 1)[0], describe(exc))

    async def station_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The person's own station names that contain what they typed, prefix matches first."""
        names = await self.engine.station_names(who_of(interaction.user))
        typed = current.casefold().strip()
        found = [n for n in names if typed in n.casefold()]
        found.sort(key=lambda n: not n.casefold().startswith(typed))
        return [app_commands.Choice(name=n[:100], value=n[:100]) for n in found[:MAX_CHOICES]]

    async def why_card(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Why a card was played, shown only to whoever asked."""
        try:
            await interaction.response.defer(thinking=True, ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not defer Why this card?: %s", describe(exc))
            return
        where = Where("discord", str(message.channel.id), str(message.id))
        reply = await self.engine.why(who_of(interaction.user), where)
        text = (
            reply.text
            if reply
            else "That message isn't one of my cards; try it on a card I posted."
        )
        try:
            for piece in chunks(text):
                await interaction.followup.send(piece, ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not answer Why this card?: %s", describe(exc))

    @app_commands.command(name="radio", description=_d("radio"))
    @app_commands.describe(mood='What you want to hear, in your own words: "rainy sunday jazz"')
    async def radio(
        self, interaction: discord.Interaction, mood: app_commands.Range[str, 1, MAX_MOOD]
    ) -> None:
        await self.run(interaction, f"/radio {mood}")

    @app_commands.command(name="next", description=_d("next"))
    async def next_batch(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/next")

    @app_commands.command(name="stations", description=_d("stations"))
    async def stations(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/stations")

    @app_commands.command(name="switch", description=_d("switch"))
    @app_commands.describe(station="The station's name or number (see /stations)")
    @app_commands.autocomplete(station=station_choices)
    async def switch(self, interaction: discord.Interaction, station: Station) -> None:
        await self.run(interaction, f"/switch {station}")

    @app_commands.command(name="rename", description=_d("rename"))
    @app_commands.describe(name="The new name for the station playing")
    async def rename(self, interaction: discord.Interaction, name: Station) -> None:
        await self.run(interaction, f"/rename {name}")

    @app_commands.command(name="delete", description=_d("delete"))
    @app_commands.describe(station="The station to delete, with what it learned")
    @app_commands.autocomplete(station=station_choices)
    async def delete(self, interaction: discord.Interaction, station: Station) -> None:
        await self.run(interaction, f"/delete {station}")

    @app_commands.command(name="share", description=_d("share"))
    @app_commands.describe(station="Which station (the one playing if left out)")
    @app_commands.autocomplete(station=station_choices)
    async def share(self, interaction: discord.Interaction, station: Station | None = None) -> None:
        await self.run(interaction, f"/share {station}" if station else "/share")

    @app_commands.command(name="join", description=_d("join"))
    @app_commands.describe(code="The share code a friend sent you")
    async def join(self, interaction: discord.Interaction, code: Code) -> None:
        await self.run(interaction, f"/join {code}")

    @app_commands.command(name="copy", description=_d("copy"))
    @app_commands.describe(code="The share code a friend sent you")
    async def copy(self, interaction: discord.Interaction, code: Code) -> None:
        await self.run(interaction, f"/copy {code}")

    @app_commands.command(name="tune", description=_d("tune"))
    @app_commands.describe(
        style="How much the mood's words count (0-3, 1 is the default)",
        like="How much your likes pull (0-3)",
        dislike="How much your dislikes push away (0-3)",
        discovery="Sure picks, a balance, or surprises",
    )
    async def tune(
        self,
        interaction: discord.Interaction,
        style: Weight | None = None,
        like: Weight | None = None,
        dislike: Weight | None = None,
        discovery: Discovery | None = None,
    ) -> None:
        await self.run(interaction, tune_text(style, like, dislike, discovery))

    @app_commands.command(name="why", description=_d("why"))
    @app_commands.describe(card="The card's number in the last batch")
    async def why(
        self, interaction: discord.Interaction, card: app_commands.Range[int, 1, 99]
    ) -> None:
        await self.run(interaction, f"/why {card}")

    @app_commands.command(name="undo", description=_d("undo"))
    async def undo(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/undo")

    @app_commands.command(name="history", description=_d("history"))
    async def history(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/history")

    @app_commands.command(name="picks", description=_d("picks"))
    async def picks(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/picks")

    @app_commands.command(name="nostalgia", description=_d("nostalgia"))
    async def nostalgia(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/nostalgia")

    @app_commands.command(name="mixes", description=_d("mixes"))
    async def mixes(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/mixes")

    @app_commands.command(name="buddies", description=_d("buddies"))
    @app_commands.describe(
        share="Let others be matched to your taste (on), or stop it (off); leave out to see matches"
    )
    async def buddies(
        self, interaction: discord.Interaction, share: Literal["on", "off"] | None = None
    ) -> None:
        await self.run(interaction, f"/buddies share {share}" if share else "/buddies")

    @app_commands.command(name="taste", description=_d("taste"))
    async def taste(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/taste")

    @app_commands.command(name="sort", description=_d("sort"))
    @app_commands.describe(
        what="new A | B | C, next, label 2 B, show, list B, move 4 A, overlap on, void on, push"
    )
    async def sort(
        self, interaction: discord.Interaction, what: app_commands.Range[str, 0, 500] = ""
    ) -> None:
        await self.run(interaction, f"/sort {what}".strip())

    @app_commands.command(name="link", description=_d("link"))
    @app_commands.describe(
        address="The address Spotify sent your browser to, when it showed an error page"
    )
    async def link(self, interaction: discord.Interaction, address: str | None = None) -> None:
        await self.run(interaction, f"/link {address}" if address else "/link", private=True)

    @app_commands.command(name="unlink", description=_d("unlink"))
    async def unlink(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/unlink", private=True)

    @app_commands.command(name="spotify", description=_d("spotify"))
    async def spotify(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/spotify", private=True)

    @app_commands.command(name="save", description=_d("save"))
    async def save(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/save")

    @app_commands.command(name="connect", description=_d("connect"))
    @app_commands.describe(
        code="The code /connect showed on your other account (leave out to get one)"
    )
    async def connect(self, interaction: discord.Interaction, code: Code | None = None) -> None:
        await self.run(interaction, f"/connect {code}" if code else "/connect")

    @app_commands.command(name="settings", description=_d("settings"))
    @app_commands.describe(
        time_zone="Your time zone, like Europe/Berlin",
        time="When daily picks arrive, your local time (HH:MM)",
        daily="Daily picks by DM on or off",
    )
    async def settings(
        self,
        interaction: discord.Interaction,
        time_zone: app_commands.Range[str, 1, 64] | None = None,
        time: app_commands.Range[str, 1, 8] | None = None,
        daily: bool | None = None,
    ) -> None:
        await self.run(interaction, settings_text(time_zone, time, daily))

    @app_commands.command(name="pause", description=_d("pause"))
    async def pause(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/pause")

    @app_commands.command(name="resume", description=_d("resume"))
    async def resume(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/resume")

    @app_commands.command(name="help", description=_d("help"))
    async def help(self, interaction: discord.Interaction) -> None:
        await self.run(interaction, "/help")
