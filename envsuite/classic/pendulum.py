"""``envsuite/Pendulum-v0``: gymnasium's Pendulum with an action gain beside its gravity, and its
planning reward."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.envs.classic_control.pendulum import PendulumEnv

from envsuite.params import Param, resolve_params
from envsuite.planning import Array, RewardFn, array_namespace

MAX_TORQUE = 2.0  # gymnasium's Pendulum clips the torque to this
GRAVITY = Param("g", 10.0, 0.0, 100.0, "gravity, m/s²")
ACTION_GAIN = Param("action_gain", 1.0, -4.0, 4.0, "torque per unit of action; not 0")


class GainPendulum(PendulumEnv):
    """gymnasium's ``Pendulum-v1`` whose torque is ``action_gain`` times the action.

    ## Description
    The pendulum, its dynamics, observation, reward, start and render are gymnasium's
    ``Pendulum-v1`` (``g=`` its gravity); the action is multiplied by ``action_gain`` before the
    env clips it to the torque limit of 2. A gain of -1 reverses the controls: the same
    observations call for the opposite action, a dynamics shift no gravity makes.

    ## Action Space
    ``Box(-2, 2, (1,), float32)``, as gymnasium's.

    ## Observation Space
    ``Box([-1, -1, -8], [1, 1, 8], (3,), float32)``: cos θ, sin θ, θ̇.

    ## Rewards
    ``-(θ² + 0.1 θ̇² + 0.001 u²)`` of the state before the step, ``u`` the clipped torque
    (:func:`pendulum_reward_fn` computes it from observations and actions).

    ## Episode End
    Truncated after 200 steps (registered).

    ## Arguments
    ``g``: gravity, in [0, 100] (gymnasium's default 10); ``action_gain``: in [-4, 4] without
    0 (default 1); ``render_mode``: as gymnasium's.

    ## Version History
    * v0: initial version.
    """

    def __init__(
        self, render_mode: str | None = None, g: float = 10.0, action_gain: float = 1.0
    ) -> None:
        (g,) = resolve_params("envsuite/Pendulum-v0", (GRAVITY,), {}, "default", {"g": g})
        super().__init__(render_mode=render_mode, g=float(g))
        self.action_gain = checked_action_gain(action_gain)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        return super().step(self.action_gain * np.asarray(action, dtype=np.float32))


def checked_action_gain(action_gain: Any) -> float:
    """``action_gain`` as a float if it is allowed (non-zero, in [-4, 4]); else a clear error."""
    (gain,) = resolve_params(
        "envsuite/Pendulum-v0", (ACTION_GAIN,), {}, "default", {"action_gain": action_gain}
    )
    if gain == 0.0:
        raise ValueError("action_gain: must be non-zero (0 leaves the pendulum unactuated)")
    return float(gain)


def pendulum_reward_fn(action_gain: float = 1.0) -> RewardFn:
    """The planning reward of gymnasium's Pendulum (``action_gain`` 1) or
    ``envsuite/Pendulum-v0``: the reward of the state in ``observation`` (``[..., 3]``: cos θ,
    sin θ, θ̇) under ``action`` (``[..., 1]``); numpy or torch."""
    action_gain = checked_action_gain(action_gain)

    def reward(observation: Array, action: Array, next_observation: Array) -> Array:
        xp = array_namespace(observation)
        angle = xp.arctan2(observation[..., 1], observation[..., 0])
        torque = xp.clip(action_gain * action[..., 0], -MAX_TORQUE, MAX_TORQUE)
        return -(angle**2 + 0.1 * observation[..., 2] ** 2 + 0.001 * torque**2)

    return reward
