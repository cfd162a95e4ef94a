"""envsuite/Pendulum-v0: gymnasium's Pendulum with an action gain."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envsuite  # noqa: F401  (registers envsuite/Pendulum-v0)


def step_from(state: tuple[float, float], action: float, **kwargs) -> np.ndarray:
    env = gym.make("envsuite/Pendulum-v0", **kwargs)
    env.reset(seed=0)
    env.unwrapped.state = np.array(state)
    observation, *_ = env.step(np.array([action], dtype=np.float32))
    return observation


def test_a_negative_gain_reverses_the_controls_and_gain_one_is_gymnasiums() -> None:
    state = (0.4, -1.0)
    flipped = step_from(state, 1.5, g=2.0, action_gain=-1.0)
    np.testing.assert_array_equal(flipped, step_from(state, -1.5, g=2.0))
    assert not np.array_equal(flipped, step_from(state, 1.5, g=2.0))
    original = gym.make("Pendulum-v1", g=2.0)
    original.reset(seed=0)
    original.unwrapped.state = np.array(state)
    expected, *_ = original.step(np.array([-1.5], dtype=np.float32))
    np.testing.assert_array_equal(step_from(state, -1.5, g=2.0), expected)


def test_the_torque_is_clipped_after_the_gain() -> None:
    state = (0.4, -1.0)
    np.testing.assert_array_equal(
        step_from(state, 1.0, action_gain=4.0), step_from(state, 2.0, action_gain=1.0)
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action_gain": 0.0}, "action_gain"),
        ({"action_gain": 5.0}, "action_gain"),
        ({"action_gain": "1"}, "action_gain"),
        ({"g": -1.0}, "g"),
        ({"g": float("nan")}, "g"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        gym.make("envsuite/Pendulum-v0", **kwargs)
