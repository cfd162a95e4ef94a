"""A navigation task resolved from keyword arguments: which task, its parameter vector, its view.

The single env and the vector env both build one from the same arguments, and every mistake in
them (unknown task, variant, parameter, view; bad obs mode or view size) fails here, by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from envsuite.core.errors import check_choice
from envsuite.navigation.engine import (
    NUM_ACTIONS,
    NUM_DIRECTIONS,
    NUM_INSTRUCTIONS,
    NUM_PHASES,
    SIZE,
    TaskDefinition,
)
from envsuite.navigation.tasks import TASK_INDEX, TASKS
from envsuite.navigation.view import (
    FULL,
    NUM_CHANNELS,
    NUM_FEATURES,
    OBSERVATION_SIZE,
    PALETTE,
    RENDER_SIZE,
    VIEW_NAMES,
    view_background,
)

OBS_MODES = ("symbolic", "pixels")
RENDER_MODES = ("rgb_array",)
MIN_VIEW_SIZE, MAX_VIEW_SIZE = 3, 11


@dataclass(frozen=True)
class NavigationTask:
    """Everything a navigation env needs besides its per-episode state."""

    definition: TaskDefinition
    task_index: int
    params: np.ndarray
    obs_mode: str
    view: int
    view_size: int
    palette: np.ndarray
    observation_background: np.ndarray
    render_background: np.ndarray

    @property
    def pixels_mode(self) -> bool:
        return self.obs_mode == "pixels"

    @property
    def image_shape(self) -> tuple[int, int, int]:
        if self.pixels_mode:
            return (OBSERVATION_SIZE, OBSERVATION_SIZE, 3)
        return (self.view_size, self.view_size, NUM_CHANNELS)

    def observation_space(self) -> spaces.Dict:
        if self.pixels_mode:
            image = spaces.Box(0, 255, self.image_shape, dtype=np.uint8)
        else:
            image = spaces.Box(0, 1, self.image_shape, dtype=np.bool_)
        return spaces.Dict(
            {
                "image": image,
                "direction": spaces.Box(0, 1, (NUM_DIRECTIONS,), dtype=np.uint8),
                "phase": spaces.Box(0, 1, (NUM_PHASES,), dtype=np.uint8),
                "instruction": spaces.Box(0, 1, (NUM_INSTRUCTIONS,), dtype=np.uint8),
            }
        )

    def action_space(self) -> spaces.Discrete:
        return spaces.Discrete(NUM_ACTIONS)

    def buffers(self, num_envs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Zeroed (symbolic images, pixel images, features) for ``num_envs`` envs; the image
        kind the obs mode does not use is a one-element placeholder per env."""
        if self.pixels_mode:
            images = np.zeros((num_envs, 1, 1, 1), dtype=np.bool_)
            pixels = np.zeros((num_envs, *self.image_shape), dtype=np.uint8)
        else:
            images = np.zeros((num_envs, *self.image_shape), dtype=np.bool_)
            pixels = np.zeros((num_envs, 1, 1, 1), dtype=np.uint8)
        return images, pixels, np.zeros((num_envs, NUM_FEATURES), dtype=np.uint8)


def make_task(
    task: str,
    obs_mode: str,
    view: str,
    view_size: int,
    variant: str,
    render_mode: str | None,
    task_params: Mapping[str, float],
) -> NavigationTask:
    """Resolve and check the arguments of a navigation env."""
    check_choice("task", task, list(TASKS))
    check_choice("obs_mode", obs_mode, OBS_MODES)
    check_choice("view", view, VIEW_NAMES)
    if render_mode is not None:
        check_choice("render_mode", render_mode, RENDER_MODES)
    if (
        isinstance(view_size, bool)
        or not isinstance(view_size, int | np.integer)
        or not MIN_VIEW_SIZE <= view_size <= MAX_VIEW_SIZE
        or view_size % 2 == 0
    ):
        raise ValueError(
            f"view_size: must be an odd integer in [{MIN_VIEW_SIZE}, {MAX_VIEW_SIZE}], "
            f"got {view_size!r}"
        )
    definition = TASKS[task]
    params = definition.resolve_params(variant, task_params)
    view_index = VIEW_NAMES.index(view)
    # The full view shows the whole maze, so the maze's size fixes the observation's shape.
    size = int(params[SIZE]) if view_index == FULL else int(view_size)
    return NavigationTask(
        definition=definition,
        task_index=TASK_INDEX[task],
        params=params,
        obs_mode=obs_mode,
        view=view_index,
        view_size=size,
        palette=PALETTE,
        observation_background=view_background(OBSERVATION_SIZE),
        render_background=view_background(RENDER_SIZE),
    )
