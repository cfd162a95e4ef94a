"""The shared pieces every navigation task builds on: actions, directions, the layout of an env's
int32 state vector, the task description, and numba helpers that turn, move, interact and place.

Small numba helpers called every step are ``inline="always"``: a numba call passing arrays costs
about as much as what such a helper does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from envsuite.navigation.cells import (
    DOOR_LOCKED,
    DOOR_OPEN,
    KEY,
    NUM_COLOURS,
    colour_of,
    is_walkable,
    kind_of,
    make_cell,
)
from envsuite.navigation.maze import (
    FLOOR_CELL,
    MAX_ROOMS,
    MAX_SIZE,
    MIN_SIZE,
    WALL_CELL,
    check_maze_params,
    generate_maze,
    random_floor_cell,
)
from envsuite.numba_random import random_below
from envsuite.params import Param, resolve_params

# One action set for every task, so sequences never remap actions.
ACTION_NAMES = ("turn_left", "turn_right", "forward", "interact")
TURN_LEFT, TURN_RIGHT, FORWARD, INTERACT = range(len(ACTION_NAMES))
NUM_ACTIONS = len(ACTION_NAMES)
DIRECTION_NAMES = ("up", "right", "down", "left")
UP, RIGHT, DOWN, LEFT = range(len(DIRECTION_NAMES))
NUM_DIRECTIONS = len(DIRECTION_NAMES)
# The row and column step of one move in each direction (0 up/north, then clockwise).
ROW_STEP = np.array([-1, 0, 1, 0], dtype=np.int64)
COLUMN_STEP = np.array([0, 1, 0, -1], dtype=np.int64)
NUM_PHASES = 4
NUM_INSTRUCTIONS = 8
NOTHING = -1  # an empty carried / instruction / bumped slot

# The env's int32 state vector: engine slots, then the task's own slots, then the maze's cells
# (row-major, MAX_SIZE x MAX_SIZE; cells at or beyond the maze's size are walls). The layout is
# the same for every task, so the engine draws any task from its cells and these slots.
AGENT_ROW = 0
AGENT_COLUMN = 1
DIRECTION = 2  # 0 up, 1 right, 2 down, 3 left
CARRIED = 3  # cell code of the key carried, NOTHING when empty-handed
PHASE = 4  # the task's phase (0 for tasks without phases), shown one-hot capped at 3
INSTRUCTION = 5  # 0..7 shown one-hot, NOTHING for no instruction
SUCCESS = 6  # 1 on the step the task is solved (the env's info["success"])
MAZE_SIZE = 7  # the maze is MAZE_SIZE x MAZE_SIZE (task parameter "size", index 0)
STEPS = 8  # steps taken in this episode
BUMPED = 9  # cell code the last forward walked into without moving (a dancer...), else NOTHING
# 1 once the episode terminated: later steps (gymnasium allows them) change nothing and pay 0.
OVER = 10
ENGINE_SLOTS = 16  # slots reserved for the engine (11 used)
TASK_SLOTS = ENGINE_SLOTS  # a task's own slot k is state[TASK_SLOTS + k]
MAX_TASK_SLOTS = 112
CELLS = TASK_SLOTS + MAX_TASK_SLOTS
STATE_SIZE = CELLS + MAX_SIZE * MAX_SIZE

# The maze parameters most tasks share, first in their parameter vectors (``size`` must be at
# index 0 in every task: the engine and the full view read it there).
SIZE, ROOM_ROWS, ROOM_COLUMNS, WALL_DENSITY, LAYOUT_SEED = range(5)
LAYOUT_PARAMS = (
    Param("size", 9, MIN_SIZE, MAX_SIZE, "the maze is size x size cells, outer walls included"),
    Param("room_rows", 1, 1, MAX_ROOMS, "rows of rooms the maze is split into"),
    Param("room_columns", 1, 1, MAX_ROOMS, "columns of rooms the maze is split into"),
    Param("wall_density", 0.25, 0.0, 0.6, "share of room floor turned into inner walls"),
    Param("layout_seed", -1, -1, 1_000_000, "-1: a new layout every episode; k: layout k"),
)
# Where a layout seed starts the RNG from: a stream of its own, apart from every env's.
_LAYOUT_STRIDE = np.uint64(0xD1B54A32D192ED03)
_LAYOUT_OFFSET = np.uint64(0x2545F4914F6CDD1D)
# The env's own keyword arguments, besides a task's parameters (named in unknown-name errors).
ENV_ARGUMENTS = ("obs_mode", "view", "view_size", "variant", "render_mode")


def check_layout_params(values: Mapping[str, float]) -> None:
    """Fail by name when the maze is too small for the rooms asked (a TaskDefinition check)."""
    check_maze_params(int(values["size"]), int(values["room_rows"]), int(values["room_columns"]))


@dataclass(frozen=True)
class TaskDefinition:
    """What the engine needs to know of a task besides its numba ``reset`` and ``step``.

    Attributes:
        name: the task's name; its id is ``envsuite/<name>-v<version>``.
        description: the task in one or two sentences (README catalogue, docstrings).
        max_episode_steps: the episode limit registered with the id.
        params: the task parameters, in the order of the task's float64 parameter vector; the
            first is ``size`` (the maze's side, 7..MAX_SIZE).
        variants: named sets of parameter values; ``"default"`` is every parameter's default.
        state_size: how many task slots (``state[TASK_SLOTS:TASK_SLOTS + state_size]``) it uses.
        check_params: a further check of the resolved values (name -> value), raising a
            ValueError naming the field, e.g. :func:`check_layout_params`.
        version: the id's version, bumped when the task's dynamics, rewards or observations
            change (Gymnasium's rule; the changes are listed in ``NavigationEnv``'s docstring).
    """

    name: str
    description: str
    max_episode_steps: int
    params: tuple[Param, ...]
    variants: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    state_size: int = 0
    check_params: Callable[[Mapping[str, float]], None] | None = None
    version: int = 0

    @property
    def env_id(self) -> str:
        """The registered id, ``envsuite/<name>-v<version>``."""
        return f"envsuite/{self.name}-v{self.version}"

    def __post_init__(self) -> None:
        if not self.params or self.params[SIZE].name != "size":
            raise ValueError(f"{self.name}: params: the first parameter must be 'size'")
        if not 0 <= self.state_size <= MAX_TASK_SLOTS:
            raise ValueError(f"{self.name}: state_size: must be in [0, {MAX_TASK_SLOTS}]")

    def variant_names(self) -> list[str]:
        """``"default"`` and the task's own variants."""
        return ["default", *self.variants]

    def resolve_params(self, variant: str, overrides: Mapping[str, float]) -> np.ndarray:
        """The parameter vector of ``variant`` with ``overrides`` applied, each within bounds."""
        vector = resolve_params(
            self.name, self.params, self.variants, variant, overrides, ENV_ARGUMENTS
        )
        if self.check_params is not None:
            self.check_params(
                {param.name: float(value) for param, value in zip(self.params, vector, strict=True)}
            )
        return vector


@njit(cache=True, inline="always")
def maze_cells(state: np.ndarray) -> np.ndarray:
    """The ``(MAX_SIZE, MAX_SIZE)`` view of the cells in ``state`` (for the maze functions)."""
    return state[CELLS:].reshape((MAX_SIZE, MAX_SIZE))


@njit(cache=True, inline="always")
def cell_at(state: np.ndarray, row: int, column: int) -> int:
    """The code of cell (``row``, ``column``); a wall outside the maze."""
    size = state[MAZE_SIZE]
    if row < 0 or column < 0 or row >= size or column >= size:
        return WALL_CELL
    return state[CELLS + row * MAX_SIZE + column]


@njit(cache=True, inline="always")
def set_cell(state: np.ndarray, row: int, column: int, code: int) -> None:
    state[CELLS + row * MAX_SIZE + column] = code


@njit(cache=True, inline="always")
def front_of(state: np.ndarray) -> tuple[int, int]:
    """The cell the agent faces."""
    direction = state[DIRECTION]
    return state[AGENT_ROW] + ROW_STEP[direction], state[AGENT_COLUMN] + COLUMN_STEP[direction]


@njit(cache=True, inline="always")
def interact(state: np.ndarray) -> None:
    """Pick up the key in front (empty-handed), or open the locked door in front with its key."""
    row, column = front_of(state)
    code = cell_at(state, row, column)
    kind = kind_of(code)
    if kind == KEY and state[CARRIED] == NOTHING:
        state[CARRIED] = code
        set_cell(state, row, column, FLOOR_CELL)
    elif (
        kind == DOOR_LOCKED
        and state[CARRIED] != NOTHING
        and colour_of(state[CARRIED]) == colour_of(code)
    ):
        set_cell(state, row, column, make_cell(DOOR_OPEN, colour_of(code)))


@njit(cache=True, inline="always")
def act(state: np.ndarray, action: int) -> int:
    """Play ``action`` (turn, move forward, interact); return what a blocked forward walked into.

    Forward moves onto a walkable cell; into anything else (wall, key, locked door, dancer) the
    agent stays, and the blocking cell's code is returned and kept in ``state[BUMPED]`` for the
    task to judge (Ballet: touching a dancer). Otherwise returns ``NOTHING``.
    """
    bumped = NOTHING
    if action == TURN_LEFT:
        state[DIRECTION] = (state[DIRECTION] + 3) % NUM_DIRECTIONS
    elif action == TURN_RIGHT:
        state[DIRECTION] = (state[DIRECTION] + 1) % NUM_DIRECTIONS
    elif action == FORWARD:
        row, column = front_of(state)
        code = cell_at(state, row, column)
        if is_walkable(code):
            state[AGENT_ROW] = row
            state[AGENT_COLUMN] = column
        else:
            bumped = code
    else:
        interact(state)
    state[BUMPED] = bumped
    return bumped


@njit(cache=True, inline="always")
def agent_cell(state: np.ndarray) -> int:
    """The code of the cell the agent stands on (a goal, an object, floor, an open door)."""
    return state[CELLS + state[AGENT_ROW] * MAX_SIZE + state[AGENT_COLUMN]]


@njit(cache=True, inline="always")
def solved(state: np.ndarray) -> tuple[float, bool]:
    """Mark the episode solved: the step's reward +1, terminated, ``info["success"]``."""
    state[SUCCESS] = 1
    return 1.0, True


@njit(cache=True)
def begin_episode(state: np.ndarray, params: np.ndarray) -> None:
    """Set the engine slots for a new episode (before the task's reset fills the rest)."""
    state[DIRECTION] = UP
    state[CARRIED] = NOTHING
    state[PHASE] = 0
    state[INSTRUCTION] = NOTHING
    state[SUCCESS] = 0
    state[MAZE_SIZE] = int(params[SIZE])
    state[STEPS] = 0
    state[BUMPED] = NOTHING
    state[OVER] = 0


@njit(cache=True)
def enter_layout_stream(params: np.ndarray, rng: np.ndarray) -> np.uint64:
    """Switch ``rng`` to the stream of the ``layout_seed`` parameter, if one is set (>= 0).

    Returns the env's RNG word; :func:`leave_layout_stream` puts it back, so the env's own stream
    goes on untouched by how much the layout drew.
    """
    saved = rng[0]
    seed = int(params[LAYOUT_SEED])
    if seed >= 0:
        rng[0] = np.uint64(seed) * _LAYOUT_STRIDE + _LAYOUT_OFFSET
    return saved


@njit(cache=True)
def leave_layout_stream(params: np.ndarray, rng: np.ndarray, saved: np.uint64) -> None:
    if int(params[LAYOUT_SEED]) >= 0:
        rng[0] = saved


@njit(cache=True)
def generate_layout(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    """Fill the cells with a maze from the ``LAYOUT_PARAMS`` at the start of ``params``."""
    generate_maze(
        maze_cells(state),
        int(params[SIZE]),
        int(params[ROOM_ROWS]),
        int(params[ROOM_COLUMNS]),
        params[WALL_DENSITY],
        rng,
    )


@njit(cache=True)
def random_free_cell(state: np.ndarray, rng: np.ndarray) -> tuple[int, int]:
    """A random floor cell that the agent does not stand on."""
    cells = maze_cells(state)
    size = state[MAZE_SIZE]
    # Hide the agent's cell from the draw (it is plain floor under the agent) for one draw.
    agent_row, agent_column = state[AGENT_ROW], state[AGENT_COLUMN]
    on_maze = 0 <= agent_row < size and 0 <= agent_column < size
    hidden = cells[agent_row, agent_column] if on_maze else FLOOR_CELL
    if on_maze:
        cells[agent_row, agent_column] = WALL_CELL
    row, column = random_floor_cell(cells, size, rng)
    if on_maze:
        cells[agent_row, agent_column] = hidden
    return row, column


@njit(cache=True)
def place_thing(state: np.ndarray, code: int, rng: np.ndarray) -> tuple[int, int]:
    """Put ``code`` on a random free floor cell; return the cell."""
    row, column = random_free_cell(state, rng)
    set_cell(state, row, column, code)
    return row, column


@njit(cache=True)
def place_agent(state: np.ndarray, rng: np.ndarray) -> None:
    """Put the agent on a random floor cell, facing a random direction."""
    row, column = random_floor_cell(maze_cells(state), state[MAZE_SIZE], rng)
    state[AGENT_ROW] = row
    state[AGENT_COLUMN] = column
    state[DIRECTION] = random_below(rng, NUM_DIRECTIONS)


@njit(cache=True, inline="always")
def random_colour(rng: np.ndarray, chosen: int, excluded: int = -1) -> int:
    """``chosen`` if it names a colour (>= 0), else a random one other than ``excluded`` (a
    colour, or -1 for none)."""
    if chosen >= 0:
        return chosen
    if excluded < 0:
        return random_below(rng, NUM_COLOURS)
    colour = random_below(rng, NUM_COLOURS - 1)
    return colour + 1 if colour >= excluded else colour


@njit(cache=True)
def open_room(state: np.ndarray, size: int) -> None:
    """Fill the cells with one empty room: a wall border round ``size x size``, floor inside."""
    cells = maze_cells(state)
    cells[:, :] = WALL_CELL
    for row in range(1, size - 1):
        for column in range(1, size - 1):
            cells[row, column] = FLOOR_CELL


@njit(cache=True)
def random_cell_within(
    state: np.ndarray, distances: np.ndarray, rng: np.ndarray
) -> tuple[int, int]:
    """A random plain-floor cell with ``distances >= 0`` (reachable from a BFS target) that the
    agent does not stand on; (-1, -1) when there is none."""
    size = state[MAZE_SIZE]
    count = 0
    for row in range(size):
        for column in range(size):
            if _free_within(state, distances, row, column):
                count += 1
    if count == 0:
        return -1, -1
    chosen = random_below(rng, count)
    for row in range(size):
        for column in range(size):
            if _free_within(state, distances, row, column):
                if chosen == 0:
                    return row, column
                chosen -= 1
    return -1, -1


@njit(cache=True, inline="always")
def _free_within(state: np.ndarray, distances: np.ndarray, row: int, column: int) -> bool:
    return (
        distances[row, column] >= 0
        and state[CELLS + row * MAX_SIZE + column] == FLOOR_CELL
        and (row != state[AGENT_ROW] or column != state[AGENT_COLUMN])
    )
