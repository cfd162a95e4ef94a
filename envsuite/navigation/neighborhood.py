"""Neighborhood: a maze and its landmarks kept for a trial of ``episodes_per_trial`` episodes, the
goal and start moving every episode; an agent that remembers the neighbourhood gets faster.

A trial's maze holds ``landmarks`` goal squares of distinct random colours. Each episode the
agent starts on a random cell and the ``"instruction"`` observation names (one-hot, by colour
index) the landmark to reach, another one than the last episode's; reaching it gives +1 and
ends the episode, walking over another gives nothing. The ``"phase"`` observation is the
episode's index within its trial (capped at 3). With ``landmarks=1`` there is one goal square
(of ``goal_colour``), no instruction, and the goal moves to another random cell every episode;
remembering the walls alone then saves little: a map-keeping explorer takes about 5% fewer
steps in a trial's later episodes than when it forgets, against about a third fewer with the
default four landmarks, which stay where they were seen (17x17 maze, 7x7 egocentric view).

The maze lives in the env's state, which an unseeded reset keeps: after ``episodes_per_trial``
episodes, or on a seeded (or first) reset, which zeroes the state, a new trial begins with a new
maze. The vector env's autoreset is an unseeded reset, so its envs play trials exactly as single
envs do. With ``layout_seed`` k >= 0 every trial has the walls of maze k (landmarks, goal and
start still vary).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numba import njit

from envsuite.navigation.cells import GOAL, GREEN, NUM_COLOURS, colour_of, make_cell
from envsuite.navigation.engine import (
    AGENT_COLUMN,
    AGENT_ROW,
    INSTRUCTION,
    LAYOUT_PARAMS,
    NUM_PHASES,
    PHASE,
    SIZE,
    TASK_SLOTS,
    WALL_CELL,
    Param,
    TaskDefinition,
    act,
    cell_at,
    check_layout_params,
    enter_layout_stream,
    generate_layout,
    leave_layout_stream,
    place_agent,
    place_thing,
    random_colour,
    set_cell,
    solved,
)
from envsuite.navigation.maze import FLOOR_CELL
from envsuite.numba_random import random_below

# Much bigger than the 7x7 egocentric view by default, so that what was seen in earlier episodes
# is worth remembering (one room: the maze accepts any size, as the other tasks' do).
_LAYOUT = (replace(LAYOUT_PARAMS[SIZE], default=17), *LAYOUT_PARAMS[SIZE + 1 :])

TASK = TaskDefinition(
    name="Neighborhood",
    description="A maze and its coloured landmarks stay the same for a trial of several "
    "episodes; each episode the agent starts anywhere and the instruction names the landmark "
    "to reach: +1 on reaching it, which ends the episode.",
    max_episode_steps=500,
    params=(
        *_LAYOUT,
        Param("episodes_per_trial", 4, 1, 64, "episodes played in one maze before a new one"),
        Param("landmarks", 4, 1, NUM_COLOURS, "coloured goals; 1: one goal, moving each episode"),
        Param("goal_colour", GREEN, -1, NUM_COLOURS - 1, "goal colour if landmarks=1, -1: random"),
    ),
    variants={
        "small": {"size": 11},
        "large": {"size": 21, "room_rows": 4, "room_columns": 4},
        "long_trials": {"episodes_per_trial": 8},
        # One episode per trial: a new maze every episode, the no-memory control.
        "single_episode": {"episodes_per_trial": 1},
        "moving_goal": {"landmarks": 1},
        "fixed_layout": {"layout_seed": 0},
    },
    state_size=4 + 2 * NUM_COLOURS,
    check_params=check_layout_params,
)
EPISODES_PER_TRIAL, LANDMARKS, GOAL_COLOUR = range(len(_LAYOUT), len(_LAYOUT) + 3)
# Task slots: episodes begun in this trial (0 only in a zeroed state: then a trial begins); the
# goal's cell (the instructed landmark's); the instructed landmark; each landmark's cell.
TRIAL_EPISODES, GOAL_ROW, GOAL_COLUMN, GOAL_INDEX = range(TASK_SLOTS, TASK_SLOTS + 4)
LANDMARK_CELLS = TASK_SLOTS + 4


@njit(cache=True)
def _place_landmarks(state: np.ndarray, count: int, rng: np.ndarray) -> None:
    """``count`` goal squares of distinct random colours on random floor cells."""
    taken = 0  # a bit per colour already used
    for index in range(count):
        # The chosen-th colour not yet taken.
        chosen = random_below(rng, NUM_COLOURS - index)
        colour = 0
        while True:
            if taken & (1 << colour) == 0:
                if chosen == 0:
                    break
                chosen -= 1
            colour += 1
        taken |= 1 << colour
        row, column = place_thing(state, make_cell(GOAL, colour), rng)
        state[LANDMARK_CELLS + 2 * index] = row
        state[LANDMARK_CELLS + 2 * index + 1] = column


@njit(cache=True)
def _move_goal(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    """The single goal square to a new random cell (its old cell, walled for the draw, cannot
    take it again)."""
    old_row, old_column = state[GOAL_ROW], state[GOAL_COLUMN]
    set_cell(state, old_row, old_column, WALL_CELL)
    colour = random_colour(rng, int(params[GOAL_COLOUR]))
    state[GOAL_ROW], state[GOAL_COLUMN] = place_thing(state, make_cell(GOAL, colour), rng)
    set_cell(state, old_row, old_column, FLOOR_CELL)


@njit(cache=True)
def reset(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    begun = state[TRIAL_EPISODES]
    landmarks = int(params[LANDMARKS])
    state[AGENT_ROW] = -1  # no agent yet: any floor cell may take a goal
    state[AGENT_COLUMN] = -1
    if begun <= 0 or begun >= int(params[EPISODES_PER_TRIAL]):
        begun = 0
        saved = enter_layout_stream(params, rng)
        generate_layout(state, params, rng)
        leave_layout_stream(params, rng, saved)
        if landmarks == 1:
            colour = random_colour(rng, int(params[GOAL_COLOUR]))
            state[GOAL_ROW], state[GOAL_COLUMN] = place_thing(state, make_cell(GOAL, colour), rng)
        else:
            _place_landmarks(state, landmarks, rng)
            state[GOAL_INDEX] = -1
    elif landmarks == 1:
        _move_goal(state, params, rng)
    if landmarks > 1:
        # Another landmark than the last episode's: the goal moves every episode.
        previous = state[GOAL_INDEX]
        if previous < 0:
            index = random_below(rng, landmarks)
        else:
            index = random_below(rng, landmarks - 1)
            if index >= previous:
                index += 1
        state[GOAL_INDEX] = index
        state[GOAL_ROW] = state[LANDMARK_CELLS + 2 * index]
        state[GOAL_COLUMN] = state[LANDMARK_CELLS + 2 * index + 1]
        state[INSTRUCTION] = colour_of(cell_at(state, state[GOAL_ROW], state[GOAL_COLUMN]))
    place_agent(state, rng)
    state[PHASE] = min(begun, NUM_PHASES - 1)
    state[TRIAL_EPISODES] = begun + 1


@njit(cache=True)
def step(state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray) -> tuple[float, bool]:
    act(state, action)
    # Only the instructed landmark counts; walking over another gives nothing.
    if state[AGENT_ROW] == state[GOAL_ROW] and state[AGENT_COLUMN] == state[GOAL_COLUMN]:
        return solved(state)
    return 0.0, False


@njit(cache=True)
def oracle_target(state: np.ndarray, params: np.ndarray) -> tuple[int, int]:
    """The goal square, the instructed landmark (for ``oracle_action``)."""
    return state[GOAL_ROW], state[GOAL_COLUMN]
