"""KeyDoor: a wall splits the maze; pick up the key on the agent's side, open the locked door of
its colour in the wall, and reach the goal behind it.

Reaching the goal gives +1 and ends the episode. The key is picked up and the door opened with
the interact action, facing them. With ``layout_seed`` k >= 0 the walls, door, key and goal come
from seed k alone, while the agent's start (on the key's side) still varies by episode.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numba import njit

from envsuite.navigation.cells import (
    COLOUR_NAMES,
    DOOR_LOCKED,
    GOAL,
    GREEN,
    KEY,
    NUM_COLOURS,
    kind_of,
    make_cell,
)
from envsuite.navigation.engine import (
    AGENT_COLUMN,
    AGENT_ROW,
    CARRIED,
    DIRECTION,
    LAYOUT_PARAMS,
    MAZE_SIZE,
    NOTHING,
    NUM_DIRECTIONS,
    SIZE,
    TASK_SLOTS,
    WALL_CELL,
    Param,
    TaskDefinition,
    act,
    agent_cell,
    cell_at,
    check_layout_params,
    enter_layout_stream,
    generate_layout,
    leave_layout_stream,
    maze_cells,
    open_room,
    random_cell_within,
    random_colour,
    set_cell,
    solved,
)
from envsuite.navigation.maze import FLOOR_CELL, MAX_SIZE, distances_to
from envsuite.numba_random import random_below


def _check_params(values: Mapping[str, float]) -> None:
    check_layout_params(values)
    if values["key_colour"] == values["goal_colour"]:
        colour = COLOUR_NAMES[int(values["goal_colour"])]
        raise ValueError(
            f"key_colour: {int(values['key_colour'])} ({colour}) is the goal_colour too; key, "
            "door and goal must read apart: give another colour, or -1 for a random one"
        )


TASK = TaskDefinition(
    name="KeyDoor",
    description="Pick up the key, open the locked door of its colour in the wall that splits "
    "the maze, and reach the goal behind it: +1, which ends the episode.",
    max_episode_steps=500,
    params=(
        *LAYOUT_PARAMS,
        Param(
            "key_colour",
            -1,
            -1,
            NUM_COLOURS - 1,
            "colour of the key and door, -1: random (never the goal's)",
        ),
        Param("goal_colour", GREEN, 0, NUM_COLOURS - 1, "colour of the goal"),
    ),
    variants={
        "fixed_layout": {"layout_seed": 0},
        "large": {"size": 15, "room_rows": 2, "room_columns": 2},
        "open": {"wall_density": 0.0},
        "yellow_key": {"key_colour": 4},
    },
    state_size=5,
    check_params=_check_params,
    version=1,
)
KEY_COLOUR, GOAL_COLOUR = len(LAYOUT_PARAMS), len(LAYOUT_PARAMS) + 1
# Task slots: the door's cell, the goal's cell, the key's colour.
DOOR_ROW, DOOR_COLUMN, GOAL_ROW, GOAL_COLUMN, COLOUR = range(TASK_SLOTS, TASK_SLOTS + 5)
# Mazes tried before settling for an open room (a split needs a door with floor either side).
_ATTEMPTS = 8


@njit(cache=True, inline="always")
def _split(state: np.ndarray, rng: np.ndarray, distances: np.ndarray, goal_colour: int) -> bool:
    """Wall off a random inner column with a locked door; whether both sides have room (the
    agent and key on the left, the goal on the right), their cells then placed."""
    size = state[MAZE_SIZE]
    cells = maze_cells(state)
    column = 2 + random_below(rng, size - 4)
    doors = 0
    for row in range(1, size - 1):
        if cells[row, column - 1] == FLOOR_CELL and cells[row, column + 1] == FLOOR_CELL:
            doors += 1
    if doors == 0:
        return False
    chosen = random_below(rng, doors)
    door_row = -1
    for row in range(1, size - 1):
        if cells[row, column - 1] == FLOOR_CELL and cells[row, column + 1] == FLOOR_CELL:
            if chosen == 0:
                door_row = row
            chosen -= 1
    for row in range(1, size - 1):
        cells[row, column] = WALL_CELL
    colour = state[COLOUR]
    cells[door_row, column] = make_cell(DOOR_LOCKED, colour)
    distances_to(cells, size, door_row, column + 1, distances)
    goal_row, goal_column = random_cell_within(state, distances, rng)
    if goal_row < 0:
        return False
    distances_to(cells, size, door_row, column - 1, distances)
    key_row, key_column = random_cell_within(state, distances, rng)
    if key_row < 0:
        return False
    # The agent needs a cell of its own on the key's side: every cell that reached the door
    # reaches the key once it stands there (the side was connected through the key's cell).
    free = 0
    for row in range(size):
        for column_seen in range(column):
            if distances[row, column_seen] >= 0 and cells[row, column_seen] == FLOOR_CELL:
                free += 1
    if free < 2:
        return False
    set_cell(state, goal_row, goal_column, make_cell(GOAL, goal_colour))
    set_cell(state, key_row, key_column, make_cell(KEY, colour))
    state[DOOR_ROW], state[DOOR_COLUMN] = door_row, column
    state[GOAL_ROW], state[GOAL_COLUMN] = goal_row, goal_column
    return True


@njit(cache=True)
def reset(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    distances = np.empty((MAX_SIZE, MAX_SIZE), dtype=np.int64)
    saved = enter_layout_stream(params, rng)
    state[AGENT_ROW] = -1
    state[AGENT_COLUMN] = -1
    goal_colour = int(params[GOAL_COLOUR])
    state[COLOUR] = random_colour(rng, int(params[KEY_COLOUR]), goal_colour)
    for attempt in range(_ATTEMPTS + 1):
        if attempt < _ATTEMPTS:
            generate_layout(state, params, rng)
        else:  # an open room always splits
            open_room(state, int(params[SIZE]))
        if _split(state, rng, distances, goal_colour):
            break
    leave_layout_stream(params, rng, saved)
    cells = maze_cells(state)
    distances_to(cells, state[MAZE_SIZE], state[DOOR_ROW], state[DOOR_COLUMN] - 1, distances)
    state[AGENT_ROW], state[AGENT_COLUMN] = random_cell_within(state, distances, rng)
    state[DIRECTION] = random_below(rng, NUM_DIRECTIONS)


@njit(cache=True)
def step(state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray) -> tuple[float, bool]:
    act(state, action)
    if kind_of(agent_cell(state)) == GOAL:
        return solved(state)
    return 0.0, False


@njit(cache=True)
def oracle_target(state: np.ndarray, params: np.ndarray) -> tuple[int, int]:
    """The key until carried, then the locked door, then the goal (for ``oracle_action``)."""
    if state[CARRIED] == NOTHING:
        size = state[MAZE_SIZE]
        for row in range(size):
            for column in range(size):
                if kind_of(cell_at(state, row, column)) == KEY:
                    return row, column
    if kind_of(cell_at(state, state[DOOR_ROW], state[DOOR_COLUMN])) == DOOR_LOCKED:
        return state[DOOR_ROW], state[DOOR_COLUMN]
    return state[GOAL_ROW], state[GOAL_COLUMN]
