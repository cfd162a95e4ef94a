"""A gymnasium vector env as a Stable-Baselines3 ``VecEnv`` (SB3 2.x has none for gymnasium 1.x):
so that SB3 trains on a sequence's vector env, ``gym.make_vec(sequence_id, N)``, on one clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from envsuite.core.sequence import Sequence as SequenceHandle
from envsuite.core.sequence import make_sequence
from envsuite.core.vector_infos import final_observations, row, step_infos, unbatch


class GymnasiumVecEnv(VecEnv):
    """Steps a gymnasium vector env with same-step autoreset as SB3's ``VecEnv`` API.

    SB3 resets an ended episode within the step: the env must autoreset in the same step
    (``gym.make_vec(sequence_id, N, autoreset_mode="SameStep")``, or
    :func:`sequence_vec_env`). Each env's info is its step's (``final_info`` for an ended one),
    with SB3's ``terminal_observation`` and ``TimeLimit.truncated``. Attributes and methods are
    the vector env's, one value for all envs.

    Example:
        >>> from stable_baselines3 import PPO
        >>> from envsuite.sb3 import sequence_vec_env
        >>> model = PPO("MlpPolicy", sequence_vec_env("ClassicCartPoleAcrobot", num_envs=4))
    """

    def __init__(self, env: gym.vector.VectorEnv) -> None:
        mode = env.metadata.get("autoreset_mode")
        if mode != AutoresetMode.SAME_STEP:
            raise ValueError(
                f"env: SB3 resets ended episodes within the step, so the vector env must "
                f"autoreset in the same step (autoreset_mode='SameStep'); it has {mode}"
            )
        self.env = env
        self.next_seed: int | None = None
        self.next_options: dict[str, Any] | None = None
        self.actions: np.ndarray | None = None
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)

    def reset(self) -> Any:
        observations, infos = self.env.reset(seed=self.next_seed, options=self.next_options)
        # SB3's rule: a seed and options serve the next reset only.
        self.next_seed, self.next_options = None, None
        self.reset_infos = [unbatch(infos, index) for index in range(self.num_envs)]
        return observations

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seed the next reset: env ``i`` as the vector env seeds it from ``seed``."""
        self.next_seed = seed
        return [None if seed is None else seed + index for index in range(self.num_envs)]

    def set_options(self, options: list[dict] | dict | None = None) -> None:
        """Options of the next reset: one dict for the whole vector env."""
        if isinstance(options, list):
            if any(entry != options[0] for entry in options):
                raise ValueError(
                    "options: a vector env resets with one options dict, got different ones "
                    f"per env: {options!r}"
                )
            options = options[0] if options else None
        self.next_options = options

    def step_async(self, actions: np.ndarray) -> None:
        self.actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, terminations, truncations, infos = self.env.step(self.actions)
        dones = terminations | truncations
        per_env = sb3_infos(
            step_infos(infos, dones),
            final_observations(observations, infos, dones),
            terminations,
            truncations,
        )
        return observations, np.asarray(rewards, dtype=np.float32), dones, per_env

    def close(self) -> None:
        self.env.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        frames = self.env.render()
        return list(frames) if frames is not None else [None] * self.num_envs

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self.env, attr_name)] * _count(indices, self.num_envs)

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self.env, attr_name, value)

    def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list:
        result = getattr(self.env, method_name)(*args, **kwargs)
        return [result] * _count(indices, self.num_envs)

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: Any = None) -> list[bool]:
        # The vector env's envs are batched, not single envs that gymnasium wrappers wrap.
        return [False] * _count(indices, self.num_envs)


def sb3_infos(
    infos: Sequence[dict[str, Any]],
    final_observations: Any,
    terminations: np.ndarray,
    truncations: np.ndarray,
) -> list[dict[str, Any]]:
    """Each env's step info in SB3's VecEnv form: an ended episode's with its
    ``terminal_observation`` (its row of ``final_observations``) and ``TimeLimit.truncated``."""
    converted = []
    for index, info in enumerate(infos):
        info = dict(info)
        if terminations[index] or truncations[index]:
            info["terminal_observation"] = row(final_observations, index)
            info["TimeLimit.truncated"] = bool(truncations[index] and not terminations[index])
        converted.append(info)
    return converted


def sequence_vec_env(
    sequence: str | SequenceHandle, num_envs: int, **kwargs: Any
) -> GymnasiumVecEnv:
    """``num_envs`` envs of a sequence (a :class:`Sequence`, or a name, id or YAML path) on one
    clock, as an SB3 VecEnv; ``kwargs`` as :class:`ContinualVectorEnv`'s (the spec's overrides,
    ``task_vectorization_mode``, ...)."""
    handle = make_sequence(sequence) if isinstance(sequence, str) else sequence
    vector_env = handle.make_vector_env(num_envs, autoreset_mode=AutoresetMode.SAME_STEP, **kwargs)
    return GymnasiumVecEnv(vector_env)


def _count(indices: Any, num_envs: int) -> int:
    """How many envs SB3's ``indices`` (None: all, an int, or several) name."""
    if indices is None:
        return num_envs
    return 1 if isinstance(indices, int) else len(list(indices))
