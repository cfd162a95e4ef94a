"""ObjectRecall: an object is shown at a cell, hidden through a delay full of distractors, and the
agent must then walk back to where it was; a test of spatial memory across a chosen delay.

Three phases, shown one-hot in the ``"phase"`` observation:

- 0 *show* (``show_steps`` steps): an OBJECT of one colour lies on a random floor cell.
- 1 *delay* (``delay`` steps, skipped when 0): the object is gone; ``distractors`` OBJECTs of
  other colours lie on other cells (never the remembered one), moved every
  ``distractor_period`` steps when that is > 0. With ``relocate`` (default) the agent is put on
  a random other cell as the show phase ends, so it cannot just stand on the spot.
- 2 *recall* (at most ``recall_steps`` steps): the distractors are gone; standing on the
  remembered cell after a recall step gives +1 and ends the episode; otherwise the episode ends
  with 0 after ``recall_steps`` steps (terminated: the task, not a time limit, ends it).

Walking over the cell before the recall phase gives nothing (with ``relocate=0`` an agent still
standing on it when the recall phase begins succeeds on its first recall step). With
``layout_seed`` k >= 0 only the walls come from seed k; the object's cell, its colour and the
agent's start still vary by episode, or there would be nothing to remember.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envsuite.navigation.cells import NUM_COLOURS, OBJECT, make_cell
from envsuite.navigation.engine import (
    AGENT_COLUMN,
    AGENT_ROW,
    DIRECTION,
    LAYOUT_PARAMS,
    MAZE_SIZE,
    NUM_DIRECTIONS,
    PHASE,
    STEPS,
    TASK_SLOTS,
    WALL_CELL,
    Param,
    TaskDefinition,
    act,
    check_layout_params,
    enter_layout_stream,
    generate_layout,
    leave_layout_stream,
    maze_cells,
    place_agent,
    place_thing,
    random_cell_within,
    random_colour,
    set_cell,
    solved,
)
from envsuite.navigation.maze import FLOOR_CELL, MAX_SIZE, distances_to
from envsuite.numba_random import random_below

SHOW, DELAY, RECALL = range(3)  # the phases
MAX_SHOW_STEPS = 32
MAX_DELAY = 256
MAX_RECALL_STEPS = 256
MAX_DISTRACTORS = NUM_COLOURS - 1  # each distractor has a colour of its own, not the object's

TASK = TaskDefinition(
    name="ObjectRecall",
    description="Remember where an object was shown; after a delay with distractors, walk back "
    "to that cell: +1, which ends the episode.",
    # Above the longest episode any parameters allow (32 + 256 + 256 = 544 steps): the task's
    # own end of the recall phase always comes first.
    max_episode_steps=600,
    params=(
        *LAYOUT_PARAMS,
        Param("show_steps", 8, 1, MAX_SHOW_STEPS, "steps the object is shown"),
        Param("delay", 16, 0, MAX_DELAY, "steps between the show and the recall phase"),
        Param("recall_steps", 64, 1, MAX_RECALL_STEPS, "steps allowed to reach the cell"),
        Param("distractors", 2, 0, MAX_DISTRACTORS, "distractor objects during the delay"),
        Param("distractor_period", 0, 0, MAX_DELAY, "steps between distractor moves, 0: never"),
        Param("object_colour", -1, -1, NUM_COLOURS - 1, "colour of the object, -1: random"),
        Param("relocate", 1, 0, 1, "1: the agent is moved to a random cell when the show ends"),
    ),
    variants={
        "no_delay": {"delay": 0},
        "short": {"delay": 16},
        "long": {"delay": 64},
        "very_long": {"delay": 128},
        "moving_distractors": {"distractors": 4, "distractor_period": 4},
        "fixed_layout": {"layout_seed": 0},
        # A bigger maze: longer to find the object (often out of view) and to walk back to it.
        "large": {
            "size": 15,
            "room_rows": 2,
            "room_columns": 2,
            "show_steps": 16,
            "recall_steps": 128,
        },
        "stay": {"relocate": 0},
    },
    state_size=3 + 2 * MAX_DISTRACTORS,
    check_params=check_layout_params,
)
SHOW_STEPS, DELAY_STEPS, RECALL_STEPS, DISTRACTORS, DISTRACTOR_PERIOD, OBJECT_COLOUR, RELOCATE = (
    range(len(LAYOUT_PARAMS), len(LAYOUT_PARAMS) + 7)
)
# Task slots: the remembered cell, the object's colour, then each distractor's (row, column).
TARGET_ROW, TARGET_COLUMN, COLOUR = TASK_SLOTS, TASK_SLOTS + 1, TASK_SLOTS + 2
DISTRACTOR_CELLS = TASK_SLOTS + 3


@njit(cache=True)
def reset(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    saved = enter_layout_stream(params, rng)
    generate_layout(state, params, rng)
    leave_layout_stream(params, rng, saved)
    state[AGENT_ROW] = -1  # no agent yet: any floor cell may take the object
    state[AGENT_COLUMN] = -1
    colour = random_colour(rng, int(params[OBJECT_COLOUR]))
    state[COLOUR] = colour
    state[TARGET_ROW], state[TARGET_COLUMN] = place_thing(state, make_cell(OBJECT, colour), rng)
    place_agent(state, rng)
    state[PHASE] = SHOW
    # The previous episode's slots survive an unseeded reset: mark every distractor absent.
    for index in range(MAX_DISTRACTORS):
        state[DISTRACTOR_CELLS + 2 * index] = -1


@njit(cache=True)
def _place_distractors(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    """Distractors of distinct colours, none the object's, on free cells other than the target
    (walled for the draw, so that no distractor can sit on the cell to remember)."""
    set_cell(state, state[TARGET_ROW], state[TARGET_COLUMN], WALL_CELL)
    # The colours after the object's, in a random rotation: distinct, never the object's.
    first = random_below(rng, NUM_COLOURS - 1)
    for index in range(int(params[DISTRACTORS])):
        colour = (state[COLOUR] + 1 + (first + index) % (NUM_COLOURS - 1)) % NUM_COLOURS
        row, column = place_thing(state, make_cell(OBJECT, colour), rng)
        state[DISTRACTOR_CELLS + 2 * index] = row
        state[DISTRACTOR_CELLS + 2 * index + 1] = column
    set_cell(state, state[TARGET_ROW], state[TARGET_COLUMN], FLOOR_CELL)


@njit(cache=True)
def _clear_distractors(state: np.ndarray, params: np.ndarray) -> None:
    for index in range(int(params[DISTRACTORS])):
        row = state[DISTRACTOR_CELLS + 2 * index]
        if row >= 0:
            set_cell(state, row, state[DISTRACTOR_CELLS + 2 * index + 1], FLOOR_CELL)
        state[DISTRACTOR_CELLS + 2 * index] = -1


@njit(cache=True)
def _end_show(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    """Hide the object, move the agent off the spot (``relocate``), bring in the distractors."""
    set_cell(state, state[TARGET_ROW], state[TARGET_COLUMN], FLOOR_CELL)
    if params[RELOCATE] > 0:
        # Somewhere the recall phase leaves time to walk back from (a third of its steps away,
        # turns included), never the remembered cell itself; else, in big dense mazes, some
        # episodes could not be solved at all.
        target_row, target_column = state[TARGET_ROW], state[TARGET_COLUMN]
        distances = np.empty((MAX_SIZE, MAX_SIZE), dtype=np.int32)
        distances_to(maze_cells(state), state[MAZE_SIZE], target_row, target_column, distances)
        reach = max(1, int(params[RECALL_STEPS]) // 3)
        for row in range(MAX_SIZE):
            for column in range(MAX_SIZE):
                if distances[row, column] > reach:
                    distances[row, column] = -1
        distances[target_row, target_column] = -1
        row, column = random_cell_within(state, distances, rng)
        if row >= 0:
            state[AGENT_ROW], state[AGENT_COLUMN] = row, column
            state[DIRECTION] = random_below(rng, NUM_DIRECTIONS)
    state[PHASE] = DELAY
    if params[DELAY_STEPS] > 0:
        _place_distractors(state, params, rng)


@njit(cache=True)
def step(state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray) -> tuple[float, bool]:
    act(state, action)
    steps = state[STEPS]
    show_end = int(params[SHOW_STEPS])
    recall_start = show_end + int(params[DELAY_STEPS])
    # Phase changes follow the step's move, so the observation after step ``show_end`` is the
    # first of the delay and the one after ``recall_start`` the first of the recall phase.
    if steps == show_end:
        _end_show(state, params, rng)
    elif show_end < steps < recall_start:
        period = int(params[DISTRACTOR_PERIOD])
        if period > 0 and (steps - show_end) % period == 0:
            _clear_distractors(state, params)
            _place_distractors(state, params, rng)
    if steps == recall_start:
        _clear_distractors(state, params)
        state[PHASE] = RECALL
    elif steps > recall_start:
        # Only actions taken after seeing the recall phase count.
        if state[AGENT_ROW] == state[TARGET_ROW] and state[AGENT_COLUMN] == state[TARGET_COLUMN]:
            return solved(state)
        if steps >= recall_start + int(params[RECALL_STEPS]):
            return 0.0, True
    return 0.0, False


@njit(cache=True)
def oracle_target(state: np.ndarray, params: np.ndarray) -> tuple[int, int]:
    """The remembered cell in the recall phase; before it, turn in place (``oracle_action``)."""
    if state[PHASE] == RECALL:
        return state[TARGET_ROW], state[TARGET_COLUMN]
    return -1, -1
