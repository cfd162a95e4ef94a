"""The shared navigation engine: moving, turning, interacting, views and their orientation, pixels
against symbols, argument and action errors, the vector env's resets, seeds and episode limits."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from navigation_helpers import cells, open_state

from envsuite.navigation import TASKS, maze_goal, oracle_action
from envsuite.navigation.cells import (
    BLUE,
    DOOR_LOCKED,
    DOOR_OPEN,
    GOAL,
    KEY,
    NUM_KINDS,
    RED,
    WALL,
    make_cell,
)
from envsuite.navigation.engine import (
    AGENT_COLUMN,
    AGENT_ROW,
    BUMPED,
    CARRIED,
    DIRECTION,
    DOWN,
    FORWARD,
    INTERACT,
    LEFT,
    NOTHING,
    RIGHT,
    TASK_SLOTS,
    TURN_LEFT,
    TURN_RIGHT,
    UP,
    Param,
    TaskDefinition,
    act,
)
from envsuite.navigation.maze import FLOOR_CELL, WALL_CELL
from envsuite.navigation.view import (
    AGENT_CHANNEL,
    BACKGROUND_COLOURS,
    CHANNEL_NAMES,
    COLOUR_CHANNELS,
    EGOCENTRIC,
    FULL,
    PALETTE,
    draw_symbolic,
)
from envsuite.testing import check_task, check_vector_matches_single

TASK_NAMES = list(TASKS)
IDS = [TASKS[name].env_id for name in TASK_NAMES]


def test_turning_cycles_through_the_four_directions() -> None:
    state, _ = open_state(maze_goal, direction=UP)
    turned = []
    for _ in range(4):
        act(state, TURN_RIGHT)
        turned.append(int(state[DIRECTION]))
    assert turned == [RIGHT, DOWN, LEFT, UP]
    act(state, TURN_LEFT)
    assert state[DIRECTION] == LEFT
    assert (state[AGENT_ROW], state[AGENT_COLUMN]) == (3, 3)


@pytest.mark.parametrize(("direction", "cell"), [(UP, (2, 3)), (RIGHT, (3, 4)), (DOWN, (4, 3))])
def test_forward_moves_one_cell_the_way_faced(direction: int, cell: tuple[int, int]) -> None:
    state, _ = open_state(maze_goal, direction=direction)
    assert act(state, FORWARD) == NOTHING
    assert (state[AGENT_ROW], state[AGENT_COLUMN]) == cell


def test_walls_and_keys_stop_the_agent_and_are_reported_as_bumped() -> None:
    state, _ = open_state(maze_goal, row=1, column=1, direction=UP)
    assert act(state, FORWARD) == WALL_CELL  # the border
    assert state[BUMPED] == WALL_CELL
    assert (state[AGENT_ROW], state[AGENT_COLUMN]) == (1, 1)
    cells(state)[1, 2] = make_cell(KEY, RED)
    act(state, TURN_RIGHT)
    assert act(state, FORWARD) == make_cell(KEY, RED)
    assert (state[AGENT_ROW], state[AGENT_COLUMN]) == (1, 1)
    cells(state)[1, 2] = make_cell(GOAL, RED)  # goals, open doors, objects are walked onto
    assert act(state, FORWARD) == NOTHING
    assert state[BUMPED] == NOTHING
    assert (state[AGENT_ROW], state[AGENT_COLUMN]) == (1, 2)


def test_interact_picks_up_a_key_and_opens_only_the_door_of_its_colour() -> None:
    state, _ = open_state(maze_goal, row=3, column=3, direction=UP)
    grid = cells(state)
    grid[2, 3] = make_cell(DOOR_LOCKED, RED)
    act(state, INTERACT)  # no key yet
    assert grid[2, 3] == make_cell(DOOR_LOCKED, RED)
    grid[3, 4] = make_cell(KEY, BLUE)
    grid[4, 3] = make_cell(KEY, RED)
    act(state, TURN_RIGHT)
    act(state, INTERACT)
    assert state[CARRIED] == make_cell(KEY, BLUE)
    assert grid[3, 4] == FLOOR_CELL
    act(state, TURN_RIGHT)
    act(state, INTERACT)  # hands full: the red key stays
    assert grid[4, 3] == make_cell(KEY, RED)
    act(state, TURN_LEFT)
    act(state, TURN_LEFT)
    act(state, INTERACT)  # a blue key does not open a red door
    assert grid[2, 3] == make_cell(DOOR_LOCKED, RED)
    state[CARRIED] = make_cell(KEY, RED)
    act(state, INTERACT)
    assert grid[2, 3] == make_cell(DOOR_OPEN, RED)
    act(state, FORWARD)
    assert (state[AGENT_ROW], state[AGENT_COLUMN]) == (2, 3)


def _symbolic(state: np.ndarray, view: int, view_size: int) -> np.ndarray:
    image = np.zeros((view_size, view_size, len(CHANNEL_NAMES)), dtype=np.bool_)
    draw_symbolic(state, view, view_size, image)
    return image


@pytest.mark.parametrize("direction", [UP, RIGHT, DOWN, LEFT])
def test_the_egocentric_view_turns_with_the_agent(direction: int) -> None:
    """Whatever the heading, what is ahead shows above the agent and what is on its right
    shows to the right; the agent sits at the bottom row's centre."""
    state, _ = open_state(maze_goal, size=9, row=4, column=4, direction=direction)
    ahead = {UP: (3, 4), RIGHT: (4, 5), DOWN: (5, 4), LEFT: (4, 3)}[direction]
    right = {UP: (4, 5), RIGHT: (5, 4), DOWN: (4, 3), LEFT: (3, 4)}[direction]
    cells(state)[ahead] = make_cell(GOAL, RED)
    cells(state)[right] = make_cell(KEY, BLUE)
    image = _symbolic(state, EGOCENTRIC, 5)
    goal, key = CHANNEL_NAMES.index("goal"), CHANNEL_NAMES.index("key")
    assert np.argwhere(image[..., goal]).tolist() == [[3, 2]]
    assert np.argwhere(image[..., key]).tolist() == [[4, 3]]
    assert image[3, 2, COLOUR_CHANNELS + RED]
    assert image[4, 3, COLOUR_CHANNELS + BLUE]
    assert np.argwhere(image[..., AGENT_CHANNEL]).tolist() == [[4, 2]]


