"""Every navigation task, by name, and the numba loops that reset, step and observe a batch of
envs of one task (the single env calls the very same per-env functions, so the two play alike).

Tasks are chosen by index inside numba (a jitted function taking another as an argument cannot be
cached), so adding a task means adding its module to ``TASK_MODULES`` and a branch to each of
``_reset_task`` and ``_step_task``. The per-env functions are inlined into the batch loops: as
calls, passing array views (reference counts) cost more than most task steps.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envsuite.navigation import ballet, key_door, maze_goal, neighborhood, object_recall
from envsuite.navigation.engine import (
    NUM_ACTIONS,
    OVER,
    STEPS,
    SUCCESS,
    TaskDefinition,
    begin_episode,
)
from envsuite.navigation.view import observe

TASK_MODULES = (maze_goal, key_door, object_recall, ballet, neighborhood)
TASKS: dict[str, TaskDefinition] = {module.TASK.name: module.TASK for module in TASK_MODULES}
TASK_INDEX: dict[str, int] = {name: index for index, name in enumerate(TASKS)}


@njit(cache=True, inline="always")
def _reset_task(task: int, state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    if task == 0:
        maze_goal.reset(state, params, rng)
    elif task == 1:
        key_door.reset(state, params, rng)
    elif task == 2:
        object_recall.reset(state, params, rng)
    elif task == 3:
        ballet.reset(state, params, rng)
    else:
        neighborhood.reset(state, params, rng)


@njit(cache=True, inline="always")
def _step_task(
    task: int, state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray
) -> tuple[float, bool]:
    if task == 0:
        return maze_goal.step(state, action, params, rng)
    if task == 1:
        return key_door.step(state, action, params, rng)
    if task == 2:
        return object_recall.step(state, action, params, rng)
    if task == 3:
        return ballet.step(state, action, params, rng)
    return neighborhood.step(state, action, params, rng)


@njit(cache=True, inline="always")
def reset_env(
    task: int,
    fresh: bool,
    state: np.ndarray,
    params: np.ndarray,
    rng: np.ndarray,
    pixels_mode: bool,
    view: int,
    view_size: int,
    palette: np.ndarray,
    background: np.ndarray,
    image: np.ndarray,
    pixels: np.ndarray,
    features: np.ndarray,
) -> None:
    """Start a new episode, continuing the env's RNG stream, and draw its observation.

    ``fresh`` zeroes the whole state first (a seeded or first reset); otherwise the task's reset
    sees the previous episode's state (what lets Neighborhood keep a layout across episodes).
    """
    if fresh:
        state[:] = 0
    begin_episode(state, params)
    _reset_task(task, state, params, rng)
    observe(state, pixels_mode, view, view_size, palette, background, image, pixels, features)


@njit(cache=True, inline="always")
def step_env(
    task: int,
    state: np.ndarray,
    params: np.ndarray,
    rng: np.ndarray,
    action: int,
    pixels_mode: bool,
    view: int,
    view_size: int,
    palette: np.ndarray,
    background: np.ndarray,
    image: np.ndarray,
    pixels: np.ndarray,
    features: np.ndarray,
) -> tuple[float, bool, bool]:
    """Play ``action`` and draw the observation; return (reward, terminated, success).

    After the episode terminated, steps return (0, terminated, no success) and change nothing.
    """
    if state[OVER]:
        return 0.0, True, False
    state[SUCCESS] = 0
    state[STEPS] += 1
    reward, terminated = _step_task(task, state, action, params, rng)
    state[OVER] = terminated
    observe(state, pixels_mode, view, view_size, palette, background, image, pixels, features)
    return reward, terminated, state[SUCCESS] != 0


@njit(cache=True)
def reset_batch(
    task: int,
    mask: np.ndarray,
    fresh: np.ndarray,
    states: np.ndarray,
    params: np.ndarray,
    rngs: np.ndarray,
    pixels_mode: bool,
    view: int,
    view_size: int,
    palette: np.ndarray,
    background: np.ndarray,
    images: np.ndarray,
    pixels: np.ndarray,
    features: np.ndarray,
) -> None:
    """:func:`reset_env` every env ``i`` with ``mask[i]`` (zeroing it first where ``fresh[i]``)."""
    for index in range(states.shape[0]):
        if mask[index]:
            reset_env(
                task,
                fresh[index],
                states[index],
                params,
                rngs[index],
                pixels_mode,
                view,
                view_size,
                palette,
                background,
                images[index],
                pixels[index],
                features[index],
            )


@njit(cache=True)
def step_batch(
    task: int,
    states: np.ndarray,
    params: np.ndarray,
    rngs: np.ndarray,
    actions: np.ndarray,
    max_episode_steps: int,
    elapsed: np.ndarray,
    done: np.ndarray,
    rewards: np.ndarray,
    terminations: np.ndarray,
    truncations: np.ndarray,
    successes: np.ndarray,
    pixels_mode: bool,
    view: int,
    view_size: int,
    palette: np.ndarray,
    background: np.ndarray,
    images: np.ndarray,
    pixels: np.ndarray,
    features: np.ndarray,
) -> int:
    """:func:`step_env` every env, with gymnasium's next-step autoreset and an episode limit.

    An env whose episode ended last step (``done``) is reset instead (not zeroed, as a single
    env's unseeded reset): reward 0, neither terminated nor truncated, no success. An episode is
    truncated after ``max_episode_steps`` steps (0: no limit). Returns -1, or the index of the
    first action outside the action set (then nothing is stepped).
    """
    for index in range(states.shape[0]):
        if actions[index] < 0 or actions[index] >= NUM_ACTIONS:
            return index
    for index in range(states.shape[0]):
        if done[index]:
            reset_env(
                task,
                False,
                states[index],
                params,
                rngs[index],
                pixels_mode,
                view,
                view_size,
                palette,
                background,
                images[index],
                pixels[index],
                features[index],
            )
            elapsed[index] = 0
            rewards[index] = 0.0
            terminations[index] = False
            truncations[index] = False
            successes[index] = False
        else:
            rewards[index], terminations[index], successes[index] = step_env(
                task,
                states[index],
                params,
                rngs[index],
                actions[index],
                pixels_mode,
                view,
                view_size,
                palette,
                background,
                images[index],
                pixels[index],
                features[index],
            )
            elapsed[index] += 1
            truncations[index] = 0 < max_episode_steps <= elapsed[index]
        done[index] = terminations[index] or truncations[index]
    return -1
