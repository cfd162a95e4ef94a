"""Breakout: bounce the ball off the paddle on the bottom row to break the wall of bricks above;
a cleared wall is rebuilt."""

from __future__ import annotations

import numpy as np
from numba import njit

from envsuite.minigames.engine import (
    GRID_SIZE,
    LEFT,
    MILLI,
    RIGHT,
    GameDefinition,
    Param,
    thousandths,
)
from envsuite.numba_random import random_below

GAME = GameDefinition(
    name="Breakout",
    rules="Move the paddle left and right to bounce the ball into the bricks: +1 a brick; "
    "a cleared wall is rebuilt; a missed ball costs a life and the game ends with the last one.",
    # The trail is drawn lowest: where the ball just left a rebuilt brick row, the brick shows.
    channels=("trail", "brick", "paddle", "ball"),
    state_size=51,
    params=(
        Param("ball_speed", 0.5, 0.2, 1.0, "cells the ball moves per step (diagonally)"),
        Param("brick_rows", 3, 1, 4, "rows of bricks in the wall, from the second row down"),
        Param("paddle_width", 2, 1, 4, "cells the paddle covers"),
        Param("lives", 3, 1, 9, "missed balls before the game ends"),
        Param("ramp", 0.0, 0.0, 0.05, "ball speed gained per brick broken, up to 1"),
    ),
    variants={
        "fast": {"ball_speed": 0.9},
        "thick_wall": {"brick_rows": 4},
        "narrow": {"paddle_width": 1},
        "ramp": {"ramp": 0.01},
    },
    default_theme="neon",
)
BALL_SPEED, BRICK_ROWS, PADDLE_WIDTH, LIVES, RAMP = range(5)
MAX_BRICK_ROWS = 4
FIRST_BRICK_ROW = 1  # row 0 stays open, so a ball that breaks through rattles along the top
PADDLE_ROW = GRID_SIZE - 1
# State: the paddle's leftmost column; the ball's cell, the cell it moved from (the trail, so one
# frame shows its direction) and its direction (+1 or -1 per axis); its progress towards the next
# move in thousandths of a move; lives left; bricks broken so far (for the ramp) and bricks still
# standing; then one slot per brick cell (1 standing, 0 broken), row by row from FIRST_BRICK_ROW.
(
    PADDLE,
    BALL_ROW,
    BALL_COLUMN,
    TRAIL_ROW,
    TRAIL_COLUMN,
    DIRECTION_ROW,
    DIRECTION_COLUMN,
    PROGRESS,
    LIVES_LEFT,
    BRICKS_BROKEN,
    BRICKS_LEFT,
) = range(11)
BRICKS = 11


@njit(cache=True, inline="always")
def _brick_slot(row: int, column: int) -> int:
    return BRICKS + (row - FIRST_BRICK_ROW) * GRID_SIZE + column


@njit(cache=True, inline="always")
def _is_brick(state: np.ndarray, row: int, column: int) -> bool:
    if row < FIRST_BRICK_ROW or row >= FIRST_BRICK_ROW + MAX_BRICK_ROWS:
        return False
    return state[_brick_slot(row, column)] == 1


@njit(cache=True, inline="always")
def _build_wall(state: np.ndarray, params: np.ndarray) -> None:
    rows = int(params[BRICK_ROWS])
    for row_index in range(MAX_BRICK_ROWS):
        standing = 1 if row_index < rows else 0
        for column in range(GRID_SIZE):
            state[BRICKS + row_index * GRID_SIZE + column] = standing
    state[BRICKS_LEFT] = rows * GRID_SIZE