def test_cells_outside_the_maze_read_as_wall_and_the_agent_sees_through_walls() -> None:
    state, _ = open_state(maze_goal, size=7, row=1, column=1, direction=UP)
    cells(state)[1, 2] = WALL_CELL
    cells(state)[1, 3] = make_cell(GOAL, RED)  # behind the wall, still shown
    image = _symbolic(state, EGOCENTRIC, 7)
    wall = CHANNEL_NAMES.index("wall")
    assert image[:5, :, wall].all()  # the border row and four rows beyond the maze
    assert image[:, :2, wall].all()  # left of the border
    assert image[6, 5, CHANNEL_NAMES.index("goal")]
    assert not image[..., COLOUR_CHANNELS:].any(axis=-1)[image[..., wall]].any()  # no wall colour


def test_the_full_view_shows_the_maze_in_world_orientation() -> None:
    state, _ = open_state(maze_goal, size=7, row=2, column=5, direction=LEFT)
    cells(state)[4, 1] = make_cell(GOAL, RED)
    image = _symbolic(state, FULL, 7)
    assert np.argwhere(image[..., AGENT_CHANNEL]).tolist() == [[2, 5]]
    assert np.argwhere(image[..., CHANNEL_NAMES.index("goal")]).tolist() == [[4, 1]]
    wall = image[..., CHANNEL_NAMES.index("wall")]
    border = np.ones((7, 7), dtype=np.bool_)
    border[1:6, 1:6] = False
    np.testing.assert_array_equal(wall, border)


def test_palette_colours_are_distinct_from_each_other_and_the_background() -> None:
    colours = [tuple(PALETTE[kind, colour]) for kind in range(2, NUM_KINDS) for colour in range(6)]
    colours += [tuple(PALETTE[WALL, 0]), tuple(PALETTE[NUM_KINDS, 0])]
    assert len(set(colours)) == len(colours)
    assert not set(colours) & set(BACKGROUND_COLOURS)


