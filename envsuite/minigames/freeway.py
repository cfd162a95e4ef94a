"""Freeway: lead the chicken up across eight lanes of traffic to the far side, as often as the
clock allows."""

from __future__ import annotations

import numpy as np
from numba import njit

from envsuite.minigames.engine import DOWN, GRID_SIZE, MILLI, UP, GameDefinition, Param, thousandths
from envsuite.numba_random import random_below, uniform

GAME = GameDefinition(
    name="Freeway",
    rules="Move the chicken up and down across eight lanes of cars: +1 each time it reaches the "
    "top (it starts again at the bottom); a car knocks it back down; the game ends on a timer.",
    channels=("trail", "car", "fast_car", "chicken"),
    state_size=35,
    params=(
        Param("min_car_speed", 0.2, 0.05, 2.0, "cells per step of the slowest lane possible"),
        Param("max_car_speed", 0.8, 0.05, 2.0, "cells per step of the fastest lane possible"),
        Param("cars_per_lane", 1, 1, 3, "cars in each lane, evenly spaced"),
        Param("knockback", 2, 1, 9, "rows a hit pushes the chicken back down (9: to the bottom)"),
        Param("duration", 500, 100, 1000, "steps until the game ends"),
        Param("ramp", 0.0, 0.0, 0.2, "cells per step every lane gains per crossing, up to 2"),
    ),
    variants={
        "rush_hour": {"cars_per_lane": 2},
        "fast": {"min_car_speed": 0.6, "max_car_speed": 1.6},
        "harsh": {"knockback": 9},
        "ramp": {"ramp": 0.05},
    },
    default_theme="earth",
)
MIN_CAR_SPEED, MAX_CAR_SPEED, CARS_PER_LANE, KNOCKBACK, DURATION, RAMP = range(6)
NUM_LANES = 8
# State: the chicken's row, steps played, crossings so far (for the ramp); then, per lane, the
# column of its first car, its speed in thousandths of a cell per step, its direction (+1 right,
# -1 left) and its progress towards the next cell in thousandths. Lane ``i`` is grid row ``i + 1``.
CHICKEN_ROW, STEPS, CROSSINGS = range(3)
LANE_COLUMN = 3
LANE_SPEED = LANE_COLUMN + NUM_LANES
LANE_DIRECTION = LANE_SPEED + NUM_LANES
LANE_PROGRESS = LANE_DIRECTION + NUM_LANES
# The chicken keeps to one column, as in the arcade game; only up and down move it.
CHICKEN_COLUMN = 4
START_ROW = GRID_SIZE - 1
GOAL_ROW = 0
# Cars drawn on the fast_car channel too: a cell or more per step, so they may jump two cells.
_FAST_MILLI = 1000
_MAX_SPEED_MILLI = 2000


@njit(cache=True, inline="always")
def _car_column(state: np.ndarray, lane: int, car: int, cars_per_lane: int) -> int:
    """The column of car ``car`` of ``lane``: the lane's cars keep even gaps and wrap around."""
    return (state[LANE_COLUMN + lane] + car * GRID_SIZE // cars_per_lane) % GRID_SIZE


@njit(cache=True, inline="always")
def _lane_speed(state: np.ndarray, lane: int, params: np.ndarray) -> int:
    """The lane's speed now, in thousandths of a cell per step, the ramp included."""
    gain = thousandths(params[RAMP]) * state[CROSSINGS]
    return min(_MAX_SPEED_MILLI, state[LANE_SPEED + lane] + gain)


@njit(cache=True, inline="always")
def _chicken_is_hit(state: np.ndarray, cars_per_lane: int) -> bool:
    row = state[CHICKEN_ROW]
    if row < 1 or row > NUM_LANES:
        return False  # the pavements at the top and bottom are safe
    for car in range(cars_per_lane):
        if _car_column(state, row - 1, car, cars_per_lane) == CHICKEN_COLUMN:
            return True
    return False


@njit(cache=True)
def reset(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    state[:] = 0
    state[CHICKEN_ROW] = START_ROW
    low, high = params[MIN_CAR_SPEED], params[MAX_CAR_SPEED]
    for lane in range(NUM_LANES):
        # low + u * (high - low) stays between the two even if a sequence sets them reversed.
        speed = low + (high - low) * uniform(rng)
        state[LANE_SPEED + lane] = thousandths(speed)
        state[LANE_DIRECTION + lane] = 1 if random_below(rng, 2) == 0 else -1
        state[LANE_COLUMN + lane] = random_below(rng, GRID_SIZE)


@njit(cache=True)
def step(state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray) -> tuple[float, bool]:
    cars_per_lane = int(params[CARS_PER_LANE])
    reward = 0.0
    if action == UP:
        state[CHICKEN_ROW] -= 1
        if state[CHICKEN_ROW] == GOAL_ROW:
            reward = 1.0
            state[CROSSINGS] += 1
            state[CHICKEN_ROW] = START_ROW
    elif action == DOWN:
        state[CHICKEN_ROW] = min(START_ROW, state[CHICKEN_ROW] + 1)
    # Walking into a car hits as surely as a car driving into the chicken; checking both before
    # and after the cars move also means no car can slip past the chicken unseen.
    hit = _chicken_is_hit(state, cars_per_lane)
    for lane in range(NUM_LANES):
        state[LANE_PROGRESS + lane] += _lane_speed(state, lane, params)
        # A fast car moves two cells in a step, one at a time, so it cannot jump the chicken.
        while state[LANE_PROGRESS + lane] >= MILLI:
            state[LANE_PROGRESS + lane] -= MILLI
            column = state[LANE_COLUMN + lane] + state[LANE_DIRECTION + lane]
            state[LANE_COLUMN + lane] = column % GRID_SIZE
            if lane == state[CHICKEN_ROW] - 1:
                hit = hit or _chicken_is_hit(state, cars_per_lane)
    if hit:
        state[CHICKEN_ROW] = min(START_ROW, state[CHICKEN_ROW] + int(params[KNOCKBACK]))
    state[STEPS] += 1
    return reward, state[STEPS] >= int(params[DURATION])


@njit(cache=True)
def draw(state: np.ndarray, params: np.ndarray, grid: np.ndarray) -> None:
    cars_per_lane = int(params[CARS_PER_LANE])
    for lane in range(NUM_LANES):
        row = lane + 1
        fast = _lane_speed(state, lane, params) >= _FAST_MILLI
        behind = -state[LANE_DIRECTION + lane]
        for car in range(cars_per_lane):
            column = _car_column(state, lane, car, cars_per_lane)
            # The cell a car just left shows which way it drives.
            grid[row, (column + behind) % GRID_SIZE, 0] = True
            grid[row, column, 1] = True
            if fast:
                grid[row, column, 2] = True
    grid[state[CHICKEN_ROW], CHICKEN_COLUMN, 3] = True
