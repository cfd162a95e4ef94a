"""The shared pieces every minigame builds on: the grid, the action set, a per-env RNG in numba,
and the description of a game's task parameters and named variants.

Small numba helpers called every step (here and in the games) are ``inline="always"``: a numba
call passing arrays costs about as much as what such a helper does.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numba import njit

GRID_SIZE = 10
# One action set for every game, so sequences never remap actions; a game ignores what it does
# not use (Catch has no use for up, down or fire).
ACTION_NAMES = ("noop", "left", "right", "up", "down", "fire")
NOOP, LEFT, RIGHT, UP, DOWN, FIRE = range(len(ACTION_NAMES))
NUM_ACTIONS = len(ACTION_NAMES)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_TWO_TO_MINUS_53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def next_random(rng: np.ndarray) -> np.uint64:
    """The next 64 random bits of ``rng`` (a one-element uint64 array), by splitmix64.

    Every env carries its own RNG state in an array, so a batch of envs plays exactly as the
    same envs one by one, and pickling an env pickles where its randomness stands.
    """
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


@dataclass(frozen=True)
class Param:
    """A task parameter: something a sequence may change without changing any shape.

    A default written as an ``int`` makes a count (lives, rows, cells): it takes whole numbers.
    """

    name: str
    default: float
    low: float
    high: float
    doc: str

    @property
    def integer(self) -> bool:
        return isinstance(self.default, int)


@dataclass(frozen=True)
class GameDefinition:
    """What the engine needs to know of a game besides its numba ``reset``/``step``/``draw``.

    Attributes:
        name: the game's name; its task id is ``envsuite/<name>-v0``.
        rules: the rules in one line (README catalogue, docstrings).
        channels: names of the symbolic observation's channels, in drawing order (the last one
            drawn on top in pixel observations).
        state_size: length of the game's int32 state vector (a static, shape-fixing parameter).
        params: the task parameters, in the order of the game's float64 parameter vector.
        variants: named sets of parameter values; ``"default"`` is every parameter's default.
        default_theme: the colour theme used when a task names none.
    """

    name: str
    rules: str
    channels: tuple[str, ...]
    state_size: int
    params: tuple[Param, ...]
    variants: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    default_theme: str = "classic"

    def variant_names(self) -> list[str]:
        """``"default"`` and the game's own variants."""
        return ["default", *self.variants]

    def resolve_params(self, variant: str, overrides: Mapping[str, float]) -> np.ndarray:
        """The parameter vector of ``variant`` with ``overrides`` applied, each within bounds."""
        if variant != "default" and variant not in self.variants:
            raise ValueError(
                f"variant: unknown variant {variant!r} of {self.name}; "
                f"allowed: {self.variant_names()}"
            )
        values = {param.name: float(param.default) for param in self.params}
        values.update(self.variants.get(variant, {}))
        for name, value in overrides.items():
            if name not in values:
                close = difflib.get_close_matches(name, list(values), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(
                    f"{name}: not a task parameter of {self.name}{hint}; "
                    f"allowed: {sorted(values)} and obs_mode, variant, theme, background, "
                    "sticky_action_probability, render_mode"
                )
            values[name] = value
        vector = np.empty(len(self.params), dtype=np.float64)
        for index, param in enumerate(self.params):
            value = values[param.name]
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise ValueError(f"{param.name}: must be a number, got {value!r}")
            if param.integer and not float(value).is_integer():
                raise ValueError(
                    f"{param.name}: must be a whole number ({param.doc}), got {value!r}"
                )
            if not param.low <= value <= param.high:
                raise ValueError(
                    f"{param.name}: {value!r} is outside [{param.low}, {param.high}] "
                    f"for {self.name} ({param.doc})"
                )
            vector[index] = value
        return vector