def decode(image: np.ndarray, cells_per_side: int) -> list[list[tuple]]:
    """The colour at the centre of each cell of a ``cells_per_side`` grid laid over ``image``."""
    size = image.shape[0]
    edges = np.arange(cells_per_side + 1) * size // cells_per_side
    centres = (edges[:-1] + edges[1:]) // 2
    return [[tuple(image[row, column]) for column in centres] for row in centres]


def expected_colours(symbolic: np.ndarray) -> list[list[tuple]]:
    """The colour each cell of a symbolic image should be painted."""
    rows = []
    for row in symbolic:
        shown = []
        for cell in row:
            kinds = np.flatnonzero(cell[:AGENT_CHANNEL])
            colours = np.flatnonzero(cell[COLOUR_CHANNELS:])
            if cell[AGENT_CHANNEL]:
                shown.append(tuple(PALETTE[NUM_KINDS, 0]))
            elif len(kinds):
                assert len(kinds) == 1
                colour = colours[0] if len(colours) else 0
                shown.append(tuple(PALETTE[kinds[0] + 1, colour]))
            else:
                shown.append(BACKGROUND_COLOURS[0])
        rows.append(shown)
    return rows


@pytest.mark.parametrize(("view", "size"), [("egocentric", 9), ("full", 9), ("full", 21)])
def test_symbolic_and_pixel_observations_describe_the_same_cells(view: str, size: int) -> None:
    make = {"view": view, "size": size}
    symbolic = gym.make("envsuite/KeyDoor-v1", view="full", size=size)
    pixels = gym.make("envsuite/KeyDoor-v1", obs_mode="pixels", render_mode="rgb_array", **make)
    egocentric = gym.make("envsuite/KeyDoor-v1", **make)
    cells_per_side = size if view == "full" else 7
    rng = np.random.default_rng(0)
    full, _ = symbolic.reset(seed=3)
    shown, _ = egocentric.reset(seed=3)
    image, _ = pixels.reset(seed=3)
    for step in range(150):
        assert decode(image["image"], cells_per_side) == expected_colours(shown["image"]), step
        assert decode(pixels.render(), size) == expected_colours(full["image"]), step
        for key in ("direction", "phase", "instruction"):
            np.testing.assert_array_equal(image[key], shown[key])
        action = int(rng.integers(4))
        full, _, terminated, truncated, _ = symbolic.step(action)
        shown, *_ = egocentric.step(action)
        image, *_ = pixels.step(action)
        if terminated or truncated:
            full, _ = symbolic.reset()
            shown, _ = egocentric.reset()
            image, _ = pixels.reset()


def test_the_features_are_one_hot() -> None:
    env = gym.make("envsuite/MazeGoal-v0")
    observation, info = env.reset(seed=0)
    assert info == {"success": False}
    direction = int(env.unwrapped.state[DIRECTION])
    assert observation["direction"].tolist() == [int(d == direction) for d in range(4)]
    assert observation["phase"].tolist() == [1, 0, 0, 0]
    assert not observation["instruction"].any()
    observation, *_ = env.step(TURN_RIGHT)
    assert observation["direction"].tolist() == [int(d == (direction + 1) % 4) for d in range(4)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"obs_mode": "rgb"}, r"obs_mode: unknown obs_mode 'rgb'; allowed: \['symbolic', 'pixels'"),
        ({"view": "top"}, r"view: unknown view 'top'; allowed: \['egocentric', 'full'\]"),
        ({"view_size": 6}, r"view_size: must be an odd integer in \[3, 11\], got 6"),
        ({"view_size": 13}, r"view_size: must be an odd integer in \[3, 11\], got 13"),
        ({"view_size": True}, r"view_size: must be an odd integer"),
        ({"variant": "hard"}, "variant: unknown variant 'hard' of MazeGoal"),
        ({"sise": 9}, r"sise: not a task parameter of MazeGoal \(did you mean 'size'\?\)"),
        ({"size": 23}, r"size: 23 is outside \[7, 21\]"),
        ({"size": 9, "room_rows": 3}, r"size: a 9x9 maze cannot hold 3 room_rows"),
        ({"render_mode": "ansi"}, r"render_mode: unknown render_mode 'ansi'"),
    ],
)
@pytest.mark.filterwarnings("ignore:.*render_mode='ansi'")
def test_bad_arguments_are_clear_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gym.make("envsuite/MazeGoal-v0", **kwargs)
    with pytest.raises(ValueError, match=message):
        gym.make_vec("envsuite/MazeGoal-v0", num_envs=2, **kwargs)


