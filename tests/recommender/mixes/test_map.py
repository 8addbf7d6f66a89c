"""The taste map PNG: a valid image of the right size with the centers' colours in it."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from recommender.mixes import Projection, encode_png, render_png
from recommender.mixes._map import PALETTE


def decode(png: bytes) -> np.ndarray:
    """A minimal reader for what ``encode_png`` writes (8-bit RGB, filter 0, one IDAT)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        body = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8)
    rows = raw.reshape(height, width * 3 + 1)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(height, width, 3)


def test_the_map_shows_each_centers_colour() -> None:
    points = np.array([[0.0, 0.0], [0.1, 0.1], [5.0, 5.0], [5.1, 4.9]])
    png = render_png(
        points, [0, 0, 1, 1], np.array([[0.05, 0.05], [5.05, 4.95]]), width=200, height=100
    )
    image = decode(png)
    assert image.shape == (100, 200, 3)
    colours = {tuple(int(v) for v in px) for px in image.reshape(-1, 3)}
    assert PALETTE[0] in colours and PALETTE[1] in colours
    assert (255, 255, 255) in colours  # background, and the white center numbers


def test_an_empty_map_is_still_an_image() -> None:
    image = decode(render_png(np.zeros((0, 2)), [], np.zeros((0, 2))))
    assert image.shape == (360, 480, 3) and (image == 255).all()


def test_projection_keeps_the_main_spread() -> None:
    rng = np.random.default_rng(0)
    x = np.zeros((100, 6))
    x[:, 2] = rng.normal(scale=5.0, size=100)  # the listening spreads along axis 2 only
    x += rng.normal(scale=0.01, size=x.shape)
    p = Projection.fit(x)
    assert abs(p.axes[0, 2]) > 0.99
    assert p.apply(x).shape == (100, 2)


def test_bad_images_are_refused() -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((4, 4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="groups"):
        render_png(np.zeros((2, 2)), [0], np.zeros((0, 2)))
