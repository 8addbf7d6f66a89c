"""``StationComposer.around``: the scheduled picks' one-query path, on the known-answer world."""

from __future__ import annotations

import pytest

from tests.support.world import World


@pytest.mark.parametrize("which", ["world", "text_world"])
def test_picks_near_the_seeds_one_per_artist_never_the_excluded(
    which: str, request: pytest.FixtureRequest
) -> None:
    world: World = request.getfixturevalue(which)
    composer = world.composer()
    jazz = sorted(world.by_genre("cool jazz"), key=lambda t: t.id)
    seeds = [t.id for t in jazz[:3]]
    never = {t.id for t in jazz[3:6]}
    picks = composer.around(seeds, never=never, n=8)
    assert len(picks) == 8
    genres = [world.genre_of(p.track) for p in picks]
    # Six jazz artists, one per artist: the first five picks are jazz (chance: one in four).
    assert genres[:5] == ["cool jazz"] * 5, genres
    assert not {p.track for p in picks} & (never | set(seeds))
    assert len({p.artist for p in picks}) == len(picks)  # one per artist
    seed_names = {t.name for t in jazz[:3]}
    assert all(any(f'"{name}"' in p.reason for name in seed_names) for p in picks)
    verb = "often in playlists with" if which == "world" else "sounds like"
    assert all(p.reason.startswith(verb) for p in picks)


def test_no_seeds_no_picks_and_bad_sizes_are_refused(world: World) -> None:
    composer = world.composer()
    assert composer.around([], n=5) == []
    with pytest.raises(ValueError, match="1 to 50"):
        composer.around([world.by_genre("ambient")[0].id], n=0)