def test_a_task_definition_checks_its_own_shape() -> None:
    size = Param("size", 9, 7, 21, "side")
    with pytest.raises(ValueError, match="params: the first parameter must be 'size'"):
        TaskDefinition("Bad", "bad", 10, (Param("delay", 1, 0, 9, "d"), size))
    with pytest.raises(ValueError, match=r"state_size: must be in \[0, 112\]"):
        TaskDefinition("Bad", "bad", 10, (size,), state_size=200)


@pytest.mark.parametrize("action", [4, -1, 1.0, "forward", [1], True, None])
def test_an_action_outside_the_space_is_a_clear_error(action) -> None:
    env = gym.make("envsuite/MazeGoal-v0", disable_env_checker=True)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action: must be an integer in \[0, 4\) \(turn_left"):
        env.step(action)
    assert env.step(np.int32(2))[1] >= 0  # numpy integers are fine


@pytest.mark.parametrize(
    "actions", [np.array([0, 4]), np.array([0.0, 1.0]), np.array([1, 2, 3]), np.array([-1, 0])]
)
def test_a_batch_of_actions_outside_the_space_is_a_clear_error(actions: np.ndarray) -> None:
    envs = gym.make_vec("envsuite/MazeGoal-v0", num_envs=2)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions: must be 2 integers in \[0, 4\)"):
        envs.step(actions)


def test_vector_env_resets_only_the_masked_envs_and_accepts_seed_lists() -> None:
    envs = gym.make_vec("envsuite/MazeGoal-v0", num_envs=3)
    first, info = envs.reset(seed=[5, 6, 7])
    assert info["success"].tolist() == [False] * 3
    assert info["_success"].all()
    single = gym.make("envsuite/MazeGoal-v0")
    np.testing.assert_array_equal(first["image"][2], single.reset(seed=7)[0]["image"])
    for _ in range(3):
        moved, *_ = envs.step(np.array([FORWARD, TURN_LEFT, FORWARD]))
    again, _ = envs.reset(options={"reset_mask": np.array([False, True, False])})
    for key in moved:
        np.testing.assert_array_equal(again[key][0], moved[key][0])
        np.testing.assert_array_equal(again[key][2], moved[key][2])
    assert not np.array_equal(envs.unwrapped.states[1], envs.unwrapped.states[0])
    with pytest.raises(ValueError, match="reset_mask: must be a bool array of shape"):
        envs.reset(options={"reset_mask": [1, 0, 1]})
    with pytest.raises(ValueError, match="seed: must be None, a non-negative int, or a list of 3"):
        envs.reset(seed=[1, 2])


def test_only_a_seeded_or_first_reset_clears_the_state() -> None:
    """A task's reset sees the previous episode's state unless the env was seeded anew."""
    marker = TASK_SLOTS + 100
    env = gym.make("envsuite/MazeGoal-v0").unwrapped
    envs = gym.make_vec("envsuite/MazeGoal-v0", num_envs=2).unwrapped
    env.reset(seed=0)
    envs.reset(seed=0)
    env.state[marker] = 7
    envs.states[:, marker] = 7
    env.reset()
    envs.reset()
    assert env.state[marker] == 7
    assert envs.states[:, marker].tolist() == [7, 7]
    env.reset(seed=1)
    envs.reset(seed=[None, 1])
    assert env.state[marker] == 0
    assert envs.states[:, marker].tolist() == [7, 0]


def test_a_solved_step_reports_success_in_single_and_vector_infos() -> None:
    env = gym.make("envsuite/MazeGoal-v0").unwrapped
    env.reset(seed=0)
    state = env.state
    row, column = state[AGENT_ROW], state[AGENT_COLUMN]
    cells(state)[row - 1, column] = make_cell(GOAL, RED)
    state[DIRECTION] = UP
    _, reward, terminated, truncated, info = env.step(FORWARD)
    assert (reward, terminated, truncated, info) == (1.0, True, False, {"success": True})
    envs = gym.make_vec("envsuite/MazeGoal-v0", num_envs=2).unwrapped
    envs.reset(seed=0)
    for index in range(2):
        state = envs.states[index]
        row, column = state[AGENT_ROW], state[AGENT_COLUMN]
        cells(state)[row - 1, column] = make_cell(GOAL, RED)
        state[DIRECTION] = UP
    _, rewards, terminations, _, info = envs.step(np.array([FORWARD, TURN_LEFT]))
    assert rewards.tolist() == [1.0, 0.0]
    assert terminations.tolist() == [True, False]
    assert info["success"].tolist() == [True, False]
    _, rewards, terminations, _, info = envs.step(np.array([FORWARD, TURN_LEFT]))
    assert info["success"].tolist() == [False, False]  # env 0 autoreset this step


@pytest.mark.parametrize("env_id", IDS)
def test_episode_limits_truncate_alike_in_single_and_vector_envs(env_id: str) -> None:
    check_vector_matches_single(env_id, 60, 0, 2, "vector_entry_point", max_episode_steps=9)
    env = gym.make(env_id, max_episode_steps=9)
    env.reset(seed=0)
    ends = [env.step(TURN_LEFT)[2:4] for _ in range(9)]
    assert ends[-1] == (False, True)
    assert gym.spec(env_id).max_episode_steps == TASKS[env_id[9:-3]].max_episode_steps


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize(
    "make_kwargs", [{"obs_mode": "pixels"}, {"view": "full", "size": 11}], ids=["pixels", "full"]
)
def test_every_id_passes_the_harness_in_other_views(env_id: str, make_kwargs: dict) -> None:
    check_task(env_id, steps=120, vector_modes=("sync", "vector_entry_point"), **make_kwargs)


@pytest.mark.parametrize("task", TASK_NAMES)
def test_every_variant_resolves_and_plays(task: str) -> None:
    definition = TASKS[task]
    for variant in definition.variant_names():
        params = definition.resolve_params(variant, {})
        for param, value in zip(definition.params, params, strict=True):
            assert param.low <= value <= param.high
        env = gym.make(TASKS[task].env_id, variant=variant, view="full")
        observation, _ = env.reset(seed=0)
        assert observation["image"].shape[0] == params[0]
        for action in range(4):
            observation, *_ = env.step(action)
            assert env.observation_space.contains(observation)


def test_stepping_before_reset_is_refused() -> None:
    with pytest.raises(gym.error.ResetNeeded):
        gym.make_vec("envsuite/Neighborhood-v0", num_envs=2).step(np.array([2, 2]))
    with pytest.raises(gym.error.ResetNeeded):
        gym.make("envsuite/Neighborhood-v0").unwrapped.step(2)


@pytest.mark.parametrize("task", list(TASKS))
def test_steps_after_the_episode_ended_pay_nothing_and_change_nothing(task: str) -> None:
    env = gym.make(TASKS[task].env_id, disable_env_checker=True).unwrapped
    env.reset(seed=0)
    terminated = False
    while not terminated:
        _, reward, terminated, _, info = env.step(oracle_action(env))
    assert info["success"]
    state = env.state.copy()
    for action in range(4):
        _, reward, still_terminated, _, info = env.step(action)
        assert (reward, still_terminated, info["success"]) == (0.0, True, False)
    np.testing.assert_array_equal(env.state, state)


def test_numpy_numbers_are_accepted_and_bad_seeds_are_named() -> None:
    envs = gym.make_vec("envsuite/MazeGoal-v0", num_envs=np.int64(2), max_episode_steps=-1)
    assert envs.max_episode_steps is None
    first, _ = envs.reset(seed=np.int64(3))
    again, _ = envs.reset(seed=[3, 4])
    np.testing.assert_array_equal(first["image"], again["image"])
    for bad in ([-1, 0], -3, "seed"):
        with pytest.raises(ValueError, match="seed: must be None, a non-negative int"):
            envs.reset(seed=bad)
