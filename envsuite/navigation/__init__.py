"""Navigation: gridworld mazes with memory demands over one numba engine, each task an
``envsuite/<Task>-v0`` id with a batched vector env behind ``gym.make_vec``.
"""

from __future__ import annotations

import sys

import gymnasium as gym

from envsuite import numba_random, raster
from envsuite.core.registry import TASK_DESCRIPTIONS
from envsuite.navigation.engine import ACTION_NAMES, Param, TaskDefinition
from envsuite.navigation.env import NavigationEnv
from envsuite.navigation.oracle import oracle_action
from envsuite.navigation.tasks import TASKS, step_batch
from envsuite.navigation.vector import NavigationVectorEnv
from envsuite.navigation.view import CHANNEL_NAMES
from envsuite.numba_cache import drop_stale_cache

drop_stale_cache(sys.modules[__name__], step_batch, uses=(numba_random, raster))


def register_navigation() -> list[str]:
    """Register ``envsuite/<Task>-v<version>`` for every task (again: no-op); return the ids."""
    ids = []
    for name, definition in TASKS.items():
        env_id = definition.env_id
        TASK_DESCRIPTIONS[env_id] = definition.description
        if env_id not in gym.registry:
            gym.register(
                env_id,
                entry_point="envsuite.navigation.env:NavigationEnv",
                vector_entry_point="envsuite.navigation.vector:NavigationVectorEnv",
                kwargs={"task": name},
                max_episode_steps=definition.max_episode_steps,
            )
        ids.append(env_id)
    return ids


__all__ = [
    "ACTION_NAMES",
    "CHANNEL_NAMES",
    "TASKS",
    "NavigationEnv",
    "NavigationVectorEnv",
    "Param",
    "TaskDefinition",
    "oracle_action",
    "register_navigation",
]
