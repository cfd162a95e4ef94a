"""Neighborhood: a maze and its landmarks last a trial of episodes while the goal and start move;
phases count episodes; seeded resets and trials' ends draw new mazes; vector envs keep trials as
single envs do; and an agent that remembers what it saw gets faster within a trial."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
from navigation_helpers import success_rate

from envsuite.navigation import neighborhood, oracle_action
from envsuite.navigation.cells import GOAL, NUM_KINDS, colour_of, kind_of
from envsuite.navigation.engine import (
    AGENT_COLUMN,
    AGENT_ROW,
    CELLS,
    TURN_LEFT,
    cell_at,
    maze_cells,
)
from envsuite.navigation.maze import FLOOR_CELL, MAX_SIZE, WALL_CELL, distances_to
from envsuite.navigation.neighborhood import GOAL_COLUMN, GOAL_ROW
from envsuite.navigation.oracle import action_towards
from envsuite.navigation.view import CHANNEL_NAMES, COLOUR_CHANNELS, EGOCENTRIC, view_frame
from envsuite.testing import check_task

ENV_ID = "envsuite/Neighborhood-v0"
WALL_CHANNEL, GOAL_CHANNEL = CHANNEL_NAMES.index("wall"), CHANNEL_NAMES.index("goal")


def walls(state: np.ndarray) -> np.ndarray:
    return maze_cells(state) == WALL_CELL


def goals(state: np.ndarray) -> dict[tuple[int, int], int]:
    """Cell -> colour of every goal square (landmark) in the maze."""
    cells = maze_cells(state)
    return {
        (int(row), int(column)): colour_of(cells[row, column])
        for row, column in np.argwhere(cells % NUM_KINDS == GOAL)
    }


def index_of(observation: dict, key: str) -> int:
    """The hot index of a one-hot feature, -1 when all zero."""
    return int(np.argmax(observation[key])) if observation[key].any() else -1


def play_trials(env: gym.Env, episodes: int, seed: int, steps: int = 0) -> list[dict]:
    """Reset ``episodes`` times (seeded first), taking ``steps`` turns each; what each showed."""
    state = env.unwrapped.state
    shown = []
    for episode in range(episodes):
        observation, _ = env.reset(seed=seed if episode == 0 else None)
        shown.append(
            {
                "walls": walls(state).copy(),
                "goals": goals(state),
                "goal": (int(state[GOAL_ROW]), int(state[GOAL_COLUMN])),
                "start": (int(state[AGENT_ROW]), int(state[AGENT_COLUMN])),
                "phase": index_of(observation, "phase"),
                "instruction": index_of(observation, "instruction"),
            }
        )
        for _ in range(steps):
            env.step(TURN_LEFT)
    return shown


def test_a_trial_keeps_its_maze_and_landmarks_while_the_goal_and_start_move() -> None:
    env = gym.make(ENV_ID)
    shown = play_trials(env, 12, seed=0, steps=3)
    for trial in range(3):
        episodes = shown[4 * trial : 4 * trial + 4]
        for episode in episodes:
            np.testing.assert_array_equal(episode["walls"], episodes[0]["walls"])
            assert episode["goals"] == episodes[0]["goals"]
            assert len(episode["goals"]) == 4
            assert len(set(episode["goals"].values())) == 4  # distinct colours
            assert episode["goal"] in episode["goals"]
            # The instruction names the goal's colour.
            assert episode["instruction"] == episode["goals"][episode["goal"]]
        assert [episode["phase"] for episode in episodes] == [0, 1, 2, 3]
        for before, after in itertools.pairwise(episodes):
            assert after["goal"] != before["goal"]
            assert after["instruction"] != before["instruction"]
    for before, after in zip(shown[::4], shown[4::4], strict=False):
        assert not np.array_equal(before["walls"], after["walls"])  # a new trial, a new maze
        assert before["goals"] != after["goals"]
    assert len({episode["start"] for episode in shown}) >= 10


def test_with_one_landmark_the_goal_moves_to_a_new_cell_every_episode() -> None:
    env = gym.make(ENV_ID, variant="moving_goal", episodes_per_trial=6)
    shown = play_trials(env, 12, seed=1)
    for trial in range(2):
        episodes = shown[6 * trial : 6 * trial + 6]
        for episode in episodes:
            np.testing.assert_array_equal(episode["walls"], episodes[0]["walls"])
            assert list(episode["goals"]) == [episode["goal"]]  # the old goal cell was cleared
            assert list(episode["goals"].values()) == [1]  # green
            assert episode["instruction"] == -1
        for before, after in itertools.pairwise(episodes):
            assert after["goal"] != before["goal"]
        assert [episode["phase"] for episode in episodes] == [0, 1, 2, 3, 3, 3]  # capped at 3
    assert not np.array_equal(shown[0]["walls"], shown[6]["walls"])


def test_a_seeded_reset_starts_a_new_trial() -> None:
    env = gym.make(ENV_ID)
    first = play_trials(env, 3, seed=5)
    again = play_trials(env, 2, seed=5)  # mid-trial: the seed starts over
    assert again[0]["phase"] == 0
    for before, after in zip(first, again, strict=False):
        np.testing.assert_array_equal(before["walls"], after["walls"])
        assert before["goal"] == after["goal"]
    other = play_trials(env, 1, seed=6)
    assert other[0]["phase"] == 0
    assert not np.array_equal(other[0]["walls"], first[0]["walls"])


def test_a_fixed_layout_seed_keeps_the_walls_across_trials() -> None:
    env = gym.make(ENV_ID, variant="fixed_layout", episodes_per_trial=2)
    shown = play_trials(env, 6, seed=0)
    for episode in shown:
        np.testing.assert_array_equal(episode["walls"], shown[0]["walls"])
    assert shown[0]["goals"] != shown[2]["goals"]  # landmarks still move with the trial


def test_the_vector_env_plays_trials_through_its_autoresets() -> None:
    """Episodes truncated after 3 steps: every env's phase counts 0, 1, 2, 3, then a new maze."""
    envs = gym.make_vec(ENV_ID, num_envs=2, max_episode_steps=3)
    states = envs.unwrapped.states
    observations, _ = envs.reset(seed=0)
    phases, mazes = [observations["phase"].argmax(axis=1).tolist()], [states.copy()]
    for _ in range(4 * 4 * 2):
        observations, *_ = envs.step(np.array([TURN_LEFT, TURN_LEFT]))
        phase = observations["phase"].argmax(axis=1).tolist()
        if phase != phases[-1]:
            phases.append(phase)
            mazes.append(states.copy())
    assert phases[:9] == [[p, p] for p in (0, 1, 2, 3, 0, 1, 2, 3, 0)]
    for env in range(2):
        grids = [maze[env, CELLS:] == WALL_CELL for maze in mazes]
        assert all(np.array_equal(grids[0], grid) for grid in grids[1:4])
        assert not np.array_equal(grids[0], grids[4])
        assert all(np.array_equal(grids[4], grid) for grid in grids[5:8])


