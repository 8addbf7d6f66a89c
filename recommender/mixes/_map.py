"""The taste map: a listener's recent tracks and taste centers, flattened to 2-D, as a PNG.

``Projection`` is a weighted PCA of the track vectors (the two directions the listening
spreads along most). ``render_png`` draws with numpy into an RGB array and encodes it with
zlib, so the map needs no plotting library: dots coloured by center, each center a larger
numbered disc (the numbers are the mixes' numbers; the chat reply names them).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recommender.vectors import Matrix

PALETTE = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (23, 190, 207),
)
GREY = (170, 170, 170)
# 3x5 digits, rows top to bottom, 3 bits each (left bit first).
_DIGITS = {
    0: (7, 5, 5, 5, 7),
    1: (2, 6, 2, 2, 7),
    2: (7, 1, 7, 4, 7),
    3: (7, 1, 7, 1, 7),
    4: (5, 5, 7, 1, 1),
    5: (7, 4, 7, 1, 7),
    6: (7, 4, 7, 5, 7),
    7: (7, 1, 1, 1, 1),
    8: (7, 5, 7, 5, 7),
    9: (7, 5, 7, 1, 7),
}
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Projection:
    mean: Floats
    axes: Floats  # 2 x dim

    @classmethod
    def fit(cls, vectors: Matrix, weights: npt.ArrayLike | None = None) -> Projection:
        x = np.asarray(vectors, dtype=np.float64)
        if x.ndim != 2 or len(x) == 0:
            raise ValueError(f"need a non-empty 2-D array of vectors, got shape {x.shape}")
        w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
        w = w / w.sum() if w.sum() > 0 else np.full(len(x), 1.0 / len(x))
        mean = w @ x
        centered = (x - mean) * np.sqrt(w)[:, None]
        _, _, vt = np.linalg.svd(centered, full_matrices=False)
        axes = np.zeros((2, x.shape[1]))
        axes[: min(2, len(vt))] = vt[:2]
        # A fixed sign per axis, so the same taste draws the same way round each day.
        signs = np.where(axes.sum(axis=1) < 0, -1.0, 1.0)
        return cls(mean, axes * signs[:, None])

    def apply(self, vectors: npt.ArrayLike) -> Floats:
        out: Floats = (np.asarray(vectors, dtype=np.float64) - self.mean) @ self.axes.T
        return out


def render_png(
    points: npt.ArrayLike,
    groups: Sequence[int],
    centers: npt.ArrayLike,
    *,
    width: int = 480,
    height: int = 360,
) -> bytes:
    """A PNG of ``points`` (n x 2, coloured by ``groups``: a center index, or -1 for grey) and
    ``centers`` (k x 2, drawn as discs numbered 1..k)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    c = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    if len(groups) != len(p):
        raise ValueError(f"{len(groups)} groups for {len(p)} points")
    if width < 64 or height < 64:
        raise ValueError("the map needs at least 64 x 64 pixels")
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    both = np.vstack([p, c]) if len(p) or len(c) else np.zeros((1, 2))
    lo, hi = both.min(axis=0), both.max(axis=0)
    span = np.where(hi - lo > 1e-12, hi - lo, 1.0)
    margin = 24

    def to_pixel(xy: Floats) -> npt.NDArray[np.int64]:
        unit = (xy - lo) / span
        px = margin + unit[:, 0] * (width - 2 * margin)
        py = height - margin - unit[:, 1] * (height - 2 * margin)  # y grows upwards
        return np.stack([px, py], axis=1).round().astype(np.int64)

    for (x, y), g in zip(to_pixel(p), groups, strict=True):
        _disc(image, x, y, 3, PALETTE[g % len(PALETTE)] if g >= 0 else GREY)
    for k, (x, y) in enumerate(to_pixel(c)):
        _disc(image, x, y, 11, (40, 40, 40))
        _disc(image, x, y, 9, PALETTE[k % len(PALETTE)])
        _number(image, x, y, k + 1)
    return encode_png(image)


def _disc(image: npt.NDArray[np.uint8], x: int, y: int, r: int, rgb: tuple[int, int, int]) -> None:
    h, w, _ = image.shape
    y0, y1, x0, x1 = max(y - r, 0), min(y + r + 1, h), max(x - r, 0), min(x + r + 1, w)
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    inside = (yy - y) ** 2 + (xx - x) ** 2 <= r * r
    image[y0:y1, x0:x1][inside] = rgb


def _number(image: npt.NDArray[np.uint8], x: int, y: int, value: int) -> None:
    digits = [int(d) for d in str(value)]
    scale = 2
    total = len(digits) * 4 * scale - scale
    left, top = x - total // 2, y - 5 * scale // 2
    h, w, _ = image.shape
    for n, d in enumerate(digits):
        for row, bits in enumerate(_DIGITS[d]):
            for col in range(3):
                if bits >> (2 - col) & 1:
                    px, py = left + (n * 4 + col) * scale, top + row * scale
                    image[max(py, 0) : min(py + scale, h), max(px, 0) : min(px + scale, w)] = 255


def encode_png(image: npt.NDArray[np.uint8]) -> bytes:
    """An 8-bit RGB PNG of an ``height x width x 3`` uint8 array."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"need a height x width x 3 uint8 array, got {image.shape} {image.dtype}")
    height, width, _ = image.shape
    # Each row starts with filter type 0 (none).
    raw = np.hstack([np.zeros((height, 1), np.uint8), image.reshape(height, width * 3)])

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + chunk(b"IEND", b"")
    )
