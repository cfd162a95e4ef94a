"""Catch: move the paddle along the bottom row to catch the fruit falling from the top."""

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
    name="Catch",
    rules="Move the paddle left and right to catch falling fruit: +1 a catch; "
    "a miss costs a life and the game ends with the last one.",
    channels=("paddle", "fruit"),
    state_size=6,
    params=(
        Param("fruit_speed", 0.5, 0.1, 1.0, "rows a fruit falls per step"),
        Param("paddle_width", 2, 1, 4, "cells the paddle covers"),
        Param("lives", 3, 1, 9, "misses before the game ends"),
        Param("ramp", 0.0, 0.0, 0.2, "fruit speed gained per catch, up to 1"),
    ),
    variants={
        "wide": {"paddle_width": 4},
        "fast": {"fruit_speed": 0.9},
        "ramp": {"ramp": 0.05},
    },
    default_theme="classic",
)
FRUIT_SPEED, PADDLE_WIDTH, LIVES, RAMP = range(4)
# State: the paddle's leftmost column, the fruit's cell, the fall progress in thousandths of a
# row, lives left, and catches so far (for the ramp).
PADDLE, FRUIT_ROW, FRUIT_COLUMN, PROGRESS, LIVES_LEFT, CATCHES = range(6)


@njit(cache=True, inline="always")
def _drop_fruit(state: np.ndarray, rng: np.ndarray) -> None:
    state[FRUIT_ROW] = 0
    state[FRUIT_COLUMN] = random_below(rng, GRID_SIZE)
    state[PROGRESS] = 0


@njit(cache=True)
def reset(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    state[:] = 0
    width = int(params[PADDLE_WIDTH])
    state[PADDLE] = random_below(rng, GRID_SIZE - width + 1)
    state[LIVES_LEFT] = int(params[LIVES])
    _drop_fruit(state, rng)


@njit(cache=True)
def step(state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray) -> tuple[float, bool]:
    width = int(params[PADDLE_WIDTH])
    if action == LEFT:
        state[PADDLE] = max(0, state[PADDLE] - 1)
    elif action == RIGHT:
        state[PADDLE] = min(GRID_SIZE - width, state[PADDLE] + 1)
    speed = min(1.0, params[FRUIT_SPEED] + params[RAMP] * state[CATCHES])
    state[PROGRESS] += thousandths(speed)
    reward = 0.0
    if state[PROGRESS] >= MILLI:
        state[PROGRESS] -= MILLI
        state[FRUIT_ROW] += 1
        if state[FRUIT_ROW] == GRID_SIZE - 1:
            caught = state[PADDLE] <= state[FRUIT_COLUMN] < state[PADDLE] + width
            if caught:
                reward = 1.0
                state[CATCHES] += 1
            else:
                state[LIVES_LEFT] -= 1
            _drop_fruit(state, rng)
    return reward, state[LIVES_LEFT] <= 0


@njit(cache=True)
def draw(state: np.ndarray, params: np.ndarray, grid: np.ndarray) -> None:
    width = int(params[PADDLE_WIDTH])
    for column in range(state[PADDLE], state[PADDLE] + width):
        grid[GRID_SIZE - 1, column, 0] = True
    grid[state[FRUIT_ROW], state[FRUIT_COLUMN], 1] = True
