"""Planning rewards reproduce their envs' rewards, from numpy arrays and torch tensors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from envsuite.manipulation import PLANNING_TASKS, scripted_action
from envsuite.manipulation import reward_fn as manipulation_reward_fn
from envsuite.planning import reward_fn

CASES = [
    ("Pendulum-v1", {"g": 10.0}),
    ("envsuite/Pendulum-v0", {"g": 2.0, "action_gain": -1.0}),
    ("envsuite/Pendulum-v0", {"g": 18.0, "action_gain": 3.0}),
    *[(f"envsuite/{task}-v0", {}) for task in PLANNING_TASKS],
    ("envsuite/Push-v0", {"object_mass": 2.0, "object_friction": 1.5}),
    ("envsuite/DoorOpen-v0", {"joint_stiffness": 5.0}),
]


def transitions(env_id: str, kwargs: dict, steps: int = 240):
    """Observations, actions, next observations and rewards of a rollout; manipulation tasks
    follow their scripted controller half the time, so that every reward term moves."""
    env = gym.make(env_id, **kwargs)
    rng = np.random.default_rng(0)
    observation, _ = env.reset(seed=0)
    task = env_id.removeprefix("envsuite/").removesuffix("-v0")
    rows = []
    for _ in range(steps):
        action = env.action_space.sample()
        if task in PLANNING_TASKS and rng.random() < 0.5:
            action = scripted_action(task, observation).astype(np.float32)
        following, reward, terminated, truncated, _ = env.step(action)
        rows.append((observation, action, following, reward))
        observation = following
        if terminated or truncated:
            observation, _ = env.reset()
    env.close()
    return (np.array([row[index] for row in rows]) for index in range(4))


@pytest.mark.parametrize(("env_id", "kwargs"), CASES)
def test_the_planning_reward_reproduces_the_envs_rewards(env_id: str, kwargs: dict) -> None:
    observations, actions, following, rewards = transitions(env_id, kwargs)
    assert np.ptp(rewards) > 0.1  # the rollout moved the reward
    reward = reward_fn(env_id, kwargs)
    # Pendulum observes float32 of its float64 state: the angle is rounded.
    tolerance = 1e-4 if "Pendulum" in env_id else 1e-9
    np.testing.assert_allclose(reward(observations, actions, following), rewards, atol=tolerance)
    torch = pytest.importorskip("torch")
    # float32, as a planner samples: within float32 rounding of the rewards.
    single = reward(
        *(torch.as_tensor(part, dtype=torch.float32) for part in (observations, actions, following))
    )
    assert single.dtype == torch.float32
    np.testing.assert_allclose(single.numpy(), rewards, rtol=1e-4, atol=1e-4)
    as_tensors = (
        torch.as_tensor(part, dtype=torch.float64) for part in (observations, actions, following)
    )
    batched = reward(*as_tensors)
    assert isinstance(batched, torch.Tensor)
    np.testing.assert_allclose(batched.numpy(), rewards, atol=tolerance)


def test_a_task_without_a_planning_reward_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"env_id: 'CartPole-v1' has no planning reward; .*Push"):
        reward_fn("CartPole-v1")
    with pytest.raises(ValueError, match="task: 'DrawerOpen' has no planning reward"):
        manipulation_reward_fn("DrawerOpen")
    with pytest.raises(ValueError, match="action_gain: must be non-zero"):
        reward_fn("envsuite/Pendulum-v0", {"action_gain": 0})
    assert "DrawerOpen" not in PLANNING_TASKS
    assert {"Push", "DoorOpen"} <= set(PLANNING_TASKS)
