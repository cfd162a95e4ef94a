"""The single-env face of every minigame: ``gym.make("envsuite/<Game>-v0")``."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from envsuite.env_arguments import checked_action
from envsuite.minigames.engine import ACTION_NAMES, GRID_SIZE
from envsuite.minigames.games import env_state_size, reset_env, step_env
from envsuite.minigames.render import OBSERVATION_SIZE, RENDER_SIZE, rasterize_one
from envsuite.minigames.task import make_task
from envsuite.numba_random import initial_random_state


class MinigameEnv(gym.Env[np.ndarray, np.int64]):
    """A small arcade game on a 10x10 grid, drawn by our own numba engine.

    ## Description
    One of the family's games (``envsuite.minigames.GAMES``): Breakout, Freeway, Asterix,
    SpaceInvaders, Snake, Catch and Runner. Each module's docstring and ``GAME.rules`` give its
    rules; the README's catalogue shows a frame of each.

    ## Action Space
    ``Discrete(6)``, the same for every game so that sequences never remap actions:
    0 noop, 1 left, 2 right, 3 up, 4 down, 5 fire. A game ignores the actions it has no use for.
    With probability ``sticky_action_probability`` the previous action is repeated instead.

    ## Observation Space
    ``obs_mode="symbolic"``: ``Box(0, 1, (10, 10, C), bool)``, one channel per kind of object
    (``GAME.channels``). ``obs_mode="pixels"``: ``Box(0, 255, (64, 64, 3), uint8)``, the same
    grid drawn in the task's colour ``theme`` over its ``background``.

    ## Rewards
    Game points: +1 for each brick, crossing, treasure, alien, fruit or coin; Runner also gives
    +10 for reaching the end of its level. See each game's rules.

    ## Episode End
    Terminated when the game is over (lives lost, crash, level finished). Truncated after
    ``max_episode_steps`` steps (a ``gym.make`` argument; default 1000).

    ## Arguments
    - ``obs_mode``: ``"symbolic"`` (default) or ``"pixels"``.
    - ``variant``: a named set of task parameters (``GAME.variants``), default ``"default"``.
    - ``theme``: colour theme (``envsuite.minigames.THEMES``); default: the game's own.
    - ``background``: ``plain``, ``stripes``, ``checker``, ``gradient`` or ``dots``.
    - ``sticky_action_probability``: in [0, 1), default 0.1.
    - ``render_mode``: ``"rgb_array"`` renders 256x256 frames.
    - ``observation_channels``: symbolic observations carry this many channels, the game's own
      first and the rest always zero (a sequence of games pads them so); default: the game's.
    - any task parameter of the game (``GAME.params``) by name, e.g. ``fruit_speed=0.8``.

    ## Version History
    - v0: initial version (``observation_channels`` added without a version bump: it changes
      nothing unless set).
    """

    # padded_width_argument: how a sequence asks for observations already padded to its space.
    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["rgb_array"],
        "render_fps": 15,
        "padded_width_argument": "observation_channels",
    }

    def __init__(
        self,
        game: str,
        obs_mode: str = "symbolic",
        variant: str = "default",
        theme: str | None = None,
        background: str = "plain",
        sticky_action_probability: float = 0.1,
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
        self.render_mode = render_mode
        self.observation_space = self.task.observation_space()
        self.action_space = self.task.action_space()
        self._state = np.zeros(env_state_size(self.task.game), dtype=np.int32)
        self._rng = np.zeros(1, dtype=np.uint64)
        self._grid = np.zeros((GRID_SIZE, GRID_SIZE, self.task.num_channels), dtype=np.bool_)
        self._pixels = np.zeros((OBSERVATION_SIZE, OBSERVATION_SIZE, 3), dtype=np.uint8)
        self._seeded = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        # Without a seed an episode continues the RNG stream of the one before, as in gymnasium.
        if seed is not None or not self._seeded:
            self._rng[0] = initial_random_state(seed)
            self._seeded = True
        reset_env(self.task.game_index, self._state, self.task.params, self._rng, self._grid)
        return self._observation(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self._seeded:
            raise gym.error.ResetNeeded("call reset() before step()")
        task = self.task
        reward, terminated = step_env(
            task.game_index,
            self._state,
            task.params,
            task.sticky_action_probability,
            self._rng,
            checked_action(action, ACTION_NAMES),
            self._grid,
        )
        return self._observation(), reward, terminated, False, {}

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() needs render_mode='rgb_array' at gym.make")
            return None
        frame = np.empty((RENDER_SIZE, RENDER_SIZE, 3), dtype=np.uint8)
        rasterize_one(self._grid, self.task.palette, self.task.render_background, frame)
        return frame

    def _observation(self) -> np.ndarray:
        if self.task.obs_mode == "symbolic":
            return self._grid.copy()
        rasterize_one(self._grid, self.task.palette, self.task.observation_background, self._pixels)
        return self._pixels.copy()
