"""Our own rasteriser: colour themes and backgrounds, and the numba function that draws a
symbolic grid as an RGB image (pixel observations at 64x64, ``rgb_array`` renders at 256x256).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from envsuite.core.errors import check_choice
from envsuite.minigames.engine import GRID_SIZE
from envsuite.raster import background_image, fill_background, paint_cell

OBSERVATION_SIZE = 64
RENDER_SIZE = 256
MAX_CHANNELS = 8


@dataclass(frozen=True)
class Theme:
    """A colour for each channel (in drawing order) and the two colours of the background."""

    palette: tuple[tuple[int, int, int], ...]
    background: tuple[tuple[int, int, int], tuple[int, int, int]]


# Every palette colour differs from both background colours, so a cell's colour tells which
# channel is on top there (tests decode pixels back into the symbolic grid).
THEMES: dict[str, Theme] = {
    "classic": Theme(
        palette=(
            (240, 240, 240),
            (230, 70, 60),
            (250, 200, 40),
            (70, 150, 240),
            (80, 210, 90),
            (200, 90, 220),
            (250, 140, 40),
            (60, 220, 220),
        ),
        background=((10, 10, 20), (35, 35, 55)),
    ),
    "pastel": Theme(
        palette=(
            (90, 70, 120),
            (240, 130, 140),
            (130, 190, 240),
            (250, 210, 120),
            (150, 220, 170),
            (210, 160, 230),
            (240, 170, 110),
            (120, 200, 200),
        ),
        background=((250, 245, 235), (225, 220, 245)),
    ),
    "neon": Theme(
        palette=(
            (255, 255, 0),
            (255, 0, 200),
            (0, 255, 255),
            (0, 255, 80),
            (255, 100, 0),
            (150, 80, 255),
            (255, 255, 255),
            (255, 60, 60),
        ),
        background=((0, 0, 0), (20, 0, 40)),
    ),
    "earth": Theme(
        palette=(
            (250, 235, 200),
            (170, 60, 30),
            (60, 120, 40),
            (230, 180, 60),
            (40, 90, 150),
            (120, 80, 50),
            (200, 200, 120),
            (150, 30, 80),
        ),
        background=((70, 55, 40), (95, 80, 60)),
    ),
    "night": Theme(
        palette=(
            (200, 220, 255),
            (255, 90, 90),
            (255, 230, 120),
            (120, 140, 255),
            (120, 255, 180),
            (255, 150, 240),
            (255, 180, 100),
            (160, 255, 255),
        ),
        background=((15, 20, 60), (30, 40, 90)),
    ),
}


def theme_palette(theme: str) -> np.ndarray:
    """The theme's channel colours as a ``(MAX_CHANNELS, 3)`` uint8 array."""
    check_choice("theme", theme, list(THEMES))
    return np.array(THEMES[theme].palette, dtype=np.uint8)


def theme_background(theme: str, background: str, size: int) -> np.ndarray:
    """The ``(size, size, 3)`` picture behind the game, in the theme's two background colours."""
    check_choice("theme", theme, list(THEMES))
    return background_image(*THEMES[theme].background, background, size)


@njit(cache=True)
def rasterize_one(
    grid: np.ndarray, palette: np.ndarray, background: np.ndarray, image: np.ndarray
) -> None:
    """Draw ``grid`` (10x10xC bool) into ``image`` (SxSx3 uint8) over ``background``.

    A cell shows its top-most set channel; cells with nothing set show the background.
    """
    fill_background(image, background)
    for row in range(GRID_SIZE):
        for column in range(GRID_SIZE):
            shown = -1
            for channel in range(grid.shape[2]):
                if grid[row, column, channel]:
                    shown = channel
            if shown >= 0:
                paint_cell(image, row, column, GRID_SIZE, GRID_SIZE, palette[shown])


@njit(cache=True)
def rasterize(
    grids: np.ndarray, palette: np.ndarray, background: np.ndarray, out: np.ndarray
) -> None:
    """:func:`rasterize_one` each of a batch of grids into ``out[i]``."""
    for index in range(grids.shape[0]):
        rasterize_one(grids[index], palette, background, out[index])
