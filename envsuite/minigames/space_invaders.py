"""SpaceInvaders: a cannon on the bottom row shoots down a marching block of aliens that fires
back; each cleared wave brings a faster one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envsuite.minigames.engine import (
    FIRE,
    GRID_SIZE,
    LEFT,
    MILLI,
    RIGHT,
    GameDefinition,
    Param,
    thousandths,
)
from envsuite.numba_random import random_below, uniform

GAME = GameDefinition(
    name="SpaceInvaders",
    rules="Move the cannon left and right and fire at the marching aliens: +1 an alien; "
    "an alien bullet costs a life, and the game ends with the last one or when the aliens "
    "reach the cannon's row; a cleared wave brings a faster one.",
    channels=("cannon", "alien", "alien_left", "alien_right", "friendly_bullet", "enemy_bullet"),
    state_size=26,
    params=(
        Param("march_speed", 0.25, 0.05, 1.0, "cells the alien block marches per step"),
        Param("fire_rate", 0.1, 0.0, 0.5, "chance per step that an alien fires"),
        Param("shot_cooldown", 3, 1, 10, "steps between the cannon's shots (4 in flight at most)"),
        Param("lives", 3, 1, 9, "alien bullets taken before the game ends"),
        Param("wave_speedup", 0.05, 0.0, 0.3, "march speed gained with each new wave, up to 1"),
        Param("ramp", 0.0, 0.0, 0.05, "march speed gained per alien hit, up to 1"),
    ),
    variants={
        "fast": {"march_speed": 0.4},
        "barrage": {"fire_rate": 0.3},
        "rapid_fire": {"shot_cooldown": 1},
        "ramp": {"ramp": 0.01},
    },
    default_theme="neon",
)
MARCH_SPEED, FIRE_RATE, SHOT_COOLDOWN, LIVES, WAVE_SPEEDUP, RAMP = range(6)

ALIEN_ROWS = 4
ALIEN_COLUMNS = 6
FULL_WAVE = (1 << (ALIEN_ROWS * ALIEN_COLUMNS)) - 1
# A new wave starts on the top rows, centred, so it has two columns of room either side.
WAVE_LEFT = (GRID_SIZE - ALIEN_COLUMNS) // 2
CANNON_ROW = GRID_SIZE - 1
BULLET_SLOTS = 4
EMPTY = -1  # the row of an unused bullet slot

# State: the cannon's column and steps until it may fire again; lives left; the living aliens as
# a bitmask (bit row * ALIEN_COLUMNS + column of the block) with the block's top-left cell, its
# march direction (-1 or +1) and march progress in thousandths of a cell; aliens hit and waves
# cleared so far (for the speed-ups); then (row, column) slots of friendly and enemy bullets.
(
    CANNON,
    COOLDOWN,
    LIVES_LEFT,
    ALIENS,
    ALIEN_TOP,
    ALIEN_LEFT,
    DIRECTION,
    PROGRESS,
    KILLS,
    WAVE,
) = range(10)
FRIENDLY_BULLETS = 10
ENEMY_BULLETS = FRIENDLY_BULLETS + 2 * BULLET_SLOTS


@njit(cache=True, inline="always")
def _is_alive(state: np.ndarray, block_row: int, block_column: int) -> bool:
    return ((state[ALIENS] >> (block_row * ALIEN_COLUMNS + block_column)) & 1) == 1


@njit(cache=True, inline="always")
def _hit_alien_at(state: np.ndarray, row: int, column: int) -> bool:
    """Kill the living alien on grid cell (row, column), if there is one."""
    block_row = row - state[ALIEN_TOP]
    block_column = column - state[ALIEN_LEFT]
    if not (0 <= block_row < ALIEN_ROWS and 0 <= block_column < ALIEN_COLUMNS):
        return False
    if not _is_alive(state, block_row, block_column):
        return False
    state[ALIENS] &= ~(1 << (block_row * ALIEN_COLUMNS + block_column))
    state[KILLS] += 1
    return True


@njit(cache=True, inline="always")
def _new_wave(state: np.ndarray) -> None:
    state[ALIENS] = FULL_WAVE
    state[ALIEN_TOP] = 0
    state[ALIEN_LEFT] = WAVE_LEFT
    state[PROGRESS] = 0


@njit(cache=True)
def reset(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    state[:] = 0
    state[CANNON] = random_below(rng, GRID_SIZE)
    state[LIVES_LEFT] = int(params[LIVES])
    _new_wave(state)
    state[DIRECTION] = 1 if random_below(rng, 2) == 1 else -1
    for slot in range(2 * BULLET_SLOTS):
        state[FRIENDLY_BULLETS + 2 * slot] = EMPTY


@njit(cache=True, inline="always")
def _march_speed(state: np.ndarray, params: np.ndarray) -> float:
    speed = params[MARCH_SPEED] + params[WAVE_SPEEDUP] * state[WAVE] + params[RAMP] * state[KILLS]
    return min(1.0, speed)


@njit(cache=True, inline="always")
def _march(state: np.ndarray) -> None:
    """Move the block one column its way, or one row down and about turn at a wall.

    Only living aliens count for the wall, so a thinned block sweeps further.
    """
    leftmost, rightmost = ALIEN_COLUMNS, -1
    for block_column in range(ALIEN_COLUMNS):
        for block_row in range(ALIEN_ROWS):
            if _is_alive(state, block_row, block_column):
                leftmost = min(leftmost, block_column)
                rightmost = max(rightmost, block_column)
    direction = state[DIRECTION]
    if direction > 0:
        at_wall = state[ALIEN_LEFT] + rightmost >= GRID_SIZE - 1
    else:
        at_wall = state[ALIEN_LEFT] + leftmost <= 0
    if at_wall:
        state[ALIEN_TOP] += 1
        state[DIRECTION] = -direction
    else:
        state[ALIEN_LEFT] += direction


@njit(cache=True, inline="always")
def _lowest_alien_row(state: np.ndarray, block_column: int) -> int:
    """Grid row of the lowest living alien of a block column, or -1 if the column is empty."""
    for block_row in range(ALIEN_ROWS - 1, -1, -1):
        if _is_alive(state, block_row, block_column):
            return state[ALIEN_TOP] + block_row
    return -1


@njit(cache=True, inline="always")
def _alien_fires(state: np.ndarray, rng: np.ndarray) -> None:
    """The lowest alien of a random non-empty column drops a bullet, if a slot is free."""
    free_slot = -1
    for slot in range(BULLET_SLOTS):
        if state[ENEMY_BULLETS + 2 * slot] == EMPTY:
            free_slot = slot
            break
    if free_slot < 0:
        return
    living_columns = 0
    for block_column in range(ALIEN_COLUMNS):
        if _lowest_alien_row(state, block_column) >= 0:
            living_columns += 1
    if living_columns == 0:
        return
    chosen = random_below(rng, living_columns)
    for block_column in range(ALIEN_COLUMNS):
        row = _lowest_alien_row(state, block_column)
        if row < 0:
            continue
        if chosen == 0:
            # Aliens already beside the cannon have nowhere to drop a bullet.
            if row + 1 < CANNON_ROW:
                state[ENEMY_BULLETS + 2 * free_slot] = row + 1
                state[ENEMY_BULLETS + 2 * free_slot + 1] = state[ALIEN_LEFT] + block_column
            return
        chosen -= 1


@njit(cache=True)
def step(state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray) -> tuple[float, bool]:
    if action == LEFT:
        state[CANNON] = max(0, state[CANNON] - 1)
    elif action == RIGHT:
        state[CANNON] = min(GRID_SIZE - 1, state[CANNON] + 1)
    if state[COOLDOWN] > 0:
        state[COOLDOWN] -= 1
    if action == FIRE and state[COOLDOWN] == 0:
        for slot in range(BULLET_SLOTS):
            if state[FRIENDLY_BULLETS + 2 * slot] == EMPTY:
                # Launched from the cannon's own cell; the flight below lifts it a row at once.
                state[FRIENDLY_BULLETS + 2 * slot] = CANNON_ROW
                state[FRIENDLY_BULLETS + 2 * slot + 1] = state[CANNON]
                state[COOLDOWN] = int(params[SHOT_COOLDOWN])
                break

    reward = 0.0
    for slot in range(BULLET_SLOTS):
        row_index = FRIENDLY_BULLETS + 2 * slot
        if state[row_index] == EMPTY:
            continue
        state[row_index] -= 1
        if state[row_index] < 0:
            state[row_index] = EMPTY
        elif _hit_alien_at(state, state[row_index], state[row_index + 1]):
            reward += 1.0
            state[row_index] = EMPTY

    for slot in range(BULLET_SLOTS):
        row_index = ENEMY_BULLETS + 2 * slot
        if state[row_index] == EMPTY:
            continue
        state[row_index] += 1
        if state[row_index] == CANNON_ROW:
            if state[row_index + 1] == state[CANNON]:
                state[LIVES_LEFT] -= 1
            # A bullet on the cannon's row has either hit or missed: it leaves the screen.
            state[row_index] = EMPTY

    state[PROGRESS] += thousandths(_march_speed(state, params))
    if state[PROGRESS] >= MILLI:
        state[PROGRESS] -= MILLI
        _march(state)
        # Aliens can march into a friendly bullet as well as be flown into.
        for slot in range(BULLET_SLOTS):
            row_index = FRIENDLY_BULLETS + 2 * slot
            if state[row_index] != EMPTY and _hit_alien_at(
                state, state[row_index], state[row_index + 1]
            ):
                reward += 1.0
                state[row_index] = EMPTY

    if state[ALIENS] == 0:
        state[WAVE] += 1
        _new_wave(state)
    elif uniform(rng) < params[FIRE_RATE]:
        _alien_fires(state, rng)

    invaded = False
    for block_column in range(ALIEN_COLUMNS):
        if _lowest_alien_row(state, block_column) >= CANNON_ROW:
            invaded = True
    return reward, invaded or state[LIVES_LEFT] <= 0


@njit(cache=True)
def draw(state: np.ndarray, params: np.ndarray, grid: np.ndarray) -> None:
    grid[CANNON_ROW, state[CANNON], 0] = True
    # The direction channels show which way the block marches within a single frame.
    direction_channel = 2 if state[DIRECTION] < 0 else 3
    for block_row in range(ALIEN_ROWS):
        row = state[ALIEN_TOP] + block_row
        if row >= GRID_SIZE:
            break
        for block_column in range(ALIEN_COLUMNS):
            if _is_alive(state, block_row, block_column):
                column = state[ALIEN_LEFT] + block_column
                grid[row, column, 1] = True
                grid[row, column, direction_channel] = True
    for slot in range(BULLET_SLOTS):
        row = state[FRIENDLY_BULLETS + 2 * slot]
        if row != EMPTY:
            grid[row, state[FRIENDLY_BULLETS + 2 * slot + 1], 4] = True
        row = state[ENEMY_BULLETS + 2 * slot]
        if row != EMPTY:
            grid[row, state[ENEMY_BULLETS + 2 * slot + 1], 5] = True
