"""Minigame test helpers: play episodes with a policy; drive a game's numba core directly."""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

from envsuite.minigames.engine import GRID_SIZE

Policy = Callable[[np.ndarray, np.random.Generator], int]


def mean_return(game: str, policy: Policy, episodes: int, seed: int, **make_kwargs) -> float:
    """Mean undiscounted return of ``policy`` (symbolic observation, rng -> action) over
    ``episodes`` episodes of ``envsuite/<game>-v0`` seeded ``seed``, ``seed + 1``, ..."""
    env = gym.make(f"envsuite/{game}-v0", **make_kwargs)
    rng = np.random.default_rng(seed)
    returns = []
    for episode in range(episodes):
        observation, _ = env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            observation, reward, terminated, truncated, _ = env.step(policy(observation, rng))
            total += reward
            done = terminated or truncated
        returns.append(total)
    env.close()
    return float(np.mean(returns))


def random_policy(observation: np.ndarray, rng: np.random.Generator) -> int:
    return int(rng.integers(6))


class Core:
    """One game's numba functions on a state the test can read and write."""

    def __init__(self, module, variant: str = "default", seed: int = 0, **params: float) -> None:
        self.module = module
        self.params = module.GAME.resolve_params(variant, params)
        self.state = np.zeros(module.GAME.state_size, dtype=np.int32)
        self.rng = np.array([seed], dtype=np.uint64)
        module.reset(self.state, self.params, self.rng)

    def step(self, action: int) -> tuple[float, bool]:
        reward, terminated = self.module.step(self.state, action, self.params, self.rng)
        return float(reward), bool(terminated)

    def grid(self) -> np.ndarray:
        grid = np.zeros((GRID_SIZE, GRID_SIZE, len(self.module.GAME.channels)), dtype=np.bool_)
        self.module.draw(self.state, self.params, grid)
        return grid

    def channel(self, name: str) -> np.ndarray:
        """The cells where channel ``name`` is set, as a (10, 10) bool array."""
        return self.grid()[..., self.module.GAME.channels.index(name)]
