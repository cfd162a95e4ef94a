"""Snake: steer a growing snake to the food on the grid without running into a wall, an obstacle
or its own body."""

from __future__ import annotations

import numpy as np
from numba import njit

from envsuite.minigames.engine import (
    DOWN,
    GRID_SIZE,
    LEFT,
    MILLI,
    RIGHT,
    UP,
    GameDefinition,
    Param,
    thousandths,
)
from envsuite.numba_random import random_below

GAME = GameDefinition(
    name="Snake",
    rules="Turn the snake up, down, left and right to eat food: +1 a food, and the snake grows; "
    "the game ends when it runs into the edge, an obstacle or itself.",
    channels=("obstacle", "food", "body", "head"),
    state_size=218,
    params=(
        Param("move_speed", 0.5, 0.2, 1.0, "cells the snake moves per step"),
        Param("growth", 1, 1, 4, "cells the snake grows per food eaten"),
        Param("food", 1, 1, 3, "food items on the grid at once"),
        Param("obstacles", 0, 0, 8, "obstacle cells placed at reset, never walling a cell off"),
        Param("ramp", 0.0, 0.0, 0.1, "move speed gained per food eaten, up to 1"),
    ),
    variants={
        "fast": {"move_speed": 1.0},
        "long": {"growth": 3},
        "feast": {"food": 3},
        "obstacles": {"obstacles": 6},
        "ramp": {"ramp": 0.03},
    },
    default_theme="night",
)
MOVE_SPEED, GROWTH, FOOD, OBSTACLES, RAMP = range(5)
NUM_CELLS = GRID_SIZE * GRID_SIZE
START_LENGTH = 3
MAX_FOOD = 3
MAX_OBSTACLES = 8
# What a board slot holds.
EMPTY, OBSTACLE, FOOD_ITEM, SNAKE = range(4)
# State: the direction the snake last moved and the one it turns to at its next move (as the
# actions UP, DOWN, LEFT, RIGHT); progress towards the next move in thousandths of a move; the
# ring slot of the head, the snake's length and the cells it has yet to grow; food eaten so far
# (for the ramp). Then the cells (row * GRID_SIZE + column, -1 for none) of the food and of the
# obstacles; then the board, one slot per cell holding EMPTY, OBSTACLE, FOOD_ITEM or SNAKE, for
# collisions in one look; then the body as a ring of cells, the head at ring slot HEAD and the
# tail LENGTH - 1 slots behind it. Drawing reads the lists, not the whole board.
DIRECTION, NEXT_DIRECTION, PROGRESS, HEAD, LENGTH, PENDING_GROWTH, FOOD_EATEN = range(7)
FOOD_CELLS = 7
OBSTACLE_CELLS = FOOD_CELLS + MAX_FOOD
BOARD = OBSTACLE_CELLS + MAX_OBSTACLES
BODY = BOARD + NUM_CELLS
_FOOD_DRAWS = 4
_OBSTACLE_ATTEMPTS = 20  # tries per obstacle; a crowded board gets fewer obstacles, not a hang


@njit(cache=True, inline="always")
def _row_step(direction: int) -> int:
    return -1 if direction == UP else 1 if direction == DOWN else 0


@njit(cache=True, inline="always")
def _column_step(direction: int) -> int:
    return -1 if direction == LEFT else 1 if direction == RIGHT else 0


@njit(cache=True, inline="always")
def _opposite(direction: int) -> int:
    if direction == UP:
        return DOWN
    if direction == DOWN:
        return UP
    if direction == LEFT:
        return RIGHT
    return LEFT


@njit(cache=True, inline="always")
def _cell_at_ring(state: np.ndarray, offset_behind_head: int) -> int:
    return state[BODY + (state[HEAD] - offset_behind_head) % NUM_CELLS]


@njit(cache=True, inline="always")
def _place_food(state: np.ndarray, rng: np.ndarray) -> int:
    """Put one food on a uniformly chosen empty cell; returns the cell (-1: the board is full)."""
    # A few blind draws find an empty cell at once on all but a crowded board; only then count.
    for _attempt in range(_FOOD_DRAWS):
        cell = random_below(rng, NUM_CELLS)
        if state[BOARD + cell] == EMPTY:
            state[BOARD + cell] = FOOD_ITEM
            return cell
    empty = 0
    for cell in range(NUM_CELLS):
        if state[BOARD + cell] == EMPTY:
            empty += 1
    if empty == 0:
        return -1
    chosen = random_below(rng, empty)
    for cell in range(NUM_CELLS):
        if state[BOARD + cell] == EMPTY:
            if chosen == 0:
                state[BOARD + cell] = FOOD_ITEM
                return cell
            chosen -= 1
    return -1


