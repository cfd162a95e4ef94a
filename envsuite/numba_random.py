"""A random number generator whose whole state is one uint64 in an array, for numba envs.

Every env carries its own state, so a batch of envs plays exactly as the same envs one by one,
and pickling an env pickles where its randomness stands. The generator is splitmix64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_TWO_TO_MINUS_53 = 1.0 / 9007199254740992.0


# Inlined: a numba call passing an array costs about as much as one draw.
@njit(cache=True, inline="always")
def next_random(rng: np.ndarray) -> np.uint64:
    """The next 64 random bits of ``rng`` (a one-element uint64 array)."""
    rng[0] += _GOLDEN
    mixed = rng[0]
    mixed = (mixed ^ (mixed >> np.uint64(30))) * _MIX_1
    mixed = (mixed ^ (mixed >> np.uint64(27))) * _MIX_2
    return mixed ^ (mixed >> np.uint64(31))


@njit(cache=True, inline="always")
def uniform(rng: np.ndarray) -> float:
    """A float in [0, 1) from ``rng``."""
    return float(next_random(rng) >> np.uint64(11)) * _TWO_TO_MINUS_53


@njit(cache=True, inline="always")
def random_below(rng: np.ndarray, count: int) -> int:
    """An integer in ``[0, count)`` from ``rng``."""
    return int(uniform(rng) * count)


def initial_random_state(seed: int | None) -> np.uint64:
    """The RNG state an env starts from after ``reset(seed=seed)`` (fresh entropy for None)."""
    return np.random.SeedSequence(seed).generate_state(1, np.uint64)[0]
