"""Atari: the six games of WMAR's Atari sequence on ALE v5 (``envsuite/Atari<Game>-v5``,
optional extra ``envsuite[atari]``)."""

from __future__ import annotations

import gymnasium as gym

from envsuite.atari.env import GAMES, INSTALL_HINT, AtariGame, AtariGameEnv
from envsuite.core.registry import TASK_DESCRIPTIONS


def register_atari() -> list[str]:
    """Register ``envsuite/Atari<Game>-v5`` for every game (again: no-op) without importing
    ale-py; return the ids."""
    ids = []
    for game in GAMES.values():
        env_id = f"envsuite/Atari{game.name}-v5"
        TASK_DESCRIPTIONS[env_id] = (
            f"{game.description} ALE v5 as WMAR plays it (64 x 64 RGB, frame skip 4, 18 "
            f"actions, score x {game.reward_scale:g}); needs envsuite[atari]."
        )
        if env_id not in gym.registry:
            # A string entry point: registering stays cheap and works without the optional extra;
            # gym.make imports ale-py, or says how to install it. ALE truncates episodes itself.
            gym.register(
                env_id, entry_point="envsuite.atari.env:AtariGameEnv", kwargs={"game": game.name}
            )
        ids.append(env_id)
    return ids


__all__ = ["GAMES", "INSTALL_HINT", "AtariGame", "AtariGameEnv", "register_atari"]
