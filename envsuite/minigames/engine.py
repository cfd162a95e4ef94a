"""The shared pieces every minigame builds on: the grid, the action set, and the description of
a game's task parameters and named variants (randomness: ``envsuite.numba_random``).

Small numba helpers called every step (in the games) are ``inline="always"``: a numba call
passing arrays costs about as much as what such a helper does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from envsuite.params import Param, resolve_params

GRID_SIZE = 10
# One action set for every game, so sequences never remap actions; a game ignores what it does
# not use (Catch has no use for up, down or fire).
ACTION_NAMES = ("noop", "left", "right", "up", "down", "fire")
NOOP, LEFT, RIGHT, UP, DOWN, FIRE = range(len(ACTION_NAMES))
NUM_ACTIONS = len(ACTION_NAMES)
# Things move in thousandths of a cell: a speed below one cell per step accumulates until a move.
MILLI = 1000


@njit(cache=True, inline="always")
def thousandths(cells: float) -> int:
    """``cells`` (a speed or distance) in thousandths of a cell, rounded."""
    return round(cells * MILLI)


# The env's own keyword arguments, besides the game's task parameters.
ENV_ARGUMENTS = (
    "obs_mode",
    "variant",
    "theme",
    "background",
    "sticky_action_probability",
    "render_mode",
)


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
        return resolve_params(
            self.name, self.params, self.variants, variant, overrides, ENV_ARGUMENTS
        )
