"""The batched face of every navigation task: ``gym.make_vec("envsuite/<Task>-v0", num_envs=N)``.

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
from envsuite.navigation.engine import ACTION_NAMES, STATE_SIZE
from envsuite.navigation.task import make_task
from envsuite.navigation.tasks import reset_batch, step_batch
from envsuite.navigation.view import (
    DIRECTION_FEATURES,
    INSTRUCTION_FEATURES,
    NUM_FEATURES,
    PHASE_FEATURES,
    RENDER_SIZE,
    render_maze,
)

Observations = dict[str, np.ndarray]


class NavigationVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` copies of one navigation task, stepped together; see :class:`NavigationEnv`.

    Takes the single env's arguments plus ``num_envs`` and ``max_episode_steps`` (``None``: no
    limit; ``gym.make_vec`` passes the registered one). ``reset(options={"reset_mask": m})``
    resets only the envs where ``m`` is true. ``info`` is ``{"success": bool array,
    "_success": all True}``.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["rgb_array"],
        "render_fps": 10,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        task: str,
        num_envs: int = 1,
        obs_mode: str = "symbolic",
        view: str = "egocentric",
        view_size: int = 7,
        variant: str = "default",
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        **task_params: float,
    ) -> None:
        num_envs = whole_number(num_envs, "num_envs", "a positive integer", minimum=1)
        limit = episode_limit(max_episode_steps)
        self.task = make_task(task, obs_mode, view, view_size, variant, render_mode, task_params)
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.max_episode_steps = limit or None  # None or -1: no limit, as gym.make reads -1
        self.single_observation_space = self.task.observation_space()
        self.single_action_space = self.task.action_space()
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)

        self._states = np.zeros((num_envs, STATE_SIZE), dtype=np.int32)
        self._rngs = np.zeros((num_envs, 1), dtype=np.uint64)
        # Which envs ended their episode last step, so that this step resets them.
        self._done = np.zeros(num_envs, dtype=np.bool_)
        self._elapsed = np.zeros(num_envs, dtype=np.int64)
        self._rewards = np.zeros(num_envs, dtype=np.float64)
        self._terminations = np.zeros(num_envs, dtype=np.bool_)
        self._truncations = np.zeros(num_envs, dtype=np.bool_)
        self._successes = np.zeros(num_envs, dtype=np.bool_)
        self._images, self._pixels, self._features = self.task.buffers(num_envs)
        self._shown = self._pixels if self.task.pixels_mode else self._images
        self._seeded = np.zeros(num_envs, dtype=np.bool_)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observations, dict[str, Any]]:
        mask = reset_mask(options, self.num_envs)
        seeds = seeds_for(seed, self.num_envs)
        super().reset(seed=seeds[0] if not isinstance(seed, list | tuple) else None)
        fresh = seed_rngs(self._rngs, self._seeded, mask, seeds)
        task = self.task
        reset_batch(
            task.task_index,
            mask,
            fresh,
            self._states,
            task.params,
            self._rngs,
            task.pixels_mode,
            task.view,
            task.view_size,
            task.palette,
            task.observation_background,
            self._images,
            self._pixels,
            self._features,
        )
        self._done[mask] = False
        self._elapsed[mask] = 0
        self._successes[mask] = False
        return self._observations(), self._info()

    def step(
        self, actions: Any
    ) -> tuple[Observations, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._seeded.all():
            raise gym.error.ResetNeeded("call reset() before step()")
        actions = np.asarray(actions)
        invalid = 0
        if actions.shape == (self.num_envs,) and actions.dtype.kind in "iu":
            task = self.task
            invalid = step_batch(
                task.task_index,
                self._states,
                task.params,
                self._rngs,
                actions,
                self.max_episode_steps or 0,
                self._elapsed,
                self._done,
                self._rewards,
                self._terminations,
                self._truncations,
                self._successes,
                task.pixels_mode,
                task.view,
                task.view_size,
                task.palette,
                task.observation_background,
                self._images,
                self._pixels,
                self._features,
            )
        check_batched_actions(actions, invalid, self.num_envs, ACTION_NAMES)
        return (
            self._observations(),
            self._rewards.copy(),
            self._terminations.copy(),
            self._truncations.copy(),
            self._info(),
        )

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode is None:
            gym.logger.warn("render() needs render_mode='rgb_array' at gym.make_vec")
            return None
        frames = np.empty((self.num_envs, RENDER_SIZE, RENDER_SIZE, 3), dtype=np.uint8)
        for index in range(self.num_envs):
            render_maze(
                self._states[index], self.task.palette, self.task.render_background, frames[index]
            )
        return tuple(frames)

    @property
    def states(self) -> np.ndarray:
        """The ``(num_envs, STATE_SIZE)`` int32 states (privileged access for oracles, tests)."""
        return self._states

    def _info(self) -> dict[str, Any]:
        return {"success": self._successes.copy(), "_success": np.ones(self.num_envs, np.bool_)}

    def _observations(self) -> Observations:
        features = self._features
        return {
            "image": self._shown.copy(),
            "direction": features[:, DIRECTION_FEATURES:PHASE_FEATURES].copy(),
            "phase": features[:, PHASE_FEATURES:INSTRUCTION_FEATURES].copy(),
            "instruction": features[:, INSTRUCTION_FEATURES:NUM_FEATURES].copy(),
        }
