"""A privileged policy for tests and baselines: ``oracle_action(env)`` walks the shortest path to
the task's current target, read from the env's state (never from its observation).

A task module may define ``oracle_target(state, params) -> (row, column)``: the cell to reach
now, or (-1, -1) to turn in place (e.g. while something is shown); without one, the target is
the goal square. A walkable target is walked onto; a key or locked door is faced and
interacted with; anything else (a dancer) is faced and walked into.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from envsuite.navigation.cells import DOOR_LOCKED, GOAL, KEY, is_walkable, kind_of
from envsuite.navigation.engine import (
    AGENT_COLUMN,
    AGENT_ROW,
    COLUMN_STEP,
    DIRECTION,
    FORWARD,
    INTERACT,
    MAZE_SIZE,
    NUM_DIRECTIONS,
    ROW_STEP,
    TURN_LEFT,
    TURN_RIGHT,
    cell_at,
    maze_cells,
)
from envsuite.navigation.maze import MAX_SIZE, distances_to
from envsuite.navigation.tasks import TASK_MODULES


@njit(cache=True)
def find_kind(state: np.ndarray, kind: int) -> tuple[int, int]:
    """The first cell (row-major) holding a ``kind`` thing; (-1, -1) if none."""
    size = state[MAZE_SIZE]
    for row in range(size):
        for column in range(size):
            if kind_of(cell_at(state, row, column)) == kind:
                return row, column
    return -1, -1


@njit(cache=True)
def action_towards(state: np.ndarray, row: int, column: int, distances: np.ndarray) -> int:
    """The first action of a shortest way to reach (``row``, ``column``): onto it when it is
    walkable, else facing it and then interacting (keys, locked doors) or walking into it.
    Turns left when the target cannot be reached."""
    agent_row, agent_column = state[AGENT_ROW], state[AGENT_COLUMN]
    if row < 0:
        return TURN_LEFT
    distances_to(maze_cells(state), state[MAZE_SIZE], row, column, distances)
    here = distances[agent_row, agent_column]
    if here <= 0:
        return TURN_LEFT
    # Prefer the direction faced, then right, behind, left: fewest turns first.
    for turn in (0, 1, 3, 2):
        direction = (state[DIRECTION] + turn) % NUM_DIRECTIONS
        next_row = agent_row + ROW_STEP[direction]
        next_column = agent_column + COLUMN_STEP[direction]
        if not (0 <= next_row < MAX_SIZE and 0 <= next_column < MAX_SIZE):
            continue
        if distances[next_row, next_column] == here - 1:
            if turn == 1:
                return TURN_RIGHT
            if turn != 0:
                return TURN_LEFT
            code = cell_at(state, next_row, next_column)
            if not is_walkable(code) and kind_of(code) in (KEY, DOOR_LOCKED):
                return INTERACT
            return FORWARD
    return TURN_LEFT


def goal_target(state: np.ndarray, params: np.ndarray) -> tuple[int, int]:
    """The goal square."""
    return find_kind(state, GOAL)


def oracle_action(env: Any) -> int:
    """The oracle's action for ``env`` (a navigation env, wrapped or not) in its current state."""
    unwrapped = env.unwrapped
    task = unwrapped.task
    module = TASK_MODULES[task.task_index]
    target = getattr(module, "oracle_target", goal_target)
    state = unwrapped.state
    row, column = target(state, task.params)
    return int(action_towards(state, row, column, _DISTANCES))


_DISTANCES = np.empty((MAX_SIZE, MAX_SIZE), dtype=np.int64)
