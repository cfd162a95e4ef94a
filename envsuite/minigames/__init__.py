"""Minigames: small arcade games on a 10x10 grid over one numba engine, each an
``envsuite/<Game>-v0`` id with a batched vector env behind ``gym.make_vec``.
"""

from __future__ import annotations

import sys

import gymnasium as gym

from envsuite import numba_random, raster
from envsuite.core.registry import TASK_DESCRIPTIONS
from envsuite.minigames.engine import ACTION_NAMES, GameDefinition, Param
from envsuite.minigames.env import MinigameEnv
from envsuite.minigames.games import GAMES, step_batch
from envsuite.minigames.render import THEMES
from envsuite.minigames.vector import MinigameVectorEnv
from envsuite.numba_cache import drop_stale_cache
from envsuite.raster import BACKGROUNDS

MAX_EPISODE_STEPS = 1000

drop_stale_cache(sys.modules[__name__], step_batch, uses=(numba_random, raster))


def register_minigames() -> list[str]:
    """Register ``envsuite/<Game>-v0`` for every game (again: no-op); return the ids."""
    ids = []
    for name, game in GAMES.items():
        env_id = f"envsuite/{name}-v0"
        TASK_DESCRIPTIONS[env_id] = game.rules
        if env_id not in gym.registry:
            gym.register(
                env_id,
                entry_point="envsuite.minigames.env:MinigameEnv",
                vector_entry_point="envsuite.minigames.vector:MinigameVectorEnv",
                kwargs={"game": name},
                max_episode_steps=MAX_EPISODE_STEPS,
            )
        ids.append(env_id)
    return ids


__all__ = [
    "ACTION_NAMES",
    "BACKGROUNDS",
    "GAMES",
    "MAX_EPISODE_STEPS",
    "THEMES",
    "GameDefinition",
    "MinigameEnv",
    "MinigameVectorEnv",
    "Param",
    "register_minigames",
]
