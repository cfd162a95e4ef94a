"""MazeGoal: walk through a maze to its goal, a coloured square; the plainest navigation task.

Reaching the goal gives +1 and ends the episode. With ``layout_seed`` k >= 0 the walls and the
goal come from seed k alone (one fixed maze), while the agent's start still varies by episode.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envsuite.navigation.cells import GOAL, GREEN, NUM_COLOURS, kind_of, make_cell
from envsuite.navigation.engine import (
    AGENT_ROW,
    LAYOUT_PARAMS,
    TASK_SLOTS,
    Param,
    TaskDefinition,
    act,
    agent_cell,
    check_layout_params,
    enter_layout_stream,
    generate_layout,
    leave_layout_stream,
    place_agent,
    place_thing,
    random_colour,
    solved,
)

TASK = TaskDefinition(
    name="MazeGoal",
    description="Find the goal square in a maze: +1 on reaching it, which ends the episode.",
    max_episode_steps=400,
    params=(
        *LAYOUT_PARAMS,
        Param("goal_colour", GREEN, -1, NUM_COLOURS - 1, "colour of the goal, -1: random"),
    ),
    variants={
        "fixed_layout": {"layout_seed": 0},
        "large": {"size": 15, "room_rows": 2, "room_columns": 2},
        "red_goal": {"goal_colour": 0},
        "open": {"wall_density": 0.0},
    },
    state_size=2,
    check_params=check_layout_params,
)
GOAL_COLOUR = len(LAYOUT_PARAMS)
# Task slots: where the goal is.
GOAL_ROW, GOAL_COLUMN = TASK_SLOTS, TASK_SLOTS + 1


@njit(cache=True)
def reset(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    saved = enter_layout_stream(params, rng)
    generate_layout(state, params, rng)
    state[AGENT_ROW] = -1  # no agent yet: any floor cell may take the goal
    colour = random_colour(rng, int(params[GOAL_COLOUR]))
    state[GOAL_ROW], state[GOAL_COLUMN] = place_thing(state, make_cell(GOAL, colour), rng)
    leave_layout_stream(params, rng, saved)
    place_agent(state, rng)


@njit(cache=True)
def step(state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray) -> tuple[float, bool]:
    act(state, action)
    if kind_of(agent_cell(state)) == GOAL:
        return solved(state)
    return 0.0, False
