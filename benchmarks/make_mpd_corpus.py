"""Write a synthetic corpus shaped like the Spotify Million Playlist Dataset (MPD).

The output is a folder of ``mpd.slice.{start}-{end}.json`` files of 1000 playlists each, in
the MPD slice format and layout (pretty-printed, 4-space indent, ASCII-escaped), plus a
``corpus.manifest`` file (JSON, deliberately not named ``*.json`` so ingest skips it) with
the exact counts a correct ingest must reproduce.

Shape, matched to the published MPD statistics (1M playlists, 66.3M track rows, 2.26M
unique tracks, 296k artists, 735k albums):

* playlist length: lognormal (median ~49, mean ~66), clipped to 5..250 tracks;
* track popularity: Zipf-Mandelbrot over a pool whose size scales with the corpus
  (2.26M * (N / 1M) ** 0.58, so ~600k tracks for 100k playlists); no repeats within a
  playlist;
* artists: roughly one per 8 tracks, popular artists own more tracks; albums of ~3 tracks;
* every track, artist and album URI is a valid 22-character base62 Spotify id;
* about 5% of names carry non-ASCII letters, about 2% of playlists a description.

Everything is derived from ``--seed``: the same seed and size give byte-identical files.
Slices are streamed to disk one at a time; memory holds only the track pool (rendered
JSON fragments, ~0.4 KB per distinct track used).

    python benchmarks/make_mpd_corpus.py --playlists 100000 --out benchmarks/out/corpus-100000
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import random
import sys
import time
from pathlib import Path

SLICE = 1000
MPD_PLAYLISTS = 1_000_000
MPD_UNIQUE_TRACKS = 2_262_292
POOL_EXPONENT = 0.58  # Heaps-law growth of distinct tracks with corpus size
TRACKS_PER_ARTIST = 8.0
TRACKS_PER_ALBUM = 3.1
ZIPF_S = 1.0
ZIPF_Q = 200.0  # Mandelbrot offset: the top track is in ~5% of playlists, as in the MPD
LEN_MU = math.log(49.0)
LEN_SIGMA = 0.80
LEN_MIN, LEN_MAX = 5, 250
MANIFEST = "corpus.manifest"
FORMAT_VERSION = 1

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# fmt: off
_SYLLABLES = (
    "ka", "ri", "mo", "lu", "se", "na", "vi", "to", "ra", "me", "zo", "li", "da", "fe",
    "ne", "ro", "su", "ga", "ti", "po", "la", "ve", "ki", "mu", "sa", "do", "re", "ni",
    "jo", "ba", "ke", "ly", "ma", "xo", "ru", "te", "ha", "zi", "wa", "ce", "bo", "nu",
    "go", "fi", "yo", "pe",
)
_ACCENTED = {"a": "á", "e": "é", "i": "í", "o": "ö", "u": "ü", "n": "ñ", "c": "ç"}
_WORDS = (
    "love", "night", "summer", "heart", "fire", "dream", "light", "rain", "road", "home",
    "city", "blue", "gold", "wild", "young", "dance", "shadow", "river", "ocean", "stars",
    "mind", "time", "world", "girl", "boy", "party", "lost", "free", "sweet", "baby",
    "money", "story", "moon", "sun", "midnight", "forever", "tonight", "feel", "alive",
    "run", "fly", "falling",
)
_PLAYLIST_NAMES = (
    "country", "chill", "workout", "rap", "party", "throwback", "summer", "oldies", "rock",
    "jams", "gym", "edm", "sleep", "christmas", "disney", "worship", "study", "country",
    "music", "road", "trip", "classic", "rock", "r&b", "indie", "running", "happy", "sad",
    "vibes", "feels", "lit", "2017", "90s", "80s", "pop", "mix", "favorites", "car",
    "music", "dance", "chill", "vibes", "relax", "throwbacks", "love", "songs", "hip",
    "hop", "alternative",
)
# fmt: on
_DESCRIPTIONS = ("songs for the drive", "my favs", "good vibes only", "study beats", "🔥🔥🔥")


def _digest(seed: int, *parts: object) -> bytes:
    text = ":".join(str(p) for p in (seed, *parts))
    return hashlib.blake2b(text.encode(), digest_size=17).digest()


def _base62(digest: bytes) -> str:
    n = int.from_bytes(digest[:17], "big")
    chars = []
    for _ in range(22):
        n, r = divmod(n, 62)
        chars.append(_B62[r])
    return "".join(chars)


def _unit(digest: bytes, offset: int = 0) -> float:
    """A uniform float in [0, 1) from 6 bytes of a digest."""
    return int.from_bytes(digest[offset : offset + 6], "big") / float(1 << 48)


def _spell(n: int, syllables: int) -> str:
    """A pronounceable word that is unique for each n below len(_SYLLABLES) ** syllables."""
    parts = []
    for _ in range(syllables):
        n, r = divmod(n, len(_SYLLABLES))
        parts.append(_SYLLABLES[r])
    return "".join(parts)


def _accent(word: str) -> str:
    return "".join(_ACCENTED.get(c, c) if i % 2 else c for i, c in enumerate(word))


def pool_size(playlists: int) -> int:
    return max(1000, round(MPD_UNIQUE_TRACKS * (playlists / MPD_PLAYLISTS) ** POOL_EXPONENT))


class Pool:
    """Deterministic metadata for track ranks 0..size-1 (rank 0 is the most popular)."""

    def __init__(self, seed: int, size: int) -> None:
        self.seed = seed
        self.size = size
        # ~10% of the pool is never drawn, so 0.9 * size / 8 artists gives ~8 tracks each.
        self.artists = max(1, round(0.9 * size / TRACKS_PER_ARTIST))
        self.artist_exponent = 1.6  # artist index = artists * u ** exponent: a heavy head
        self._fragments: dict[int, str] = {}
        self.track_artist: dict[int, int] = {}
        self.track_album: dict[int, tuple[int, int]] = {}
        weights = (1.0 / (rank + ZIPF_Q) ** ZIPF_S for rank in range(size))
        self.cum_weights = list(itertools.accumulate(weights))

    def _albums_of(self, artist: int) -> int:
        """How many albums an artist has: its expected track count over ~3 tracks each."""
        e = 1.0 / self.artist_exponent
        share = ((artist + 1) / self.artists) ** e - (artist / self.artists) ** e
        return max(1, round(self.size * share / TRACKS_PER_ALBUM))

    def fragment(self, rank: int) -> str:
        """The track object's body after ``"pos": N,`` (pretty-printed, MPD key order)."""
        cached = self._fragments.get(rank)
        if cached is not None:
            return cached
        seed = self.seed
        h = _digest(seed, "track", rank)
        artist = min(self.artists - 1, int(self.artists * _unit(h, 0) ** self.artist_exponent))
        album_slot = int(_unit(h, 6) * self._albums_of(artist))
        ha = _digest(seed, "artist", artist)
        hb = _digest(seed, "album", artist, album_slot)
        # A bijective scramble of the index keeps names unique (ingest keys artists by name).
        artist_name = _spell((artist * 1_000_003 + 4242) % len(_SYLLABLES) ** 4, 4).capitalize()
        if ha[0] < 13:  # ~5% non-ASCII, as in the MPD (Beyoncé, Sigur Rós, ...)
            artist_name = _accent(artist_name)
        if ha[1] < 40:
            artist_name = f"The {artist_name}"
        elif ha[1] < 60:
            artist_name = f"{artist_name} {_spell(ha[2] + 7 * ha[3], 2).capitalize()}"
        words = 1 + h[12] % 3
        track_name = " ".join(_WORDS[b % len(_WORDS)] for b in h[13 : 13 + words]).title()
        if h[16] < 20:
            track_name += f" (feat. {_spell(h[15] * 256 + h[14], 3).capitalize()})"
        elif h[16] < 35:
            track_name += " - Remastered"
        album_name = " ".join(_WORDS[b % len(_WORDS)] for b in hb[12 : 12 + 1 + hb[11] % 3])
        album_name = album_name.title()
        if hb[10] < 25:
            album_name = _accent(album_name)
        duration = 90_000 + int(_unit(h, 8) * _unit(h, 2) * 330_000) + int(_unit(h, 4) * 60_000)
        indent = " " * 20
        body = (
            f'{indent}"artist_name": {json.dumps(artist_name)}, \n'
            f'{indent}"track_uri": "spotify:track:{_base62(h)}", \n'
            f'{indent}"artist_uri": "spotify:artist:{_base62(ha)}", \n'
            f'{indent}"track_name": {json.dumps(track_name)}, \n'
            f'{indent}"album_uri": "spotify:album:{_base62(hb)}", \n'
            f'{indent}"duration_ms": {duration}, \n'
            f'{indent}"album_name": {json.dumps(album_name)}\n'
        )
        self._fragments[rank] = body
        self.track_artist[rank] = artist
        self.track_album[rank] = (artist, album_slot)
        return body


