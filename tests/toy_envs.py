"""Small envs the tests register under the ``toy/`` namespace: images, dtypes, broken envs."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class CounterEnv(gym.Env):
    """Observes its step count in ``width`` entries; succeeds (terminates) after ``goal`` steps."""

    def __init__(
        self,
        width: int = 3,
        actions: int = 2,
        dtype: str = "float32",
        goal: int = 5,
        continuous: bool = False,
    ) -> None:
        self.observation_space = spaces.Box(0.0, 1000.0, (width,), np.dtype(dtype))
        self.action_space = (
            spaces.Box(-1.0, 1.0, (2,), np.float32) if continuous else spaces.Discrete(actions)
        )
        self.goal = goal
        self.count = 0
        self.last_action: Any = None

    def _observation(self) -> np.ndarray:
        return np.full(self.observation_space.shape, self.count, self.observation_space.dtype)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.count = int(self.np_random.integers(0, 3))
        return self._observation(), {}

    def step(self, action: Any):
        self.last_action = action
        self.count += 1
        success = self.count >= self.goal
        return self._observation(), 1.0, success, False, {"success": success}


class EchoEnv(gym.Env):
    """Rewards saying how far into the episode it is: reward 1 when the action equals the number
    of steps taken so far in the episode, else 0. The observation is always zero, so only a
    policy with memory of the episode earns more than 1. Episodes last 3 to 6 steps (drawn at
    reset), so the envs of a batch end at different times."""

    def __init__(self) -> None:
        self.observation_space = spaces.Box(0.0, 1.0, (1,), np.float32)
        self.action_space = spaces.Discrete(8)
        self.length = 3
        self.steps = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.length = int(self.np_random.integers(3, 7))
        self.steps = 0
        return np.zeros(1, np.float32), {}

    def step(self, action: Any):
        reward = float(int(action) == self.steps)
        self.steps += 1
        return np.zeros(1, np.float32), reward, False, self.steps >= self.length, {}


class ImageEnv(gym.Env):
    """A ``size x size x channels`` uint8 image of the step count."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"]}

    def __init__(self, channels: int = 1, size: int = 6, render_mode: str | None = None) -> None:
        self.observation_space = spaces.Box(0, 255, (size, size, channels), np.uint8)
        self.action_space = spaces.Discrete(3)
        self.render_mode = render_mode
        self.count = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.count = int(self.np_random.integers(1, 10))
        return self._image(), {}

    def step(self, action: Any):
        self.count += 1
        return self._image(), 0.0, self.count >= 20, False, {}

    def render(self) -> np.ndarray:
        return np.full((4, 4, 3), self.count, np.uint8)

    def _image(self) -> np.ndarray:
        return np.full(self.observation_space.shape, self.count % 256, np.uint8)


class DictEnv(ImageEnv):
    """A ``Dict`` of an image (``channels`` wide) and a vector (``width`` long), plus ``extra``
    keys if asked: the shape of a navigation observation."""

    def __init__(self, channels: int = 1, width: int = 2, extra: bool = False) -> None:
        super().__init__(channels=channels)
        keys = {"image": self.observation_space, "vector": spaces.Box(-1.0, 1.0, (width,))}
        if extra:
            keys["extra"] = spaces.Box(0.0, 1.0, (1,))
        self.observation_space = spaces.Dict(keys)

    def _image(self) -> dict[str, np.ndarray]:
        image = np.full(self.observation_space["image"].shape, self.count % 256, np.uint8)
        observation = {
            "image": image,
            "vector": np.full(self.observation_space["vector"].shape, 0.5, np.float32),
        }
        if "extra" in self.observation_space.spaces:
            observation["extra"] = np.ones(1, np.float32)
        return observation


class ScalarEnv(CounterEnv):
    """Observes its step count as a scalar: sequences cannot pad it."""

    def __init__(self) -> None:
        super().__init__()
        self.observation_space = spaces.Box(0.0, 1000.0, (), np.float32)


class NanResetEnv(CounterEnv):
    """Broken: its reset observation is NaN (steps are fine)."""

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        observation, info = super().reset(seed=seed, options=options)
        return np.full_like(observation, np.nan), info


class WrongVectorEnv(gym.vector.SyncVectorEnv):
    """Broken vector entry point: every reward is 42, unlike the single env's."""

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        super().__init__([lambda: CounterEnv(**kwargs) for _ in range(num_envs)])

    def step(self, actions: Any):
        observations, rewards, terminations, truncations, infos = super().step(actions)
        return observations, np.full_like(rewards, 42.0), terminations, truncations, infos


class UnseededEnv(CounterEnv):
    """Broken: draws from numpy's global generator, so seeding does not determine it."""

    def step(self, action: Any):
        observation, _, terminated, truncated, info = super().step(action)
        return observation, float(np.random.random()), terminated, truncated, info


class OutOfSpaceEnv(CounterEnv):
    """Broken: its observations leave the declared bounds after a few steps."""

    def _observation(self) -> np.ndarray:
        return np.full(self.observation_space.shape, 2000.0 * (self.count > 3), np.float32)


class UnpicklableEnv(CounterEnv):
    """Broken: holds a lambda, which pickle refuses."""

    def __init__(self) -> None:
        super().__init__()
        self.callback = lambda: None


TOY_ENVS = {
    "toy/Counter-v0": CounterEnv,
    "toy/Echo-v0": EchoEnv,
    "toy/Image-v0": ImageEnv,
    "toy/Dict-v0": DictEnv,
    "toy/Unseeded-v0": UnseededEnv,
    "toy/OutOfSpace-v0": OutOfSpaceEnv,
    "toy/Unpicklable-v0": UnpicklableEnv,
    "toy/Scalar-v0": ScalarEnv,
    "toy/NanReset-v0": NanResetEnv,
}


def register_toy_envs() -> None:
    for env_id, env_class in TOY_ENVS.items():
        if env_id not in gym.registry:
            gym.register(env_id, entry_point=f"{__name__}:{env_class.__name__}")
    if "toy/WrongVector-v0" not in gym.registry:
        gym.register(
            "toy/WrongVector-v0",
            entry_point=f"{__name__}:CounterEnv",
            vector_entry_point=f"{__name__}:WrongVectorEnv",
        )
