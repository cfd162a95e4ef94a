"""Asterix: roam eight lanes collecting the treasures that drift across while dodging the enemies
that drift with them."""

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
from envsuite.numba_random import random_below, uniform

GAME = GameDefinition(
    name="Asterix",
    rules="Move in four directions among enemies and treasures crossing eight lanes: +1 a "
    "treasure; touching an enemy costs a life and the game ends with the last one.",
    channels=("trail", "enemy", "treasure", "player"),
    state_size=36,
    params=(
        Param("object_speed", 0.5, 0.1, 1.0, "cells per step enemies and treasures move"),
        Param("spawn_rate", 0.3, 0.02, 1.0, "chance per step that a new object enters a lane"),
        Param("treasure_probability", 0.4, 0.0, 1.0, "chance that a new object is a treasure"),
        Param("lives", 3, 1, 9, "enemies touched before the game ends"),
        Param("ramp", 0.0, 0.0, 0.5, "fraction speed and spawn rate gain per 100 steps, up to 1"),
    ),
    variants={
        "fast": {"object_speed": 0.9},
        "swarm": {"spawn_rate": 0.6, "treasure_probability": 0.3},
        "fragile": {"lives": 1},
        "ramp": {"ramp": 0.2},
    },
    default_theme="pastel",
)
OBJECT_SPEED, SPAWN_RATE, TREASURE_PROBABILITY, LIVES, RAMP = range(5)
NUM_LANES = 8
# What a lane holds: one object at a time, as in the arcade game.
EMPTY, ENEMY, TREASURE = range(3)
# State: the player's cell, lives left, steps played (for the ramp); then, per lane, what it
# holds, that object's column, its direction (+1 right, -1 left) and its progress towards the
# next cell in thousandths. Lane ``i`` is grid row ``i + 1``.
PLAYER_ROW, PLAYER_COLUMN, LIVES_LEFT, STEPS = range(4)
OBJECT_KIND = 4
OBJECT_COLUMN = OBJECT_KIND + NUM_LANES
OBJECT_DIRECTION = OBJECT_COLUMN + NUM_LANES
OBJECT_PROGRESS = OBJECT_DIRECTION + NUM_LANES
# The player keeps to the lanes, rows 1 to 8.
TOP_ROW, BOTTOM_ROW = 1, NUM_LANES
_RAMP_STEPS = 100


@njit(cache=True, inline="always")
def _ramp_factor(state: np.ndarray, params: np.ndarray) -> float:
    return 1.0 + params[RAMP] * state[STEPS] / _RAMP_STEPS


@njit(cache=True, inline="always")
def _touch(state: np.ndarray) -> float:
    """Resolve the player touching the object of its lane, if any; the reward it brings."""
    lane = state[PLAYER_ROW] - 1
    kind = state[OBJECT_KIND + lane]
    if kind == EMPTY or state[OBJECT_COLUMN + lane] != state[PLAYER_COLUMN]:
        return 0.0
    state[OBJECT_KIND + lane] = EMPTY
    if kind == TREASURE:
        return 1.0
    state[LIVES_LEFT] -= 1
    return 0.0


@njit(cache=True, inline="always")
def _spawn(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    """Maybe send a new object into a free lane from its left or right edge."""
    if uniform(rng) >= min(1.0, params[SPAWN_RATE] * _ramp_factor(state, params)):
        return
    free_lanes = 0
    for lane in range(NUM_LANES):
        free_lanes += state[OBJECT_KIND + lane] == EMPTY
    if free_lanes == 0:
        return  # every lane is busy; the arcade game never stacks two objects in a lane
    # The chosen lane is the pick-th free one, so busy lanes do not thin out the spawn rate.
    pick = random_below(rng, free_lanes)
    lane = 0
    while state[OBJECT_KIND + lane] != EMPTY or pick > 0:
        if state[OBJECT_KIND + lane] == EMPTY:
            pick -= 1
        lane += 1
    direction = 1 if random_below(rng, 2) == 0 else -1
    column = 0 if direction == 1 else GRID_SIZE - 1
    if lane + 1 == state[PLAYER_ROW] and column == state[PLAYER_COLUMN]:
        return  # appearing on the player would hit it unseen
    state[OBJECT_KIND + lane] = TREASURE if uniform(rng) < params[TREASURE_PROBABILITY] else ENEMY
    state[OBJECT_COLUMN + lane] = column
    state[OBJECT_DIRECTION + lane] = direction
    state[OBJECT_PROGRESS + lane] = 0


@njit(cache=True)
def reset(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    state[:] = 0
    state[PLAYER_ROW] = TOP_ROW + random_below(rng, NUM_LANES)
    state[PLAYER_COLUMN] = random_below(rng, GRID_SIZE)
    state[LIVES_LEFT] = int(params[LIVES])


@njit(cache=True)
def step(state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray) -> tuple[float, bool]:
    if action == UP:
        state[PLAYER_ROW] = max(TOP_ROW, state[PLAYER_ROW] - 1)
    elif action == DOWN:
        state[PLAYER_ROW] = min(BOTTOM_ROW, state[PLAYER_ROW] + 1)
    elif action == LEFT:
        state[PLAYER_COLUMN] = max(0, state[PLAYER_COLUMN] - 1)
    elif action == RIGHT:
        state[PLAYER_COLUMN] = min(GRID_SIZE - 1, state[PLAYER_COLUMN] + 1)
    # Touching is checked both after the player moves and after the objects move, so the two
    # can never swap cells without meeting.
    reward = _touch(state)
    speed = thousandths(min(1.0, params[OBJECT_SPEED] * _ramp_factor(state, params)))
    for lane in range(NUM_LANES):
        if state[OBJECT_KIND + lane] == EMPTY:
            continue
        state[OBJECT_PROGRESS + lane] += speed
        if state[OBJECT_PROGRESS + lane] >= MILLI:
            state[OBJECT_PROGRESS + lane] -= MILLI
            column = state[OBJECT_COLUMN + lane] + state[OBJECT_DIRECTION + lane]
            if 0 <= column < GRID_SIZE:
                state[OBJECT_COLUMN + lane] = column
            else:
                state[OBJECT_KIND + lane] = EMPTY  # it left the screen
    reward += _touch(state)
    _spawn(state, params, rng)
    state[STEPS] += 1
    return reward, state[LIVES_LEFT] <= 0


@njit(cache=True)
def draw(state: np.ndarray, params: np.ndarray, grid: np.ndarray) -> None:
    for lane in range(NUM_LANES):
        kind = state[OBJECT_KIND + lane]
        if kind == EMPTY:
            continue
        row = lane + 1
        column = state[OBJECT_COLUMN + lane]
        # The cell an object just left shows which way it drifts (none yet at its entry edge).
        behind = column - state[OBJECT_DIRECTION + lane]
        if 0 <= behind < GRID_SIZE:
            grid[row, behind, 0] = True
        grid[row, column, 1 if kind == ENEMY else 2] = True
    grid[state[PLAYER_ROW], state[PLAYER_COLUMN], 3] = True