def _playlist_length(rng: random.Random) -> int:
    return min(LEN_MAX, max(LEN_MIN, round(rng.lognormvariate(LEN_MU, LEN_SIGMA))))


def _draw_tracks(rng: random.Random, pool: Pool, n: int) -> list[int]:
    chosen: list[int] = []
    seen: set[int] = set()
    while len(chosen) < n:
        for rank in rng.choices(range(pool.size), cum_weights=pool.cum_weights, k=n - len(chosen)):
            if rank not in seen:
                seen.add(rank)
                chosen.append(rank)
    return chosen


def _render_slice(rng: random.Random, pool: Pool, start: int, stats: dict[str, int]) -> str:
    out: list[str] = [
        "{\n",
        '    "info": {\n',
        '        "generated_on": "2017-12-03 08:41:42.057563", \n',
        f'        "slice": "{start}-{start + SLICE - 1}", \n',
        '        "version": "v1"\n',
        "    }, \n",
        '    "playlists": [\n',
    ]
    for offset in range(SLICE):
        pid = start + offset
        ranks = _draw_tracks(rng, pool, _playlist_length(rng))
        items = []
        for pos, rank in enumerate(ranks):
            items.append(f'                {{\n                    "pos": {pos}, \n')
            items.append(pool.fragment(rank))
            items.append("                }, \n" if pos < len(ranks) - 1 else "                }\n")
        artists = {pool.track_artist[r] for r in ranks}
        albums = {pool.track_album[r] for r in ranks}
        stats["track_rows"] += len(ranks)
        name = rng.choice(_PLAYLIST_NAMES)
        if rng.random() < 0.3:
            name = f"{name} {rng.choice(_WORDS)}"
        modified = 1_283_000_000 + int(rng.random() * 226_000_000)
        followers = max(1, int(rng.paretovariate(2.2)))
        edits = 1 + int(rng.expovariate(1 / 16))
        duration = sum(90_000 + (rank * 7919) % 240_000 for rank in ranks)
        description = (
            f'            "description": {json.dumps(rng.choice(_DESCRIPTIONS))}, \n'
            if rng.random() < 0.02
            else ""
        )
        out.append(
            "        {\n"
            f'            "name": {json.dumps(name)}, \n'
            '            "collaborative": "false", \n'
            f'            "pid": {pid}, \n'
            f'            "modified_at": {modified}, \n'
            f'            "num_tracks": {len(ranks)}, \n'
            f'            "num_albums": {len(albums)}, \n'
            f'            "num_followers": {followers}, \n'
            f'            "num_edits": {edits}, \n'
            f'            "duration_ms": {duration}, \n'
            f'            "num_artists": {len(artists)}, \n'
            f"{description}"
            '            "tracks": [\n'
        )
        out.extend(items)
        out.append("            ]\n")
        out.append("        }, \n" if offset < SLICE - 1 else "        }\n")
    out.append("    ]\n}")
    return "".join(out)


