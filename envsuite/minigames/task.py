"""A minigame task resolved from keyword arguments: which game, its parameter vector, how it looks.

The single env and the vector env both build one from the same arguments, and every mistake in
them (unknown game, variant, theme, background, parameter; bad obs mode) fails here, by name.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from envsuite.core.errors import check_choice
from envsuite.env_arguments import whole_number
from envsuite.minigames.engine import GRID_SIZE, NUM_ACTIONS, GameDefinition
from envsuite.minigames.games import GAME_INDEX, GAMES
from envsuite.minigames.render import (
    MAX_CHANNELS,
    OBSERVATION_SIZE,
    RENDER_SIZE,
    theme_background,
    theme_palette,
)

OBS_MODES = ("symbolic", "pixels")
RENDER_MODES = ("rgb_array",)


@dataclass(frozen=True)
class MinigameTask:
    """Everything a minigame env needs besides its per-episode state."""

    game: GameDefinition
    game_index: int
    params: np.ndarray
    obs_mode: str
    observation_channels: int
    sticky_action_probability: float
    palette: np.ndarray
    observation_background: np.ndarray
    render_background: np.ndarray

    @property
    def num_channels(self) -> int:
        """Channels of the symbolic grid: the game's own, then always-zero padding."""
        return self.observation_channels

    def observation_space(self) -> spaces.Box:
        if self.obs_mode == "symbolic":
            return spaces.Box(0, 1, (GRID_SIZE, GRID_SIZE, self.num_channels), dtype=np.bool_)
        return spaces.Box(0, 255, (OBSERVATION_SIZE, OBSERVATION_SIZE, 3), dtype=np.uint8)

    def action_space(self) -> spaces.Discrete:
        return spaces.Discrete(NUM_ACTIONS)


def make_task(
    game: str,
    obs_mode: str,
    variant: str,
    theme: str | None,
    background: str,
    sticky_action_probability: float,
    render_mode: str | None,
    task_params: Mapping[str, float],
    observation_channels: int | None = None,
) -> MinigameTask:
    """Resolve and check the arguments of a minigame env."""
    check_choice("game", game, list(GAMES))
    check_choice("obs_mode", obs_mode, OBS_MODES)
    if render_mode is not None:
        check_choice("render_mode", render_mode, RENDER_MODES)
    definition = GAMES[game]
    assert len(definition.channels) <= MAX_CHANNELS, "every channel needs a palette colour"
    theme = definition.default_theme if theme is None else theme
    if isinstance(sticky_action_probability, bool) or not (
        isinstance(sticky_action_probability, numbers.Real)
        and 0.0 <= sticky_action_probability < 1.0
    ):
        raise ValueError(
            "sticky_action_probability: must be a number in [0, 1), "
            f"got {sticky_action_probability!r}"
        )
    own_channels = len(definition.channels)
    if observation_channels is None:
        observation_channels = own_channels
    elif obs_mode != "symbolic":
        raise ValueError(
            "observation_channels: pads symbolic observations; leave it None in pixels"
        )
    else:
        observation_channels = whole_number(
            observation_channels,
            "observation_channels",
            f"None or an integer of at least {game}'s {own_channels} channels",
            minimum=own_channels,
        )
    return MinigameTask(
        game=definition,
        game_index=GAME_INDEX[game],
        params=definition.resolve_params(variant, task_params),
        obs_mode=obs_mode,
        observation_channels=observation_channels,
        sticky_action_probability=float(sticky_action_probability),
        palette=theme_palette(theme),
        observation_background=theme_background(theme, background, OBSERVATION_SIZE),
        render_background=theme_background(theme, background, RENDER_SIZE),
    )
