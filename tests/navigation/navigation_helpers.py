"""Navigation test helpers: play episodes with a policy; build and drive hand-set env states."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

import envsuite.navigation
from envsuite.navigation.engine import (
    AGENT_COLUMN,
    AGENT_ROW,
    DIRECTION,
    STATE_SIZE,
    begin_episode,
    maze_cells,
    open_room,
)
from envsuite.navigation.tasks import TASKS

envsuite.navigation.register_navigation()

Policy = Callable[[gym.Env, np.random.Generator], int]


def success_rate(task: str, policy: Policy, episodes: int, seed: int, **make_kwargs: Any) -> float:
    """Share of ``episodes`` episodes of ``task`` (seeded ``seed``, ``seed + 1``, ...) that
    ``policy`` (env, rng -> action) solves."""
    env = gym.make(TASKS[task].env_id, **make_kwargs)
    rng = np.random.default_rng(seed)
    solved = 0
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        done, success = False, False
        while not done:
            _, _, terminated, truncated, info = env.step(policy(env, rng))
            done, success = terminated or truncated, info["success"]
        solved += success
    env.close()
    return solved / episodes


def random_policy(env: gym.Env, rng: np.random.Generator) -> int:
    return int(rng.integers(4))


def open_state(module: Any, size: int = 7, row: int = 3, column: int = 3, direction: int = 0):
    """A task's (state, params) in an empty ``size`` room, the agent at (row, column)."""
    params = module.TASK.resolve_params("default", {"size": size})
    state = np.zeros(STATE_SIZE, dtype=np.int32)
    begin_episode(state, params)
    open_room(state, size)
    state[AGENT_ROW], state[AGENT_COLUMN], state[DIRECTION] = row, column, direction
    return state, params


def cells(state: np.ndarray) -> np.ndarray:
    """The (MAX_SIZE, MAX_SIZE) view of the state's cells (writable)."""
    return maze_cells(state)
