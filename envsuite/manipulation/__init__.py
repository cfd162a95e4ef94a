"""Manipulation: a MuJoCo 3 table-top arm with eight skills (``envsuite/<Task>-v0``), and
Continual World's tasks on Meta-World v3 (``envsuite/MetaWorld<Task>-v3``, optional extra).
"""

from __future__ import annotations

import os
import sys

# Headless Linux (no display): render through EGL unless the user chose a backend, since
# MuJoCo's default (GLFW) needs a window system. MuJoCo reads it when first imported, below.
if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym

from envsuite.core.registry import TASK_DESCRIPTIONS
from envsuite.manipulation.continual_world import register_continual_world
from envsuite.manipulation.env import ACTION_NAMES, OBSERVATION_SIZE, ManipulationEnv
from envsuite.manipulation.planning import PLANNING_TASKS, reward_fn
from envsuite.manipulation.scripted import scripted_action
from envsuite.manipulation.tasks import TASKS

MAX_EPISODE_STEPS = 200  # 4 s at 50 steps per second


def register_manipulation() -> list[str]:
    """Register ``envsuite/<Task>-v0`` for every task and the Meta-World task ids (again:
    no-op); return the ids."""
    ids = []
    for name, task in TASKS.items():
        env_id = f"envsuite/{name}-v0"
        TASK_DESCRIPTIONS[env_id] = task.description
        if env_id not in gym.registry:
            gym.register(
                env_id,
                entry_point="envsuite.manipulation.env:ManipulationEnv",
                kwargs={"task": name},
                max_episode_steps=MAX_EPISODE_STEPS,
            )
        ids.append(env_id)
    return ids + register_continual_world()


__all__ = [
    "ACTION_NAMES",
    "MAX_EPISODE_STEPS",
    "OBSERVATION_SIZE",
    "PLANNING_TASKS",
    "TASKS",
    "ManipulationEnv",
    "register_manipulation",
    "reward_fn",
    "scripted_action",
]