@pytest.mark.parametrize("obs_mode", ["symbolic", "pixels"])
def test_the_harness_passes_across_trials(obs_mode: str) -> None:
    # Short episodes, so the 300 steps cross several trials (the vector env must keep them).
    check_task(ENV_ID, obs_mode=obs_mode, max_episode_steps=20)
    check_task(
        ENV_ID,
        vector_modes=("vector_entry_point",),
        obs_mode=obs_mode,
        variant="moving_goal",
        max_episode_steps=15,
    )


def test_walking_over_another_landmark_gives_nothing() -> None:
    env = gym.make(ENV_ID)
    env.reset(seed=2)
    state = env.unwrapped.state
    goal = (int(state[GOAL_ROW]), int(state[GOAL_COLUMN]))
    other = next(cell for cell in goals(state) if cell != goal)
    distances = np.empty((MAX_SIZE, MAX_SIZE), dtype=np.int64)
    for _ in range(200):
        _, reward, terminated, _, _ = env.step(int(action_towards(state, *other, distances)))
        assert (reward, terminated) == (0.0, False)
        if (state[AGENT_ROW], state[AGENT_COLUMN]) == other:
            break
    assert (state[AGENT_ROW], state[AGENT_COLUMN]) == other
    assert kind_of(cell_at(state, *other)) == GOAL  # still there for later episodes


def test_the_oracle_reaches_every_goal() -> None:
    assert success_rate("Neighborhood", lambda env, rng: oracle_action(env), 20, 0) == 1.0


