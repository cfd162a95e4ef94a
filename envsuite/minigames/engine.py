"""The shared pieces every minigame builds on: the grid, the action set, and the description of
a game's task parameters and named variants (randomness: ``envsuite.numba_random``).

Small numba helpers called every step (in the games) are ``inline="always"``: a numba call
passing arrays costs about as much as what such a helper does.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

GRID_SIZE = 10
# One action set for every game, so sequences never remap actions; a game ignores what it does
# not use (Catch has no use for up, down or fire).
ACTION_NAMES = ("noop", "left", "right", "up", "down", "fire")
NOOP, LEFT, RIGHT, UP, DOWN, FIRE = range(len(ACTION_NAMES))
NUM_ACTIONS = len(ACTION_NAMES)


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
