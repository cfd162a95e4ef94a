"""The batched face of every navigation task: ``gym.make_vec("envsuite/<Task>-v0", num_envs=N)``.

All N envs step in one numba loop; env ``i`` reset with ``seed`` plays exactly as a single env
reset with ``seed + i`` (gymnasium's next-step autoreset: the step after an episode ends resets).
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

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
from envsuite.numba_vector import NumbaVectorEnv

Observations = dict[str, np.ndarray]


class NavigationVectorEnv(NumbaVectorEnv):
    """``num_envs`` copies of one navigation task, stepped together; see :class:`NavigationEnv`.

    Takes the single env's arguments plus ``num_envs`` and ``max_episode_steps`` (``None`` or
    -1: no limit; ``gym.make_vec`` passes the registered one). ``reset(options={"reset_mask":
    m})`` resets only the envs where ``m`` is true. ``info`` is ``{"success": bool array,
    "_success": all True}``.
    """

    metadata: ClassVar[dict[str, Any]] = {**NumbaVectorEnv.metadata, "render_fps": 10}

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
        self.task = make_task(task, obs_mode, view, view_size, variant, render_mode, task_params)
        super().__init__(
            num_envs,
            max_episode_steps,
            self.task.observation_space(),
            self.task.action_space(),
            STATE_SIZE,
            ACTION_NAMES,
            render_mode,
        )
        self._successes = np.zeros(self.num_envs, dtype=np.bool_)
        self._images, self._pixels, self._features = self.task.buffers(self.num_envs)
        self._shown = self._pixels if self.task.pixels_mode else self._images

    def _reset_envs(self, mask: np.ndarray, fresh: np.ndarray) -> None:
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
        self._successes[mask] = False

    def _step_envs(self, actions: np.ndarray) -> int:
        task = self.task
        return step_batch(
            task.task_index,
            self._states,
            task.params,
            self._rngs,
            actions,
            self.episode_limit,
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
