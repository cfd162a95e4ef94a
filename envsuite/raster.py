"""Pieces of our own rasteriser shared by the numba families: background pictures in two colours,
and filling a grid cell of an RGB image with a colour.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envsuite.core.errors import check_choice

BACKGROUNDS = ("plain", "stripes", "checker", "gradient", "dots")
# Patterns are laid out on a 64-pixel picture and scaled, so a render looks like the observation.
_PATTERN_SIZE = 64


def background_image(
    base: tuple[int, int, int], alternate: tuple[int, int, int], background: str, size: int
) -> np.ndarray:
    """A ``(size, size, 3)`` uint8 picture: the pattern ``background`` in two colours.

    Every pixel blends the two colours only (a gradient never passes through a third colour), so
    object colours chosen apart from both stay distinguishable.
    """
    check_choice("background", background, BACKGROUNDS)
    first, second = np.array(base, dtype=np.float64), np.array(alternate, dtype=np.float64)
    rows, columns = np.mgrid[0:size, 0:size] * (_PATTERN_SIZE / size)
    if background == "plain":
        weight = np.zeros((size, size))
    elif background == "stripes":
        weight = (rows // 4 % 2).astype(np.float64)
    elif background == "checker":
        weight = ((rows // 8 + columns // 8) % 2).astype(np.float64)
    elif background == "gradient":
        weight = rows / _PATTERN_SIZE
    else:  # dots
        weight = ((rows % 8 < 2) & (columns % 8 < 2)).astype(np.float64)
    return np.rint(first + weight[..., None] * (second - first)).astype(np.uint8)


@njit(cache=True, inline="always")
def fill_background(image: np.ndarray, background: np.ndarray) -> None:
    """Copy ``background`` into ``image`` (both SxSx3 uint8)."""
    # An element loop over flat views: numba's array-to-array slice assignment is ~40x slower.
    flat_background = background.reshape(-1)
    flat_image = image.reshape(-1)
    for position in range(flat_image.size):
        flat_image[position] = flat_background[position]


@njit(cache=True, inline="always")
def paint_cell(
    image: np.ndarray, row: int, column: int, rows: int, columns: int, colour: np.ndarray
) -> None:
    """Fill cell (``row``, ``column``) of a ``rows`` x ``columns`` grid laid over ``image`` with
    ``colour`` (uint8[3]), inset from the cell's edges so neighbouring objects stay apart."""
    height, width = image.shape[0], image.shape[1]
    inset = max(1, height // 64)
    top = row * height // rows + inset
    bottom = (row + 1) * height // rows - inset
    left = column * width // columns + inset
    right = (column + 1) * width // columns - inset
    red, green, blue = colour[0], colour[1], colour[2]
    for y in range(top, bottom):
        for x in range(left, right):
            image[y, x, 0] = red
            image[y, x, 1] = green
            image[y, x, 2] = blue