class MappingAgent:
    """Explores to find the instructed landmark, walking shortest paths through the walls it
    has seen (unseen cells are taken as floor). It knows its own cell and heading, and reads
    the rest from its egocentric observation; with ``remember`` the walls and landmarks it saw
    carry over to the next episode of the trial."""

    def __init__(self, size: int, remember: bool) -> None:
        self.size, self.remember = size, remember
        self.known_wall = np.zeros((MAX_SIZE, MAX_SIZE), dtype=np.bool_)
        self.landmarks: dict[int, tuple[int, int]] = {}
        self.seen = np.zeros((MAX_SIZE, MAX_SIZE), dtype=np.bool_)
        self.distances = np.empty((MAX_SIZE, MAX_SIZE), dtype=np.int64)

    def begin_episode(self, new_trial: bool) -> None:
        if new_trial or not self.remember:
            self.known_wall[:] = False
            self.landmarks.clear()
        self.seen[:] = False  # the goal could be anywhere not looked at in this episode
        self.first_step = True

    def act(self, state: np.ndarray, observation: dict) -> int:
        if self.first_step and index_of(observation, "instruction") < 0:
            self.landmarks.clear()  # the goal has moved: what was seen of it is stale
        self.first_step = False
        image = observation["image"]
        view = image.shape[0]
        origin_row, origin_column, down_row, down_column, right_row, right_column = view_frame(
            state, EGOCENTRIC, view
        )
        down, right = np.meshgrid(np.arange(view), np.arange(view), indexing="ij")
        rows = origin_row + down * down_row + right * right_row
        columns = origin_column + down * down_column + right * right_column
        inside = (rows >= 0) & (rows < self.size) & (columns >= 0) & (columns < self.size)
        rows, columns, cells = rows[inside], columns[inside], image[inside]
        self.known_wall[rows, columns] = cells[:, WALL_CHANNEL]
        self.seen[rows, columns] = True
        for row, column, cell in zip(rows, columns, cells, strict=True):
            if cell[GOAL_CHANNEL]:
                self.landmarks[int(np.argmax(cell[COLOUR_CHANNELS:]))] = (row, column)
        believed = state.copy()  # the agent's own cell and heading, its belief of the cells
        grid = maze_cells(believed)
        grid[:, :] = WALL_CELL
        inner = self.known_wall[: self.size, : self.size]
        grid[: self.size, : self.size] = np.where(inner, WALL_CELL, FLOOR_CELL)
        # Without an instruction (one goal, moving every episode) any goal seen is the one.
        wanted = index_of(observation, "instruction")
        if wanted < 0 and self.landmarks:
            wanted = next(iter(self.landmarks))
        if wanted in self.landmarks:
            target = self.landmarks[wanted]
        else:  # the nearest cell not looked at yet in this episode that may hold it
            distances_to(grid, self.size, state[AGENT_ROW], state[AGENT_COLUMN], self.distances)
            candidate = (self.distances >= 0) & ~self.seen & ~self.known_wall
            target = np.unravel_index(
                np.argmin(np.where(candidate, self.distances, MAX_SIZE**2)), grid.shape
            )
        return int(action_towards(believed, int(target[0]), int(target[1]), self.distances))


def trial_lengths(remember: bool, seeds: range) -> np.ndarray:
    """Steps to the goal, (seed, episode of the trial)."""
    env = gym.make(ENV_ID)
    state = env.unwrapped.state
    lengths = np.zeros((len(seeds), 4))
    for trial, seed in enumerate(seeds):
        agent = MappingAgent(int(env.unwrapped.task.params[0]), remember)
        for episode in range(4):
            observation, _ = env.reset(seed=seed if episode == 0 else None)
            agent.begin_episode(new_trial=episode == 0)
            done, steps = False, 0
            while not done:
                observation, _, terminated, truncated, info = env.step(
                    agent.act(state, observation)
                )
                steps += 1
                done = terminated or truncated
            assert info["success"]
            lengths[trial, episode] = steps
    return lengths


def test_an_agent_that_remembers_the_neighbourhood_gets_faster() -> None:
    """Later episodes of a trial take fewer steps than the first for an agent that keeps its
    map, and fewer than the same agent forgetting between episodes (same seeds: the same
    mazes, landmarks and starts, as actions draw nothing from the env's RNG)."""
    seeds = range(30)
    remembering = trial_lengths(True, seeds)
    forgetting = trial_lengths(False, seeds)
    np.testing.assert_array_equal(remembering[:, 0], forgetting[:, 0])
    assert remembering[:, 1:].mean() < 0.85 * remembering[:, 0].mean()
    assert remembering[:, 1:].mean() < 0.85 * forgetting[:, 1:].mean()


def test_the_default_maze_is_much_bigger_than_the_view() -> None:
    params = neighborhood.TASK.resolve_params("default", {})
    assert params[0] == 17
    observation, _ = gym.make(ENV_ID, view="full").reset(seed=0)
    assert observation["image"].shape == (17, 17, len(CHANNEL_NAMES))
