"""What the agent sees of a navigation env: the egocentric or full symbolic grid, the same cells
painted as pixels, the one-hot direction/phase/instruction features, and the 256x256 render.

A view is ``V x V`` cells. Egocentric: the agent on the bottom row's centre facing up, as in
MiniGrid, with no occlusion (it sees through walls); cells outside the maze read as wall.
Full: the whole ``size x size`` maze in world orientation (the direction feature gives heading).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envsuite.navigation.cells import (
    COLOUR_NAMES,
    FLOOR,
    KIND_NAMES,
    NUM_COLOURS,
    NUM_KINDS,
    WALL,
    colour_of,
    kind_of,
)
from envsuite.navigation.engine import (
    AGENT_COLUMN,
    AGENT_ROW,
    COLUMN_STEP,
    DIRECTION,
    DOWN,
    INSTRUCTION,
    LEFT,
    MAZE_SIZE,
    NUM_DIRECTIONS,
    NUM_INSTRUCTIONS,
    NUM_PHASES,
    PHASE,
    ROW_STEP,
    UP,
    cell_at,
)
from envsuite.raster import background_image, fill_background, paint_cell

VIEW_NAMES = ("egocentric", "full")
EGOCENTRIC, FULL = range(len(VIEW_NAMES))
# Symbolic channels: a kind of thing (floor has none), the agent, then the thing's colour.
CHANNEL_NAMES = (*KIND_NAMES[1:], "agent", *COLOUR_NAMES)
AGENT_CHANNEL = NUM_KINDS - 1
COLOUR_CHANNELS = NUM_KINDS
NUM_CHANNELS = len(CHANNEL_NAMES)
# The features vector: direction one-hot, phase one-hot, instruction one-hot.
DIRECTION_FEATURES = 0
PHASE_FEATURES = DIRECTION_FEATURES + NUM_DIRECTIONS
INSTRUCTION_FEATURES = PHASE_FEATURES + NUM_PHASES
NUM_FEATURES = INSTRUCTION_FEATURES + NUM_INSTRUCTIONS
OBSERVATION_SIZE = 64
RENDER_SIZE = 256

# Colours: a base colour per thing colour, shaded per kind so that pixels tell kinds apart too.
BASE_COLOURS = np.array(
    [(230, 50, 50), (50, 200, 70), (60, 110, 250), (170, 70, 230), (240, 210, 30), (160, 160, 160)],
    dtype=np.float64,
)
# kind -> (scale of the base colour, share of white mixed in)
_KIND_SHADES = {
    "goal": (1.0, 0.0),
    "key": (1.0, 0.45),
    "door_locked": (0.55, 0.0),
    "door_open": (0.3, 0.0),
    "object": (0.8, 0.2),
    "dancer": (1.0, 0.25),
}
WALL_COLOUR = (95, 95, 105)
AGENT_COLOUR = (255, 255, 255)
BACKGROUND_COLOURS = ((15, 15, 25), (35, 35, 50))
# A render draws the agent's heading as a dark notch on the edge it faces.
_NOTCH_COLOUR = np.array([40, 40, 40], dtype=np.uint8)


def make_palette() -> np.ndarray:
    """``(NUM_KINDS + 1, NUM_COLOURS, 3)`` uint8: the colour of each kind and colour of thing
    (walls one grey whatever their colour), the last row the agent's white."""
    palette = np.zeros((NUM_KINDS + 1, NUM_COLOURS, 3), dtype=np.uint8)
    for kind, name in enumerate(KIND_NAMES):
        if kind == WALL:
            palette[kind] = WALL_COLOUR
        elif name in _KIND_SHADES:
            scale, white = _KIND_SHADES[name]
            palette[kind] = np.rint(BASE_COLOURS * scale * (1 - white) + 255 * white)
    palette[NUM_KINDS] = AGENT_COLOUR
    return palette


PALETTE = make_palette()


def view_background(size: int) -> np.ndarray:
    """The plain ``(size, size, 3)`` picture behind the cells."""
    return background_image(*BACKGROUND_COLOURS, "plain", size)


@njit(cache=True, inline="always")
def view_frame(state: np.ndarray, view: int, view_size: int) -> tuple[int, int, int, int, int, int]:
    """Where the view lies on the maze: the maze cell of view cell (0, 0), and the maze steps of
    one view row down and one view column right (view cell (r, c) is origin + r*down + c*right).
    """
    if view == FULL:
        return 0, 0, 1, 0, 0, 1
    direction = state[DIRECTION]
    right = (direction + 1) % NUM_DIRECTIONS
    ahead = view_size - 1  # the top row lies this far ahead of the agent
    aside = view_size // 2  # the left column lies this far to the agent's left
    origin_row = state[AGENT_ROW] + ahead * ROW_STEP[direction] - aside * ROW_STEP[right]
    origin_column = (
        state[AGENT_COLUMN] + ahead * COLUMN_STEP[direction] - aside * COLUMN_STEP[right]
    )
    return (
        origin_row,
        origin_column,
        -ROW_STEP[direction],
        -COLUMN_STEP[direction],
        ROW_STEP[right],
        COLUMN_STEP[right],
    )


