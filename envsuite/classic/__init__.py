"""Classic control: gymnasium's tasks with parameters of ours (``envsuite/Pendulum-v0``: an
action gain beside gravity), and their planning rewards. The classic sequences use gymnasium's
own ids as well."""

from __future__ import annotations

import gymnasium as gym

from envsuite.classic.pendulum import GainPendulum, pendulum_reward_fn
from envsuite.core.registry import TASK_DESCRIPTIONS

PENDULUM_ID = "envsuite/Pendulum-v0"


def register_classic() -> list[str]:
    """Register ``envsuite/Pendulum-v0`` (again: no-op); return the ids."""
    TASK_DESCRIPTIONS[PENDULUM_ID] = (
        "gymnasium's Pendulum with an action gain (g=, action_gain=; -1 reverses the controls)"
    )
    if PENDULUM_ID not in gym.registry:
        gym.register(
            PENDULUM_ID,
            entry_point="envsuite.classic.pendulum:GainPendulum",
            max_episode_steps=200,
        )
    return [PENDULUM_ID]


__all__ = ["PENDULUM_ID", "GainPendulum", "pendulum_reward_fn", "register_classic"]
