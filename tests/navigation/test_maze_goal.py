"""MazeGoal: the goal ends the episode with +1, a layout seed fixes the maze, the oracle wins."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from navigation_helpers import cells, open_state, random_policy, success_rate

from envsuite.navigation import maze_goal, oracle_action
from envsuite.navigation.cells import BLUE, GOAL, GREEN, colour_of, kind_of, make_cell
from envsuite.navigation.engine import (
    AGENT_COLUMN,
    AGENT_ROW,
    CELLS,
    FORWARD,
    RIGHT,
    SUCCESS,
    TURN_LEFT,
)


def test_walking_onto_the_goal_scores_one_and_ends_the_episode() -> None:
    state, params = open_state(maze_goal, row=3, column=3, direction=RIGHT)
    cells(state)[3, 5] = make_cell(GOAL, GREEN)
    rng = np.array([1], dtype=np.uint64)
    assert maze_goal.step(state, FORWARD, params, rng) == (0.0, False)
    assert state[SUCCESS] == 0
    assert maze_goal.step(state, FORWARD, params, rng) == (1.0, True)
    assert state[SUCCESS] == 1


def test_a_reset_places_one_goal_of_its_colour_and_the_agent_on_floor() -> None:
    env = gym.make("envsuite/MazeGoal-v0", goal_colour=BLUE, size=11).unwrapped
    for seed in range(5):
        env.reset(seed=seed)
        grid = env.state[CELLS:].reshape(21, 21)
        goals = [(r, c) for r in range(11) for c in range(11) if kind_of(grid[r, c]) == GOAL]
        assert len(goals) == 1
        assert colour_of(grid[goals[0]]) == BLUE
        agent = (env.state[AGENT_ROW], env.state[AGENT_COLUMN])
        assert grid[agent] == 0  # plain floor
        assert agent != goals[0]


def _layout(env: gym.Env, seed: int | None) -> tuple[np.ndarray, tuple[int, int]]:
    env.reset(seed=seed)
    state = env.unwrapped.state
    return state[CELLS:].copy(), (int(state[AGENT_ROW]), int(state[AGENT_COLUMN]))


def test_a_layout_seed_fixes_walls_and_goal_but_not_the_start() -> None:
    fixed = gym.make("envsuite/MazeGoal-v0", layout_seed=4)
    layouts = [_layout(fixed, seed) for seed in range(6)]
    assert all(np.array_equal(layouts[0][0], cells) for cells, _ in layouts)
    assert len({start for _, start in layouts}) > 1
    assert not np.array_equal(
        _layout(gym.make("envsuite/MazeGoal-v0", layout_seed=5), 0)[0], layouts[0][0]
    )
    fresh = gym.make("envsuite/MazeGoal-v0")
    assert not np.array_equal(_layout(fresh, 0)[0], _layout(fresh, None)[0])


def test_the_oracle_solves_nearly_every_episode_and_a_random_policy_far_fewer() -> None:
    def oracle(env: gym.Env, rng: np.random.Generator) -> int:
        return oracle_action(env)

    kwargs = {"variant": "large", "max_episode_steps": 150}
    assert success_rate("MazeGoal", oracle, 40, seed=0, **kwargs) >= 0.95
    assert success_rate("MazeGoal", random_policy, 40, seed=0, **kwargs) <= 0.5


def test_turning_in_place_never_succeeds() -> None:
    env = gym.make("envsuite/MazeGoal-v0")
    env.reset(seed=0)
    for _ in range(20):
        _, reward, terminated, _, info = env.step(TURN_LEFT)
        assert (reward, terminated, info["success"]) == (0.0, False, False)