@njit(cache=True, inline="always")
def agent_in_view(state: np.ndarray, view: int, view_size: int) -> tuple[int, int]:
    """The view cell the agent stands on."""
    if view == FULL:
        return state[AGENT_ROW], state[AGENT_COLUMN]
    return view_size - 1, view_size // 2


@njit(cache=True, inline="always")
def draw_features(state: np.ndarray, features: np.ndarray) -> None:
    """The one-hot direction, phase (capped at the last) and instruction (none: all zero)."""
    for position in range(features.size):
        features[position] = 0
    features[DIRECTION_FEATURES + state[DIRECTION]] = 1
    features[PHASE_FEATURES + min(state[PHASE], NUM_PHASES - 1)] = 1
    instruction = state[INSTRUCTION]
    if 0 <= instruction < NUM_INSTRUCTIONS:
        features[INSTRUCTION_FEATURES + instruction] = 1


@njit(cache=True, inline="always")
def draw_symbolic(state: np.ndarray, view: int, view_size: int, image: np.ndarray) -> None:
    """The ``(V, V, NUM_CHANNELS)`` bool grid of the view."""
    # An element loop over a flat view: numba's slice assignment costs far more.
    flat = image.reshape(-1)
    for position in range(flat.size):
        flat[position] = False
    origin_row, origin_column, down_row, down_column, right_row, right_column = view_frame(
        state, view, view_size
    )
    for row in range(view_size):
        maze_row = origin_row + row * down_row
        maze_column = origin_column + row * down_column
        for column in range(view_size):
            code = cell_at(state, maze_row, maze_column)
            kind = kind_of(code)
            if kind != FLOOR:
                image[row, column, kind - 1] = True
                if kind != WALL:
                    image[row, column, COLOUR_CHANNELS + colour_of(code)] = True
            maze_row += right_row
            maze_column += right_column
    agent_row, agent_column = agent_in_view(state, view, view_size)
    image[agent_row, agent_column, AGENT_CHANNEL] = True


@njit(cache=True, inline="always")
def paint_view(
    state: np.ndarray,
    view: int,
    view_size: int,
    palette: np.ndarray,
    background: np.ndarray,
    image: np.ndarray,
) -> None:
    """The view's cells painted into ``image`` over ``background``: the agent (white) on top."""
    fill_background(image, background)
    origin_row, origin_column, down_row, down_column, right_row, right_column = view_frame(
        state, view, view_size
    )
    for row in range(view_size):
        maze_row = origin_row + row * down_row
        maze_column = origin_column + row * down_column
        for column in range(view_size):
            code = cell_at(state, maze_row, maze_column)
            kind = kind_of(code)
            if kind != FLOOR:
                colour = palette[kind, colour_of(code)]
                paint_cell(image, row, column, view_size, view_size, colour)
            maze_row += right_row
            maze_column += right_column
    agent_row, agent_column = agent_in_view(state, view, view_size)
    paint_cell(image, agent_row, agent_column, view_size, view_size, palette[NUM_KINDS, 0])


@njit(cache=True, inline="always")
def observe(
    state: np.ndarray,
    pixels_mode: bool,
    view: int,
    view_size: int,
    palette: np.ndarray,
    background: np.ndarray,
    image: np.ndarray,
    pixels: np.ndarray,
    features: np.ndarray,
) -> None:
    """Draw the observation: the symbolic ``image`` or the ``pixels``, and the ``features``."""
    if pixels_mode:
        paint_view(state, view, view_size, palette, background, pixels)
    else:
        draw_symbolic(state, view, view_size, image)
    draw_features(state, features)


@njit(cache=True)
def render_maze(
    state: np.ndarray, palette: np.ndarray, background: np.ndarray, image: np.ndarray
) -> None:
    """The whole maze painted into ``image`` (S x S x 3), the agent's heading notched."""
    size = state[MAZE_SIZE]
    paint_view(state, FULL, size, palette, background, image)
    # The notch: a dark bar along the painted edge faced, a fifth of the cell thick, a third
    # of it long, clear of the cell's centre (tests read colours there).
    height = image.shape[0]
    inset = max(1, height // 64)
    top = state[AGENT_ROW] * height // size + inset
    bottom = (state[AGENT_ROW] + 1) * height // size - inset
    left = state[AGENT_COLUMN] * height // size + inset
    right = (state[AGENT_COLUMN] + 1) * height // size - inset
    thickness = max(1, (bottom - top) // 5)
    length = max(1, (bottom - top) // 3)
    direction = state[DIRECTION]
    if direction in (UP, DOWN):
        start_x = (left + right - length) // 2
        end_x = start_x + length
        start_y = top if direction == UP else bottom - thickness
        end_y = start_y + thickness
    else:
        start_y = (top + bottom - length) // 2
        end_y = start_y + length
        start_x = left if direction == LEFT else right - thickness
        end_x = start_x + thickness
    for y in range(start_y, end_y):
        for x in range(start_x, end_x):
            image[y, x, 0] = _NOTCH_COLOUR[0]
            image[y, x, 1] = _NOTCH_COLOUR[1]
            image[y, x, 2] = _NOTCH_COLOUR[2]
