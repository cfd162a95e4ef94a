"""Checking what users pass to the numba families' envs (actions, seeds, sizes, limits) and
seeding their per-env RNGs: one place, so the single and batched envs of every family agree.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from envsuite.numba_random import initial_random_state


def whole_number(value: Any, field: str, allowed: str, minimum: int) -> int:
    """``value`` as an int (Python or numpy integer) of at least ``minimum``, else a ValueError."""
    try:
        number = operator.index(value)
    except TypeError:
        number = None
    if number is None or isinstance(value, bool) or number < minimum:
        raise ValueError(f"{field}: must be {allowed}, got {value!r}")
    return number


def checked_action(action: Any, action_names: Sequence[str]) -> int:
    """``action`` as an int indexing ``action_names``, or a ValueError saying what it must be."""
    # Runs every step: the message is only built for a bad action.
    try:
        value = operator.index(action)  # ints, numpy integers and 0-d integer arrays
    except TypeError:
        value = -1
    if value < 0 or value >= len(action_names) or isinstance(action, bool):
        raise ValueError(
            f"action: must be an integer in [0, {len(action_names)}) "
            f"({', '.join(action_names)}), got {action!r}"
        )
    return value


def check_batched_actions(
    actions: np.ndarray, invalid: int, num_envs: int, action_names: Sequence[str]
) -> None:
    """Raise the error of a batch of actions a numba step refused (``invalid`` != -1)."""
    if invalid != -1:
        raise ValueError(
            f"actions: must be {num_envs} integers in [0, {len(action_names)}) "
            f"({', '.join(action_names)}), got {actions!r}"
        )


def episode_limit(max_episode_steps: Any) -> int:
    """The limit a batched numba step takes: 0 for none (``None`` or -1, as ``gym.make``)."""
    if max_episode_steps is None:
        return 0
    if isinstance(max_episode_steps, int | np.integer) and max_episode_steps == -1:
        return 0
    return whole_number(
        max_episode_steps, "max_episode_steps", "a positive integer, or -1 or None", 1
    )


def reset_mask(options: dict[str, Any] | None, num_envs: int) -> np.ndarray:
    """Which envs a vector ``reset`` resets: ``options["reset_mask"]`` if given, else all."""
    if options is None or "reset_mask" not in options:
        return np.ones(num_envs, dtype=np.bool_)
    mask = np.asarray(options["reset_mask"])
    if mask.shape != (num_envs,) or mask.dtype != np.bool_:
        raise ValueError(f"reset_mask: must be a bool array of shape ({num_envs},), got {mask!r}")
    return mask


def seeds_for(seed: Any, num_envs: int) -> list[int | None]:
    """One seed (or None) per env: ``seed + i`` for an int, or a list's entries."""
    allowed = f"None, a non-negative int, or a list of {num_envs} non-negative ints or None"
    if seed is None:
        return [None] * num_envs
    if isinstance(seed, list | tuple):
        if len(seed) != num_envs:
            raise ValueError(f"seed: must be {allowed}, got {seed!r}")
        return [
            None if entry is None else whole_number(entry, "seed", allowed, 0) for entry in seed
        ]
    first = whole_number(seed, "seed", allowed, 0)
    return [first + index for index in range(num_envs)]


def seed_rngs(
    rngs: np.ndarray, seeded: np.ndarray, mask: np.ndarray, seeds: list[int | None]
) -> np.ndarray:
    """Seed the RNG of every masked env given a seed or never seeded; return which were.

    An env reset without a seed continues its RNG stream, as gymnasium's envs do.
    """
    fresh = np.zeros(len(seeded), dtype=np.bool_)
    for index in np.flatnonzero(mask):
        if seeds[index] is not None or not seeded[index]:
            rngs[index, 0] = initial_random_state(seeds[index])
            seeded[index] = True
            fresh[index] = True
    return fresh
