"""KeyDoor: the wall splits key and goal, only the key's colour opens the door, the oracle wins."""

from __future__ import annotations

import colorsys

import gymnasium as gym
import numpy as np
import pytest
from navigation_helpers import cells, open_state, random_policy, success_rate

from envsuite.navigation import key_door, oracle_action
from envsuite.navigation.cells import (
    DOOR_LOCKED,
    DOOR_OPEN,
    GOAL,
    KEY,
    NUM_KINDS,
    RED,
    YELLOW,
    colour_of,
    kind_of,
    make_cell,
)
from envsuite.navigation.engine import (
    AGENT_COLUMN,
    AGENT_ROW,
    CARRIED,
    CELLS,
    FORWARD,
    INTERACT,
    TURN_RIGHT,
    UP,
)
from envsuite.navigation.maze import FLOOR_CELL, MAX_SIZE, distances_to
from envsuite.navigation.view import PALETTE


def _find(grid: np.ndarray, kind: int) -> list[tuple[int, int]]:
    return [tuple(cell) for cell in np.argwhere(grid % NUM_KINDS == kind)]


@pytest.mark.parametrize("variant", ["default", "large", "open"])
def test_the_door_is_the_only_way_from_the_key_side_to_the_goal(variant: str) -> None:
    env = gym.make("envsuite/KeyDoor-v1", variant=variant, key_colour=-1).unwrapped
    distances = np.empty((MAX_SIZE, MAX_SIZE), dtype=np.int64)
    colours = set()
    for seed in range(24):
        env.reset(seed=seed)
        state = env.state
        size = int(state[key_door.MAZE_SIZE])
        grid = state[CELLS:].reshape(MAX_SIZE, MAX_SIZE)
        (key,), (door,), (goal,) = _find(grid, KEY), _find(grid, DOOR_LOCKED), _find(grid, GOAL)
        assert colour_of(grid[key]) == colour_of(grid[door])
        # The key's hue is never the goal's, so that the three read apart in every frame.
        assert colour_of(grid[key]) != colour_of(grid[goal])
        colours.add(colour_of(grid[key]))
        agent = (int(state[AGENT_ROW]), int(state[AGENT_COLUMN]))
        distances_to(grid, size, *agent, distances)
        assert distances[goal] == -1  # the locked door blocks every way
        distances_to(grid, size, *key, distances)
        assert distances[agent] > 0  # the key is reachable
        # Once the key is picked up (its cell turns floor), the door is reachable; the key may
        # lie in front of the door.
        picked_up = grid.copy()
        picked_up[key] = FLOOR_CELL
        distances_to(picked_up, size, *door, distances)
        assert distances[agent] > 0
    assert len(colours) > 1


def _hue_degrees(rgb: np.ndarray) -> float:
    return 360 * colorsys.rgb_to_hsv(*(rgb / 255))[0]


def test_the_goal_is_drawn_in_another_hue_than_key_and_door() -> None:
    # The catalogue frame once showed key, door and goal in three greens: the random key drew
    # the goal's colour. Pixels of the same hue tell kinds apart only by shade.
    env = gym.make("envsuite/KeyDoor-v1", obs_mode="pixels").unwrapped
    for seed in range(30):
        env.reset(seed=seed)
        grid = env.state[CELLS:].reshape(MAX_SIZE, MAX_SIZE)
        (key,), (goal,) = _find(grid, KEY), _find(grid, GOAL)
        key_hue = _hue_degrees(PALETTE[KEY, colour_of(grid[key])].astype(float))
        goal_hue = _hue_degrees(PALETTE[GOAL, colour_of(grid[goal])].astype(float))
        gap = abs(key_hue - goal_hue)
        assert min(gap, 360 - gap) > 40, seed


def test_a_key_of_the_goals_colour_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"key_colour: 1 \(green\) is the goal_colour too"):
        gym.make("envsuite/KeyDoor-v1", key_colour=1)
    with pytest.raises(ValueError, match=r"key_colour: 4 \(yellow\) is the goal_colour"):
        gym.make("envsuite/KeyDoor-v1", variant="yellow_key", goal_colour=4)


def test_the_key_opens_the_door_and_the_goal_behind_it_scores() -> None:
    state, params = open_state(key_door, size=7, row=3, column=2, direction=UP)
    grid = cells(state)
    grid[1:6, 4] = make_cell(1, 5)  # a wall down column 4
    grid[3, 4] = make_cell(DOOR_LOCKED, YELLOW)
    grid[2, 2] = make_cell(KEY, RED)
    grid[3, 5] = make_cell(GOAL, 1)
    rng = np.array([1], dtype=np.uint64)

    def step(action: int) -> tuple[float, bool]:
        return key_door.step(state, action, params, rng)

    assert step(INTERACT) == (0.0, False)
    assert state[CARRIED] == make_cell(KEY, RED)
    assert step(TURN_RIGHT) == (0.0, False)
    assert step(FORWARD) == (0.0, False)
    assert step(INTERACT) == (0.0, False)  # a red key, a yellow door
    assert kind_of(grid[3, 4]) == DOOR_LOCKED
    state[CARRIED] = make_cell(KEY, YELLOW)
    assert step(INTERACT) == (0.0, False)
    assert grid[3, 4] == make_cell(DOOR_OPEN, YELLOW)
    assert step(FORWARD) == (0.0, False)
    assert step(FORWARD) == (1.0, True)
    assert (state[AGENT_ROW], state[AGENT_COLUMN]) == (3, 5)


def test_a_fixed_layout_keeps_key_door_and_goal() -> None:
    env = gym.make("envsuite/KeyDoor-v1", variant="fixed_layout").unwrapped
    layouts = set()
    for seed in range(4):
        env.reset(seed=seed)
        layouts.add(env.state[CELLS:].tobytes())
    assert len(layouts) == 1


def test_the_oracle_solves_nearly_every_episode_and_a_random_policy_far_fewer() -> None:
    def oracle(env: gym.Env, rng: np.random.Generator) -> int:
        return oracle_action(env)

    kwargs = {"max_episode_steps": 200}
    assert success_rate("KeyDoor", oracle, 40, seed=0, **kwargs) >= 0.95
    assert success_rate("KeyDoor", random_policy, 40, seed=0, **kwargs) <= 0.3


def test_the_oracle_heads_for_the_key_first() -> None:
    env = gym.make("envsuite/KeyDoor-v1")
    env.reset(seed=1)
    state = env.unwrapped.state
    assert key_door.oracle_target(state, env.unwrapped.task.params) == tuple(
        _find(state[CELLS:].reshape(MAX_SIZE, MAX_SIZE), KEY)[0]
    )
    for _ in range(200):
        _, _, terminated, _, _ = env.step(oracle_action(env))
        if state[CARRIED] != -1:
            break
    assert kind_of(state[CARRIED]) == KEY
    assert not terminated