def generate(out: Path, playlists: int, seed: int, *, progress: bool = True) -> dict[str, object]:
    """Write the corpus into ``out`` and return the manifest (also written to disk last)."""
    if playlists <= 0 or playlists % SLICE:
        raise ValueError(f"--playlists must be a positive multiple of {SLICE}")
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)  # a manifest marks a complete corpus
    started = time.perf_counter()
    pool = Pool(seed, pool_size(playlists))
    rng = random.Random(seed)
    stats = {"track_rows": 0}
    total_bytes = 0
    slices = playlists // SLICE
    for index in range(slices):
        start = index * SLICE
        text = _render_slice(rng, pool, start, stats)
        path = out / f"mpd.slice.{start}-{start + SLICE - 1}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="ascii")
        tmp.replace(path)
        total_bytes += len(text)
        if progress and (index + 1 == slices or (index + 1) % max(1, slices // 20) == 0):
            elapsed = time.perf_counter() - started
            print(
                f"  slice {index + 1}/{slices}: {start + SLICE:,} playlists, "
                f"{stats['track_rows']:,} track rows, {len(pool.track_artist):,} distinct tracks, "
                f"{total_bytes / 1e6:,.0f} MB, {elapsed:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    manifest: dict[str, object] = {
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "playlists": playlists,
        "slices": slices,
        "track_rows": stats["track_rows"],
        "unique_tracks": len(pool.track_artist),
        "unique_artists": len(set(pool.track_artist.values())),
        "unique_albums": len(set(pool.track_album.values())),
        "pool_size": pool.size,
        "bytes": total_bytes,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def read_manifest(out: Path) -> dict[str, object] | None:
    """The manifest of a complete corpus in ``out``, or None when there is none."""
    path = out / MANIFEST
    if not path.is_file():
        return None
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write a synthetic, deterministic corpus shaped like the Spotify Million "
        "Playlist Dataset (mpd.slice.*.json files of 1000 playlists each)."
    )
    parser.add_argument(
        "--playlists",
        type=int,
        default=100_000,
        help="number of playlists, a multiple of 1000 (default: 100000)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: benchmarks/out/corpus-<playlists>)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    out = args.out or Path(__file__).resolve().parent / "out" / f"corpus-{args.playlists}"
    if not args.quiet:
        print(
            f"writing {args.playlists:,} playlists (seed {args.seed}, track pool "
            f"{pool_size(args.playlists):,}) to {out}",
            file=sys.stderr,
        )
    try:
        manifest = generate(out, args.playlists, args.seed, progress=not args.quiet)
    except ValueError as exc:
        parser.error(str(exc))
    print(json.dumps(manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
