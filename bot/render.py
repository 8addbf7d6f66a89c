"""Service values as chat text: the same words on every platform.

Frontends that can do better (Discord embeds, Telegram inline keyboards) use the structured
``Batch`` a reply carries; plain-text frontends (the console) print these strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from wavelength.domain import (
    Familiarity,
    Feedback,
    Reaction,
    Station,
    StationId,
    Track,
    UserPrefs,
)
from wavelength.stations import Batch, Card, Explanation, Reacted

if TYPE_CHECKING:
    from wavelength.mixes import Mix, MixTrack, NostalgiaMix, PlaylistMatch

EMOJI = {Reaction.LIKE: "👍", Reaction.LOVE: "❤️", Reaction.DISLIKE: "👎", Reaction.SKIP: "⏭"}
VERB = {Reaction.LIKE: "liked", Reaction.LOVE: "loved", Reaction.DISLIKE: "disliked",
        Reaction.SKIP: "skipped"}  # fmt: skip
HOW_TO_REACT = (
    'React with 👍 ❤️ 👎 ⏭ and a card number ("👍 2", "👎 1 3"), say "next", '
    'or steer it ("more upbeat", "surprise me", "why 2").'
)


def track_line(track: Track) -> str:
    year = track.year or (f"{track.decade}s" if track.decade else None)
    return f"{track.name} — {track.artist.name}" + (f" ({year})" if year else "")


def card_text(card: Card) -> str:
    return f"{card.position:>2}. {track_line(card.track)}\n      {card.reason}"


def batch_text(batch: Batch, *, intro: str | None = None) -> str:
    title = f'📻 "{batch.station.name}" · batch {batch.number}'
    if batch.read_only:
        title += " · shared, read-only"
    lines = [intro, title] if intro else [title]
    lines += [card_text(c) for c in batch.cards]
    if batch.read_only:
        code = batch.station.share_code or ""
        lines.append(f"This station belongs to someone else. /copy {code} makes it yours.")
    else:
        lines.append(HOW_TO_REACT)
    return "\n".join(lines)


def reacted_text(reacted: Reacted) -> str:
    names = ", ".join(f'"{t.name}"' for t in reacted.tracks) or "that"
    emoji = EMOJI[reacted.reaction]
    if reacted.reaction is Reaction.DISLIKE:
        text = f"{emoji} Got it: I won't play {names} again, on any station."
    elif reacted.reaction is Reaction.SKIP:
        text = f"{emoji} Skipped {names}; I'll lean a little away from it here."
    elif reacted.reaction is Reaction.LOVE:
        text = f"{emoji} Loved {names}: saved to your favourites, and more like it is coming."
    else:
        text = f"{emoji} Liked {names}: more like it is coming."
    if reacted.banned_artist:
        text += f" That's enough {reacted.banned_artist} for this station; I'll leave them out."
    return text + ' Say "next" for the next batch, or "undo" to take it back.'


def undone_text(feedback: Feedback, track: Track | None) -> str:
    what = f'"{track.name}"' if track else "that track"
    return f"↩️ Forgotten: you {VERB[feedback.reaction]} {what}. It no longer counts."


def history_text(items: Sequence[tuple[Feedback, Track | None]]) -> str:
    if not items:
        return "You haven't reacted to anything yet. React to a card with 👍 ❤️ 👎 ⏭."
    lines = ["What you've told me, newest first:"]
    for fb, track in items:
        label = track_line(track) if track else fb.track
        lines.append(f"  {EMOJI[fb.reaction]} {label}  ({fb.at:%b %d, %H:%M})")
    lines.append('Say "undo" to take back the newest one.')
    return "\n".join(lines)


def stations_text(stations: Sequence[Station], active: StationId | None) -> str:
    if not stations:
        return 'You have no stations yet. Tell me a mood, e.g. "rainy sunday jazz for reading".'
    lines = ["Your stations:"]
    for i, s in enumerate(stations, 1):
        mark = "▶" if s.id == active else " "
        shared = f"  [shared: {s.share_code}]" if s.share_code else ""
        lines.append(f" {mark} {i}. {s.name}{_tuning_note(s)}{shared}")
    lines.append(
        "Switch with /switch NAME or number; /rename NEW; /delete NAME; /share to get a code."
    )
    return "\n".join(lines)


def _tuning_note(station: Station) -> str:
    t = station.tuning
    bits = []
    if t.familiarity is not Familiarity.BALANCED:
        bits.append("surprising" if t.familiarity is Familiarity.SURPRISE else "familiar")
    if (t.style, t.like, t.dislike) != (1.0, 1.0, 1.0):
        bits.append(f"style {t.style:g}, like {t.like:g}, dislike {t.dislike:g}")
    return f"  ({'; '.join(bits)})" if bits else ""


def why_text(exp: Explanation) -> str:
    card = exp.card
    lines = [
        f"Why #{card.position}, {track_line(card.track)}:",
        f"  {card.reason[:1].upper()}{card.reason[1:]}.",
        f'  Station "{exp.station.name}" was asked for: "{exp.station.mood.original}".',
    ]
    if exp.station.steers:
        steers = ", ".join(
            ("more " if s.sign > 0 else "less ") + s.phrase for s in exp.station.steers[-4:]
        )
        lines.append(f"  Steered since: {steers}.")
    lines.append(
        f"  It has learned from {exp.liked_on_station} like(s) and "
        f"{exp.disliked_on_station} dislike(s)/skip(s) here."
    )
    genres = ", ".join(card.track.artist.genres[:3])
    if genres:
        lines.append(f"  {card.track.artist.name}: {genres}.")
    return "\n".join(lines)


FAMILIARITY_INTRO = {
    Familiarity.SURPRISE: "Surprise mode: further from the obvious picks.",
    Familiarity.SAFE: "Playing it safe: the surest picks first.",
    Familiarity.BALANCED: "Back to a balance of sure picks and discoveries.",
}


def shared_text(station: Station, code: str) -> str:
    return (
        f'"{station.name}" is shared. Friends can play it with /join {code} '
        f"(read-only) or make their own copy with /copy {code}."
    )


def tuning_text(station: Station) -> str:
    t = station.tuning
    return (
        f'"{station.name}" is tuned style={t.style:g} like={t.like:g} dislike={t.dislike:g} '
        f"discovery={t.familiarity.value}. Change it with "
        "/tune style=1.5 like=2 dislike=0.5 discovery=surprise (weights 0 to 3)."
    )


PLATFORM_NAMES = {"discord": "Discord", "telegram": "Telegram", "console": "the console"}


def link_code_text(code: str, expires: datetime) -> str:
    minutes = max(1, round((expires - datetime.now(expires.tzinfo)).total_seconds() / 60))
    return (
        f"🔗 Your code: {code}\nOn your other account (Discord or Telegram), send "
        f"/connect {code} within {minutes} minutes. Both accounts then share one taste, your "
        "stations and your reactions."
    )


def connected_text(identities: Sequence[tuple[str, str]]) -> str:
    names = sorted({PLATFORM_NAMES.get(p, p) for p, _ in identities})
    return (
        "✅ Connected: " + " and ".join(names) + " are now one listener, with one taste, "
        "one set of stations and one history."
    )


def prefs_text(prefs: UserPrefs) -> str:
    daily = "on" if prefs.daily else "off"
    text = f"Time zone {prefs.time_zone} · daily picks at {prefs.delivery_time} · daily DMs {daily}"
    if prefs.paused:
        text += " · paused (/resume)"
    if not prefs.daily:
        text += ". Turn them on with /settings daily=on."
    return text


def taste_reacted_text(reacted: Reacted, name: str | None = None) -> str:
    """A reaction to a card on someone else's station: it counts for the reactor's taste."""
    track = f'"{reacted.tracks[0].name}"' if reacted.tracks else "that"
    who = f"{name}, " if name else ""
    emoji = EMOJI[reacted.reaction]
    return (
        f"{emoji} Noted for your own taste, {who}{VERB[reacted.reaction]} {track}. That card "
        "is on someone else's station, so their station isn't changed."
    )


SPOTIFY_NOT_SET_UP = (
    "Spotify isn't set up on this Wavelength: whoever runs it needs to create a Spotify app "
    "and set WAVELENGTH_SPOTIFY_CLIENT_ID and _SECRET (the README says how). Stations work "
    "without it."
)


NO_TASTE_YET = (
    "I don't know your taste yet: react to a few tracks (👍 ❤️) on any station, or link "
    "Spotify (/link) so I can read what you play, and picks will follow."
)
SHARING = {
    True: "🤝 Other listeners may now be matched to your taste (never your name or your "
    "plays, only the match). /buddies share off stops it.",
    False: "Your taste is private again: nobody is matched to it.",
}


def _mix_track(i: int, t: MixTrack) -> str:
    mark = "" if t.familiar else "  ✨ new"
    return f"{i:>3}. {track_line(t.track)}{mark}"


def mixes_text(mixes: Sequence[Mix], *, per_mix: int = 8) -> str:
    if not mixes:
        return NO_TASTE_YET
    lines = ["🎛 Your daily mixes (they keep their number from day to day):"]
    for mix in mixes:
        new = sum(not t.familiar for t in mix.tracks)
        lines.append(
            f"Mix {mix.number}: {mix.label} · {mix.share:.0%} of your listening · "
            f"{len(mix.tracks)} tracks, {new} new"
        )
        lines += [_mix_track(i, t) for i, t in enumerate(mix.tracks[:per_mix], 1)]
        if len(mix.tracks) > per_mix:
            lines.append(f"     … and {len(mix.tracks) - per_mix} more")
    return "\n".join(lines)


def nostalgia_text(mix: NostalgiaMix, *, shown: int = 15) -> str:
    if not mix.tracks:
        return mix.note or (
            "There's no past to go back to yet: I need listening history with dates. Link "
            "Spotify (/link) or import your history (`wavelength ingest history`)."
        )
    lines = []
    if mix.period is not None:
        start, end = mix.period
        lines.append(f"📼 Back to {start:%B %Y} – {end:%B %Y}: what you played a lot then.")
    else:
        lines.append("📼 From your past listening:")
    lines += [_mix_track(i, t) for i, t in enumerate(mix.tracks[:shown], 1)]
    if len(mix.tracks) > shown:
        lines.append(f"     … and {len(mix.tracks) - shown} more")
    if mix.filled:
        lines.append(f"{mix.filled} of these are close to what you played then, to fill gaps.")
    if mix.note:
        lines.append(mix.note)
    return "\n".join(lines)


def buddies_text(matches: Sequence[PlaylistMatch]) -> str:
    if not matches:
        return "No playlists to match yet: the catalog has none (ingest some playlists)."
    personal = any(m.match is not None for m in matches)
    head = (
        "🤝 Playlists from people with your taste:"
        if personal
        else "🤝 Popular playlists to start with (personal matches come once I know your "
        "taste: react to some tracks):"
    )
    lines = [head]
    for i, m in enumerate(matches, 1):
        score = f" · match {m.match}/100" if m.match is not None else ""
        lines.append(f"{i:>2}. {m.name} (by {m.by}){score}\n      {m.why}")
    lines.append("/from NAME starts a station from one of them.")
    return "\n".join(lines)


def taste_caption(mixes: Sequence[Mix]) -> str:
    if not mixes:
        return "Your taste map is empty so far. " + NO_TASTE_YET
    legend = " · ".join(f"{m.number} = {m.label}" for m in mixes)
    return f"🗺 Your taste: recent tracks as dots, your taste centers as numbered discs. {legend}"
