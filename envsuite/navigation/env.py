"""The single-env face of every navigation task: ``gym.make("envsuite/<Task>-v0")``."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from envsuite.env_arguments import checked_action
from envsuite.navigation.engine import ACTION_NAMES, STATE_SIZE
from envsuite.navigation.task import make_task
from envsuite.navigation.tasks import reset_env, step_env
from envsuite.navigation.view import (
    DIRECTION_FEATURES,
    INSTRUCTION_FEATURES,
    NUM_FEATURES,
    PHASE_FEATURES,
    RENDER_SIZE,
    render_maze,
)
from envsuite.numba_random import initial_random_state

Observation = dict[str, np.ndarray]


class NavigationEnv(gym.Env[Observation, np.int64]):
    """A gridworld maze task with memory demands, run by our own numba engine.

    ## Description
    One of the family's tasks (``envsuite.navigation.TASKS``): MazeGoal, KeyDoor, ObjectRecall,
    Ballet and Neighborhood. Each module's docstring and ``TASK.description`` give its rules.
    The maze is ``size x size`` cells (a task parameter, 7..21) with a wall border, rooms and
    inner walls; the agent stands on a cell facing one of four directions.

    ## Action Space
    ``Discrete(4)``, the same for every task: 0 turn left, 1 turn right, 2 forward (onto a
    walkable cell: floor, goal, open door, object; else the agent stays), 3 interact with the
    cell in front (pick up a key when empty-handed; open a locked door of the carried key's
    colour).

    ## Observation Space
    A ``Dict``, the same keys and shapes for every task:
    - ``"image"``: ``obs_mode="symbolic"``: ``Box(0, 1, (V, V, 14), bool)``, channels wall, goal,
      key, door_locked, door_open, object, dancer, agent, then the colour of the thing in the
      cell (red, green, blue, purple, yellow, grey). ``view="egocentric"``: ``V = view_size``,
      the agent at the bottom row's centre facing up (as MiniGrid); there is no occlusion: the
      agent sees through walls; cells outside the maze read as wall. ``view="full"``: the whole
      maze, ``V = size``, in world orientation. ``obs_mode="pixels"``: ``Box(0, 255, (64, 64, 3),
      uint8)``, the same V x V cells painted (walls grey, things in their colour shaded by kind,
      the agent white) over a plain background.
    - ``"direction"``: ``Box(0, 1, (4,), uint8)``, one-hot heading (up, right, down, left).
    - ``"phase"``: ``Box(0, 1, (4,), uint8)``, one-hot phase of the task (0 without phases).
    - ``"instruction"``: ``Box(0, 1, (8,), uint8)``, one-hot instruction (all zero without one).

    ## Rewards
    +1 on solving the task (the step's ``info["success"]`` is True); 0 otherwise.

    ## Episode End
    Terminated when the task is solved (or failed, in tasks that can fail, e.g. Ballet's wrong
    dancer). Truncated after ``max_episode_steps`` steps (a ``gym.make`` argument; default: the
    task's ``TASK.max_episode_steps``).

    ## Arguments
    - ``obs_mode``: ``"symbolic"`` (default) or ``"pixels"``.
    - ``view``: ``"egocentric"`` (default) or ``"full"``.
    - ``view_size``: odd, 3..11, default 7 (egocentric view only).
    - ``variant``: a named set of task parameters (``TASK.variants``), default ``"default"``.
    - ``render_mode``: ``"rgb_array"`` renders the whole maze at 256x256.
    - any task parameter (``TASK.params``) by name, e.g. ``size=13`` or ``layout_seed=3``.

    ## Version History
    - v0: initial version.
    - KeyDoor v1: a random key (``key_colour=-1``) is never the goal's colour, and a key of the
      goal's colour is refused, so that key, door and goal always read apart.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        task: str,
        obs_mode: str = "symbolic",
        view: str = "egocentric",
        view_size: int = 7,
        variant: str = "default",
        render_mode: str | None = None,
        **task_params: float,
    ) -> None:
        self.task = make_task(task, obs_mode, view, view_size, variant, render_mode, task_params)
        self.render_mode = render_mode
        self.observation_space = self.task.observation_space()
        self.action_space = self.task.action_space()
        self._state = np.zeros(STATE_SIZE, dtype=np.int32)
        self._rng = np.zeros(1, dtype=np.uint64)
        images, pixels, features = self.task.buffers(1)
        self._image, self._pixels, self._features = images[0], pixels[0], features[0]
        self._shown = self._pixels if self.task.pixels_mode else self._image
        self._seeded = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        super().reset(seed=seed)
        # Without a seed an episode continues the RNG stream and state of the one before.
        fresh = seed is not None or not self._seeded
        if fresh:
            self._rng[0] = initial_random_state(seed)
            self._seeded = True
        task = self.task
        reset_env(
            task.task_index,
            fresh,
            self._state,
            task.params,
            self._rng,
            task.pixels_mode,
            task.view,
            task.view_size,
            task.palette,
            task.observation_background,
            self._image,
            self._pixels,
            self._features,
        )
        return self._observation(), {"success": False}

    def step(self, action: Any) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        if not self._seeded:
            raise gym.error.ResetNeeded("call reset() before step()")
        task = self.task
        reward, terminated, success = step_env(
            task.task_index,
            self._state,
            task.params,
            self._rng,
            checked_action(action, ACTION_NAMES),
            task.pixels_mode,
            task.view,
            task.view_size,
            task.palette,
            task.observation_background,
            self._image,
            self._pixels,
            self._features,
        )
        return self._observation(), reward, terminated, False, {"success": success}

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() needs render_mode='rgb_array' at gym.make")
            return None
        frame = np.empty((RENDER_SIZE, RENDER_SIZE, 3), dtype=np.uint8)
        render_maze(self._state, self.task.palette, self.task.render_background, frame)
        return frame

    @property
    def state(self) -> np.ndarray:
        """The env's int32 state vector (engine slots, task slots, cells); privileged access
        for oracles and tests (``envsuite.navigation.engine`` names its slots)."""
        return self._state

    def _observation(self) -> Observation:
        features = self._features
        return {
            "image": self._shown.copy(),
            "direction": features[DIRECTION_FEATURES:PHASE_FEATURES].copy(),
            "phase": features[PHASE_FEATURES:INSTRUCTION_FEATURES].copy(),
            "instruction": features[INSTRUCTION_FEATURES:NUM_FEATURES].copy(),
        }
