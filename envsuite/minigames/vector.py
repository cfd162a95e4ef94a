"""The batched face of every minigame: ``gym.make_vec("envsuite/<Game>-v0", num_envs=N)``.

All N envs step in one numba loop; env ``i`` reset with ``seed`` plays exactly as a single env
reset with ``seed + i`` (gymnasium's next-step autoreset: the step after an episode ends resets).
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from envsuite.minigames.engine import ACTION_NAMES, GRID_SIZE
from envsuite.minigames.games import env_state_size, reset_batch, step_batch
from envsuite.minigames.render import OBSERVATION_SIZE, RENDER_SIZE, rasterize
from envsuite.minigames.task import make_task
from envsuite.numba_vector import NumbaVectorEnv


class MinigameVectorEnv(NumbaVectorEnv):
    """``num_envs`` copies of one minigame task, stepped together; see :class:`MinigameEnv`.

    Takes the single env's arguments plus ``num_envs`` and ``max_episode_steps`` (``None`` or
    -1: no limit; ``gym.make_vec`` passes the registered 1000). ``reset(options={"reset_mask":
    m})`` resets only the envs where ``m`` is true.
    """

    # padded_width_argument: how a sequence asks for observations already padded to its space.
    metadata: ClassVar[dict[str, Any]] = {
        **NumbaVectorEnv.metadata,
        "render_fps": 15,
        "padded_width_argument": "observation_channels",
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
        observation_channels: int | None = None,
        **task_params: float,
    ) -> None:
        self.task = make_task(
            game,
            obs_mode,
            variant,
            theme,
            background,
            sticky_action_probability,
            render_mode,
            task_params,
            observation_channels,
        )
        super().__init__(
            num_envs,
            max_episode_steps,
            self.task.observation_space(),
            self.task.action_space(),
            env_state_size(self.task.game),
            ACTION_NAMES,
            render_mode,
        )
        self._grids = np.zeros(
            (self.num_envs, GRID_SIZE, GRID_SIZE, self.task.num_channels), dtype=np.bool_
        )
        self._pixels = np.zeros(
            (self.num_envs, OBSERVATION_SIZE, OBSERVATION_SIZE, 3), dtype=np.uint8
        )

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode is None:
            gym.logger.warn("render() needs render_mode='rgb_array' at gym.make_vec")
            return None
        frames = np.empty((self.num_envs, RENDER_SIZE, RENDER_SIZE, 3), dtype=np.uint8)
        rasterize(self._grids, self.task.palette, self.task.render_background, frames)
        return tuple(frames)

    def _reset_envs(self, mask: np.ndarray, fresh: np.ndarray) -> None:
        task = self.task
        reset_batch(task.game_index, mask, self._states, task.params, self._rngs, self._grids)

    def _step_envs(self, actions: np.ndarray) -> int:
        task = self.task
        return step_batch(
            task.game_index,
            self._states,
            task.params,
            task.sticky_action_probability,
            self._rngs,
            actions,
            self.episode_limit,
            self._elapsed,
            self._done,
            self._rewards,
            self._terminations,
            self._truncations,
            self._grids,
        )

    def _observations(self) -> np.ndarray:
        if self.task.obs_mode == "symbolic":
            return self._grids.copy()
        rasterize(self._grids, self.task.palette, self.task.observation_background, self._pixels)
        return self._pixels.copy()
