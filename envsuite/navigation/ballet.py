"""Ballet (Lampinen et al. 2021, HCAM): dancers around the agent each perform one dance in turn;
then an instruction names a dance, and the agent must walk into the dancer that performed it.

An open ``size x size`` room; the agent stands in its centre facing up. ``dancers`` DANCER cells
(2..8) stand at home cells three cells apart on the ring around the agent (the eight cells at
offsets -3/0/+3 from the centre, a random subset). Each dancer has a distinct dance type out of
the eight in ``DANCES`` (drawn at random) and, one after the other in a random order, performs it
over ``DANCE_STEPS`` (16) steps around its home, ending back home; ``delay`` steps of stillness
follow every dance, the last one included. Dances stay within one cell of home, so a dancer never
comes near the agent or another dancer.

Phases, shown one-hot in the ``"phase"`` observation:

- 0 *watch*: a dance is under way (and the first observation, before the first dance).
- 1 *delay*: everyone stands still at home.
- 2 *act*: the ``"instruction"`` observation names (one-hot, index into ``DANCE_NAMES``) the
  dance type of one dancer, drawn uniformly. Walking forward into that dancer gives +1 and ends
  the episode; walking into any other dancer ends it with 0, and so does running out of
  ``act_steps`` steps (terminated: the task ends it, not a time limit).

Before the instruction the agent may only look around: turns work, forward and interact do
nothing (as in the original, where the agent is frozen while the dancers perform), so it can
neither touch a dancer early nor stand in a dancer's way. There are six colours for up to eight
dancers: with seven or eight, dancers 7 and 8 repeat the colours of dancers 1 and 2 (which dancer
is which is told by its home cell; the instruction names a dance, never a colour).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envsuite.navigation.cells import DANCER, NUM_COLOURS, kind_of, make_cell
from envsuite.navigation.engine import (
    AGENT_COLUMN,
    AGENT_ROW,
    BUMPED,
    DIRECTION,
    INSTRUCTION,
    NOTHING,
    PHASE,
    SIZE,
    STEPS,
    TASK_SLOTS,
    TURN_LEFT,
    TURN_RIGHT,
    UP,
    Param,
    TaskDefinition,
    act,
    front_of,
    open_room,
    set_cell,
    solved,
)
from envsuite.navigation.maze import FLOOR_CELL, MAX_SIZE
from envsuite.numba_random import random_below

DANCE_STEPS = 16
MAX_DANCERS = 8
MAX_DELAY = 64
MAX_ACT_STEPS = 100
PHASE_NAMES = ("watch", "delay", "act")
WATCH_PHASE, DELAY_PHASE, ACT_PHASE = range(len(PHASE_NAMES))

# One step of a dance: the dancer's (row, column) offset from its home cell after that step.
_N, _S, _E, _W = (-1, 0), (1, 0), (0, 1), (0, -1)
_NE, _SE, _SW, _NW = (-1, 1), (1, 1), (1, -1), (-1, -1)
_HOME = (0, 0)
_RING_CLOCKWISE = [_N, _NE, _E, _SE, _S, _SW, _W, _NW]
_RING_COUNTERCLOCKWISE = [_N, _NW, _W, _SW, _S, _SE, _E, _NE]
# The eight dance types: where the dancer stands after each of its 16 steps. Every step moves
# to a cell next to the last one (8-neighbourhood, home included); the first step leaves home
# (so a watcher sees at once who dances) and the last one returns there.
_DANCE_TABLE = {
    "circle_clockwise": _RING_CLOCKWISE + _RING_CLOCKWISE[:7] + [_HOME],
    "circle_counterclockwise": _RING_COUNTERCLOCKWISE + _RING_COUNTERCLOCKWISE[:7] + [_HOME],
    "up_down": [_N, _HOME, _S, _HOME] * 4,
    "left_right": [_E, _HOME, _W, _HOME] * 4,
    "diagonal": [_NE, _HOME, _SW, _HOME] * 4,
    "square": [_N, _NE, _E, _HOME] * 4,  # a small square loop in the upper-right corner
    "zigzag": [_NW, _N, _NE, _HOME, _SW, _S, _SE, _HOME] * 2,  # a "Z": top row, back, bottom
    "figure_eight": [_W, _NW, _N, _HOME, _S, _SE, _E, _HOME] * 2,  # two loops through home
}
DANCE_NAMES = tuple(_DANCE_TABLE)
NUM_DANCES = len(DANCE_NAMES)
# (dance type, step, row/column) -> offset from home; a global array numba reads as a constant.
DANCES = np.array([_DANCE_TABLE[name] for name in DANCE_NAMES], dtype=np.int64)
# The eight home cells, as offsets from the room's centre (the agent): three cells apart, so the
# 3x3 squares the dances cover never touch each other or the agent's cell.
HOME_OFFSETS = np.array(
    [(-3, -3), (-3, 0), (-3, 3), (0, -3), (0, 3), (3, -3), (3, 0), (3, 3)], dtype=np.int64
)
_VARIANTS = {
    f"dancers_{dancers}_delay_{delay}": {"dancers": dancers, "delay": delay}
    for dancers in (2, 4, 8)
    for delay in (16, 48)
}

TASK = TaskDefinition(
    name="Ballet",
    description="Watch dancers perform one dance each, in turn; then walk into the dancer whose "
    "dance the instruction names: +1; a wrong dancer ends the episode with 0.",
    # Every parameter choice ends (terminates) by then: the longest show, then the act phase.
    max_episode_steps=MAX_DANCERS * (DANCE_STEPS + MAX_DELAY) + MAX_ACT_STEPS,
    params=(
        Param("size", 11, 11, MAX_SIZE, "the room is size x size cells, outer walls included"),
        Param("dancers", 2, 2, MAX_DANCERS, "dancers, each performing a distinct dance"),
        Param("delay", 16, 0, MAX_DELAY, "steps of stillness after each dance"),
        Param("act_steps", 40, 1, MAX_ACT_STEPS, "steps to reach a dancer once instructed"),
    ),
    variants=_VARIANTS,
    state_size=4 * MAX_DANCERS + 1,
)
DANCERS, DELAY, ACT_STEPS = 1, 2, 3
# Task slots, per dancer k (in dance order): its home cell, its dance type and colour; then the
# index of the dancer the instruction asks for.
HOME_ROWS = TASK_SLOTS
HOME_COLUMNS = HOME_ROWS + MAX_DANCERS
DANCE_TYPES = HOME_COLUMNS + MAX_DANCERS
COLOURS = DANCE_TYPES + MAX_DANCERS
TARGET = COLOURS + MAX_DANCERS


@njit(cache=True, inline="always")
def _shuffle_slots(state: np.ndarray, first: int, count: int, rng: np.ndarray) -> None:
    """Fisher-Yates shuffle of ``state[first:first + count]`` in place."""
    for last in range(count - 1, 0, -1):
        other = first + random_below(rng, last + 1)
        state[first + last], state[other] = state[other], state[first + last]


@njit(cache=True)
def reset(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    size = int(params[SIZE])
    dancers = int(params[DANCERS])
    open_room(state, size)
    centre = size // 2
    state[AGENT_ROW] = centre
    state[AGENT_COLUMN] = centre
    state[DIRECTION] = UP
    # Random homes, dance types and colours: shuffled index lists, the first `dancers` used.
    for index in range(MAX_DANCERS):
        state[HOME_ROWS + index] = index
        state[DANCE_TYPES + index] = index
    for colour in range(NUM_COLOURS):
        state[COLOURS + colour] = colour
    _shuffle_slots(state, HOME_ROWS, MAX_DANCERS, rng)
    _shuffle_slots(state, DANCE_TYPES, NUM_DANCES, rng)
    _shuffle_slots(state, COLOURS, NUM_COLOURS, rng)
    for index in range(NUM_COLOURS, MAX_DANCERS):
        state[COLOURS + index] = state[COLOURS + index - NUM_COLOURS]
    for dancer in range(MAX_DANCERS):
        home = state[HOME_ROWS + dancer]
        state[HOME_ROWS + dancer] = centre + HOME_OFFSETS[home, 0]
        state[HOME_COLUMNS + dancer] = centre + HOME_OFFSETS[home, 1]
        if dancer < dancers:
            set_cell(
                state,
                state[HOME_ROWS + dancer],
                state[HOME_COLUMNS + dancer],
                make_cell(DANCER, state[COLOURS + dancer]),
            )
    state[TARGET] = random_below(rng, dancers)
    state[PHASE] = WATCH_PHASE


@njit(cache=True, inline="always")
def _dance_step(state: np.ndarray, dancer: int, beat: int) -> None:
    """Move ``dancer`` from where step ``beat - 1`` of its dance left it to step ``beat``'s cell."""
    dance = state[DANCE_TYPES + dancer]
    home_row = state[HOME_ROWS + dancer]
    home_column = state[HOME_COLUMNS + dancer]
    if beat > 0:
        set_cell(
            state,
            home_row + DANCES[dance, beat - 1, 0],
            home_column + DANCES[dance, beat - 1, 1],
            FLOOR_CELL,
        )
    else:
        set_cell(state, home_row, home_column, FLOOR_CELL)
    set_cell(
        state,
        home_row + DANCES[dance, beat, 0],
        home_column + DANCES[dance, beat, 1],
        make_cell(DANCER, state[COLOURS + dancer]),
    )