@njit(cache=True, inline="always")
def _obstacle_fits(state: np.ndarray, row: int, column: int, snake_row: int) -> bool:
    """Obstacles keep off the border, the snake's starting row and each other's neighbourhood
    (diagonals included): then every free cell stays reachable from every other."""
    if row == snake_row:
        return False
    if not (1 <= row < GRID_SIZE - 1 and 1 <= column < GRID_SIZE - 1):
        return False
    for near_row in range(row - 1, row + 2):
        for near_column in range(column - 1, column + 2):
            if state[BOARD + near_row * GRID_SIZE + near_column] != EMPTY:
                return False
    return True


@njit(cache=True)
def reset(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    state[:] = 0
    # A short snake across the middle columns of a row away from the edges (a turn there would
    # end the game at once), heading to the far side.
    row = 2 + random_below(rng, GRID_SIZE - 4)
    direction = RIGHT if random_below(rng, 2) == 1 else LEFT
    head_column = GRID_SIZE // 2 if direction == RIGHT else GRID_SIZE // 2 - 1
    for index in range(START_LENGTH):
        # Ring slots 0 .. START_LENGTH - 1 run from the tail to the head.
        column = head_column - _column_step(direction) * (START_LENGTH - 1 - index)
        cell = row * GRID_SIZE + column
        state[BODY + index] = cell
        state[BOARD + cell] = SNAKE
    state[HEAD] = START_LENGTH - 1
    state[LENGTH] = START_LENGTH
    state[DIRECTION] = direction
    state[NEXT_DIRECTION] = direction
    state[FOOD_CELLS:BOARD] = -1
    for slot in range(int(params[OBSTACLES])):
        for _attempt in range(_OBSTACLE_ATTEMPTS):
            cell = random_below(rng, NUM_CELLS)
            if _obstacle_fits(state, cell // GRID_SIZE, cell % GRID_SIZE, row):
                state[BOARD + cell] = OBSTACLE
                state[OBSTACLE_CELLS + slot] = cell
                break
    for slot in range(int(params[FOOD])):
        state[FOOD_CELLS + slot] = _place_food(state, rng)


@njit(cache=True, inline="always")
def _move(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> tuple[float, bool]:
    """Move the snake one cell; returns the reward and whether it crashed."""
    direction = state[NEXT_DIRECTION]
    state[DIRECTION] = direction
    head = _cell_at_ring(state, 0)
    row = head // GRID_SIZE + _row_step(direction)
    column = head % GRID_SIZE + _column_step(direction)
    if not (0 <= row < GRID_SIZE and 0 <= column < GRID_SIZE):
        return 0.0, True
    # The tail leaves its cell in this same move unless the snake is growing, so the head may
    # follow right behind it.
    growing = state[PENDING_GROWTH] > 0
    tail = _cell_at_ring(state, state[LENGTH] - 1)
    cell = row * GRID_SIZE + column
    content = state[BOARD + cell]
    if content == OBSTACLE or (content == SNAKE and (growing or cell != tail)):
        return 0.0, True
    if growing:
        state[PENDING_GROWTH] -= 1
        state[LENGTH] += 1
    else:
        state[BOARD + tail] = EMPTY
    state[HEAD] = (state[HEAD] + 1) % NUM_CELLS
    state[BODY + state[HEAD]] = cell
    state[BOARD + cell] = SNAKE
    if content == FOOD_ITEM:
        state[FOOD_EATEN] += 1
        state[PENDING_GROWTH] += int(params[GROWTH])
        for slot in range(FOOD_CELLS, FOOD_CELLS + MAX_FOOD):
            if state[slot] == cell:
                state[slot] = _place_food(state, rng)
        return 1.0, False
    return 0.0, False


@njit(cache=True)
def step(state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray) -> tuple[float, bool]:
    # Turning back into the neck is ignored; the check is against the direction last moved, so
    # two quick turns between moves cannot fold the snake onto itself either.
    turn = action in (UP, DOWN, LEFT, RIGHT)
    if turn and action != _opposite(state[DIRECTION]):
        state[NEXT_DIRECTION] = action
    speed = min(1.0, params[MOVE_SPEED] + params[RAMP] * state[FOOD_EATEN])
    state[PROGRESS] += thousandths(speed)
    if state[PROGRESS] < MILLI:
        return 0.0, False
    state[PROGRESS] -= MILLI
    return _move(state, params, rng)


@njit(cache=True, inline="always")
def _draw_cell(grid: np.ndarray, cell: int, channel: int) -> None:
    if cell >= 0:
        grid[cell // GRID_SIZE, cell % GRID_SIZE, channel] = True


@njit(cache=True)
def draw(state: np.ndarray, params: np.ndarray, grid: np.ndarray) -> None:
    for slot in range(OBSTACLE_CELLS, OBSTACLE_CELLS + MAX_OBSTACLES):
        _draw_cell(grid, state[slot], 0)
    for slot in range(FOOD_CELLS, FOOD_CELLS + MAX_FOOD):
        _draw_cell(grid, state[slot], 1)
    for offset in range(1, state[LENGTH]):
        _draw_cell(grid, _cell_at_ring(state, offset), 2)
    _draw_cell(grid, _cell_at_ring(state, 0), 3)