@njit(cache=True, inline="always")
def _serve(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    """Put a new ball just below the tallest wall, heading down and to a random side."""
    row = FIRST_BRICK_ROW + MAX_BRICK_ROWS
    column = random_below(rng, GRID_SIZE)
    state[BALL_ROW] = row
    state[BALL_COLUMN] = column
    state[TRAIL_ROW] = row
    state[TRAIL_COLUMN] = column
    state[DIRECTION_ROW] = 1
    state[DIRECTION_COLUMN] = 1 if random_below(rng, 2) == 1 else -1
    state[PROGRESS] = 0


@njit(cache=True)
def reset(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    state[:] = 0
    width = int(params[PADDLE_WIDTH])
    state[PADDLE] = random_below(rng, GRID_SIZE - width + 1)
    state[LIVES_LEFT] = int(params[LIVES])
    _build_wall(state, params)
    _serve(state, params, rng)


@njit(cache=True, inline="always")
def _break_brick(state: np.ndarray, row: int, column: int) -> None:
    state[_brick_slot(row, column)] = 0
    state[BRICKS_BROKEN] += 1
    state[BRICKS_LEFT] -= 1


@njit(cache=True, inline="always")
def _move_ball(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> float:
    """Move the ball one cell diagonally, bouncing off walls, bricks and the paddle.

    Returns the bricks broken. A ball that reaches the paddle row past the paddle costs a life
    and a new ball is served.
    """
    row = state[BALL_ROW]
    column = state[BALL_COLUMN]
    direction_row = state[DIRECTION_ROW]
    direction_column = state[DIRECTION_COLUMN]
    if not 0 <= column + direction_column < GRID_SIZE:
        direction_column = -direction_column
    if row + direction_row < 0:
        direction_row = -direction_row
    next_row = row + direction_row
    next_column = column + direction_column
    broken = 0.0
    if _is_brick(state, next_row, next_column):
        # Reflect off the brick's face: the ball turns back vertically and only moves sideways.
        _break_brick(state, next_row, next_column)
        broken += 1.0
        direction_row = -direction_row
        next_row = row
        if _is_brick(state, next_row, next_column):
            # Caught in a corner of two bricks: break that one too and turn back sideways.
            _break_brick(state, next_row, next_column)
            broken += 1.0
            direction_column = -direction_column
            next_column = column
    elif next_row == PADDLE_ROW:
        width = int(params[PADDLE_WIDTH])
        offset = next_column - state[PADDLE]
        if not 0 <= offset < width:
            state[LIVES_LEFT] -= 1
            _serve(state, params, rng)
            return broken
        # Reflect off the paddle; its end cells send the ball off towards their side, so the
        # player can aim.
        direction_row = -1
        next_row = row
        if width > 1 and offset == 0:
            direction_column = -1
        elif width > 1 and offset == width - 1:
            direction_column = 1
    state[TRAIL_ROW] = row
    state[TRAIL_COLUMN] = column
    state[BALL_ROW] = next_row
    state[BALL_COLUMN] = next_column
    state[DIRECTION_ROW] = direction_row
    state[DIRECTION_COLUMN] = direction_column
    return broken


@njit(cache=True)
def step(state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray) -> tuple[float, bool]:
    width = int(params[PADDLE_WIDTH])
    if action == LEFT:
        state[PADDLE] = max(0, state[PADDLE] - 1)
    elif action == RIGHT:
        state[PADDLE] = min(GRID_SIZE - width, state[PADDLE] + 1)
    speed = min(1.0, params[BALL_SPEED] + params[RAMP] * state[BRICKS_BROKEN])
    state[PROGRESS] += thousandths(speed)
    reward = 0.0
    if state[PROGRESS] >= MILLI:
        state[PROGRESS] -= MILLI
        reward = _move_ball(state, params, rng)
    # A cleared wall is rebuilt once the ball is below it, so no brick appears on the ball.
    if state[BRICKS_LEFT] == 0 and state[BALL_ROW] >= FIRST_BRICK_ROW + int(params[BRICK_ROWS]):
        _build_wall(state, params)
    return reward, state[LIVES_LEFT] <= 0


@njit(cache=True)
def draw(state: np.ndarray, params: np.ndarray, grid: np.ndarray) -> None:
    for row_index in range(MAX_BRICK_ROWS):
        for column in range(GRID_SIZE):
            if state[BRICKS + row_index * GRID_SIZE + column] == 1:
                grid[FIRST_BRICK_ROW + row_index, column, 1] = True
    width = int(params[PADDLE_WIDTH])
    for column in range(state[PADDLE], state[PADDLE] + width):
        grid[PADDLE_ROW, column, 2] = True
    grid[state[TRAIL_ROW], state[TRAIL_COLUMN], 0] = True
    grid[state[BALL_ROW], state[BALL_COLUMN], 3] = True