@njit(cache=True)
def step(state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray) -> tuple[float, bool]:
    dancers = int(params[DANCERS])
    period = DANCE_STEPS + int(params[DELAY])
    show_steps = dancers * period
    clock = state[STEPS]  # this step's number in the episode, from 1
    if state[PHASE] == ACT_PHASE:
        bumped = act(state, action)
        if bumped != NOTHING and kind_of(bumped) == DANCER:
            # Dancers stand at home once instructed, so the cell faced says which one it is.
            row, column = front_of(state)
            target = state[TARGET]
            if row == state[HOME_ROWS + target] and column == state[HOME_COLUMNS + target]:
                return solved(state)
            return 0.0, True
        return 0.0, clock >= show_steps + int(params[ACT_STEPS])
    # The show: the agent may look around, nothing more.
    if action in (TURN_LEFT, TURN_RIGHT):
        act(state, action)
    else:
        state[BUMPED] = NOTHING
    dancer = (clock - 1) // period
    beat = (clock - 1) % period
    if clock >= 1 and dancer < dancers and beat < DANCE_STEPS:
        _dance_step(state, dancer, beat)
    if clock >= show_steps:
        state[PHASE] = ACT_PHASE
        state[INSTRUCTION] = state[DANCE_TYPES + state[TARGET]]
    elif beat < DANCE_STEPS:
        state[PHASE] = WATCH_PHASE
    else:
        state[PHASE] = DELAY_PHASE
    return 0.0, False


@njit(cache=True)
def oracle_target(state: np.ndarray, params: np.ndarray) -> tuple[int, int]:
    """The instructed dancer once instructed; before that, (-1, -1): look around (for
    ``oracle_action``, which reads the answer from the state, not from watching)."""
    if state[PHASE] != ACT_PHASE:
        return -1, -1
    target = state[TARGET]
    return state[HOME_ROWS + target], state[HOME_COLUMNS + target]
