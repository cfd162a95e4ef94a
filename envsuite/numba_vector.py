"""The vector env the numba families share: N envs as rows of one int32 state array and one RNG
array, stepped by a family's numba batch loop with gymnasium's next-step autoreset.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from envsuite.env_arguments import (
    check_batched_actions,
    episode_limit,
    reset_mask,
    seed_rngs,
    seeds_for,
    whole_number,
)


class NumbaVectorEnv(gym.vector.VectorEnv):
    """Seeding, reset masks, action checks, episode limits and result buffers for a family's
    batched env; the family supplies the numba calls (``_reset_envs``, ``_step_envs``) and the
    observations.

    Env ``i`` reset with ``seed`` plays exactly as a single env reset with ``seed + i``;
    ``reset(options={"reset_mask": m})`` resets only the envs where ``m`` is true; an env reset
    without a seed continues its RNG stream. ``max_episode_steps`` None or -1: no limit.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["rgb_array"],
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: Any,
        max_episode_steps: Any,
        single_observation_space: gym.Space,
        single_action_space: gym.Space,
        state_size: int,
        action_names: Sequence[str],
        render_mode: str | None,
    ) -> None:
        num_envs = whole_number(num_envs, "num_envs", "a positive integer", minimum=1)
        self.episode_limit = episode_limit(max_episode_steps)  # 0: none, for the numba loop
        self.max_episode_steps = self.episode_limit or None
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.action_names = tuple(action_names)
        self.single_observation_space = single_observation_space
        self.single_action_space = single_action_space
        self.observation_space = batch_space(single_observation_space, num_envs)
        self.action_space = batch_space(single_action_space, num_envs)
        self._states = np.zeros((num_envs, state_size), dtype=np.int32)
        self._rngs = np.zeros((num_envs, 1), dtype=np.uint64)
        self._seeded = np.zeros(num_envs, dtype=np.bool_)
        # Which envs ended their episode last step, so that this step resets them.
        self._done = np.zeros(num_envs, dtype=np.bool_)
        self._elapsed = np.zeros(num_envs, dtype=np.int64)
        self._rewards = np.zeros(num_envs, dtype=np.float64)
        self._terminations = np.zeros(num_envs, dtype=np.bool_)
        self._truncations = np.zeros(num_envs, dtype=np.bool_)

    def reset(
        self, *, seed: Any = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        mask = reset_mask(options, self.num_envs)
        seeds = seeds_for(seed, self.num_envs)
        super().reset(seed=seeds[0] if not isinstance(seed, list | tuple) else None)
        fresh = seed_rngs(self._rngs, self._seeded, mask, seeds)
        self._reset_envs(mask, fresh)
        self._done[mask] = False
        self._elapsed[mask] = 0
        return self._observations(), self._info()

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._seeded.all():
            raise gym.error.ResetNeeded("call reset() before step()")
        actions = np.asarray(actions)
        invalid = 0
        if actions.shape == (self.num_envs,) and actions.dtype.kind in "iu":
            invalid = self._step_envs(actions)
        check_batched_actions(actions, invalid, self.num_envs, self.action_names)
        return (
            self._observations(),
            self._rewards.copy(),
            self._terminations.copy(),
            self._truncations.copy(),
            self._info(),
        )

    @property
    def states(self) -> np.ndarray:
        """The ``(num_envs, state size)`` int32 states (privileged access for oracles, tests)."""
        return self._states

    @abstractmethod
    def _reset_envs(self, mask: np.ndarray, fresh: np.ndarray) -> None:
        """Start a new episode in the masked envs (``fresh``: just seeded) and draw them."""

    @abstractmethod
    def _step_envs(self, actions: np.ndarray) -> int:
        """The family's numba batch step over the buffers; -1, or the first invalid action."""

    @abstractmethod
    def _observations(self) -> Any:
        """Copies of the batched observations."""

    def _info(self) -> dict[str, Any]:
        return {}
