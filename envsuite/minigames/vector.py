"""The batched face of every minigame: ``gym.make_vec("envsuite/<Game>-v0", num_envs=N)``.

All N envs step in one numba loop; env ``i`` reset with ``seed`` plays exactly as a single env
reset with ``seed + i`` (gymnasium's next-step autoreset: the step after an episode ends resets).
"""

from __future__ import annotations

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
from envsuite.minigames.engine import ACTION_NAMES, GRID_SIZE
from envsuite.minigames.games import env_state_size, reset_batch, step_batch
from envsuite.minigames.render import OBSERVATION_SIZE, RENDER_SIZE, rasterize
from envsuite.minigames.task import make_task


class MinigameVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` copies of one minigame task, stepped together; see :class:`MinigameEnv`.

    Takes the single env's arguments plus ``num_envs`` and ``max_episode_steps`` (``None``: no
    limit; ``gym.make_vec`` passes the registered 1000). ``reset(options={"reset_mask": m})``
    resets only the envs where ``m`` is true.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["rgb_array"],
        "render_fps": 15,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        game: str,
        num_envs: int = 1,
        obs_mode: str = "symbolic",
        variant: str = "default",
        theme: str | None = None,
        background: str = "plain",
        sticky_action_probability: float = 0.1,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        **task_params: float,
    ) -> None:
        num_envs = whole_number(num_envs, "num_envs", "a positive integer", minimum=1)
        limit = episode_limit(max_episode_steps)
        self.task = make_task(
            game,
            obs_mode,
            variant,
            theme,
            background,
            sticky_action_probability,
            render_mode,
            task_params,
        )
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.max_episode_steps = limit or None  # None or -1: no limit, as gym.make reads -1
        self.single_observation_space = self.task.observation_space()
        self.single_action_space = self.task.action_space()
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)

        self._states = np.zeros((num_envs, env_state_size(self.task.game)), dtype=np.int32)
        self._rngs = np.zeros((num_envs, 1), dtype=np.uint64)
        # Which envs ended their episode last step, so that this step resets them.
        self._done = np.zeros(num_envs, dtype=np.bool_)
        self._elapsed = np.zeros(num_envs, dtype=np.int64)
        self._rewards = np.zeros(num_envs, dtype=np.float64)
        self._terminations = np.zeros(num_envs, dtype=np.bool_)
        self._truncations = np.zeros(num_envs, dtype=np.bool_)
        self._grids = np.zeros(
            (num_envs, GRID_SIZE, GRID_SIZE, self.task.num_channels), dtype=np.bool_
        )
        self._pixels = np.zeros((num_envs, OBSERVATION_SIZE, OBSERVATION_SIZE, 3), dtype=np.uint8)
        self._seeded = np.zeros(num_envs, dtype=np.bool_)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        mask = reset_mask(options, self.num_envs)
        seeds = seeds_for(seed, self.num_envs)
        super().reset(seed=seeds[0] if not isinstance(seed, list | tuple) else None)
        seed_rngs(self._rngs, self._seeded, mask, seeds)
        task = self.task
        reset_batch(
            task.game_index,
            mask,
            self._states,
            task.params,
            self._rngs,
            self._grids,
        )
        self._done[mask] = False
        self._elapsed[mask] = 0
        return self._observations(), {}

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._seeded.all():
            raise gym.error.ResetNeeded("call reset() before step()")
        actions = np.asarray(actions)
        invalid = 0
        if actions.shape == (self.num_envs,) and actions.dtype.kind in "iu":
            task = self.task
            invalid = step_batch(
                task.game_index,
                self._states,
                task.params,
                task.sticky_action_probability,
                self._rngs,
                actions,
                self.max_episode_steps or 0,
                self._elapsed,
                self._done,
                self._rewards,
                self._terminations,
                self._truncations,
                self._grids,
            )
        check_batched_actions(actions, invalid, self.num_envs, ACTION_NAMES)
        return (
            self._observations(),
            self._rewards.copy(),
            self._terminations.copy(),
            self._truncations.copy(),
            {},
        )

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode is None:
            gym.logger.warn("render() needs render_mode='rgb_array' at gym.make_vec")
            return None
        frames = np.empty((self.num_envs, RENDER_SIZE, RENDER_SIZE, 3), dtype=np.uint8)
        rasterize(self._grids, self.task.palette, self.task.render_background, frames)
        return tuple(frames)

    def _observations(self) -> np.ndarray:
        if self.task.obs_mode == "symbolic":
            return self._grids.copy()
        rasterize(self._grids, self.task.palette, self.task.observation_background, self._pixels)
        return self._pixels.copy()
