"""Build an SB3 PPO, SAC or DQN with a continual-learning method (fine-tuning, EWC, L2 or
reservoir replay) and keep the method's callbacks and state next to the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import torch
from gymnasium import spaces
from stable_baselines3 import DQN, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.vec_env import VecEnv

from agents.baselines.regularization import AnchorRegularizer, TaskBoundaryCallback
from agents.buffers.sb3 import SB3ReplayBuffer

ALGORITHMS: tuple[str, ...] = ("ppo", "sac", "dqn")
METHODS: tuple[str, ...] = ("finetune", "ewc", "l2", "replay")

ALGORITHM_CLASSES: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "sac": SAC, "dqn": DQN}
# The action spaces each algorithm can act in (SB3's own support).
ACTION_SPACES: dict[str, tuple[type[spaces.Space], ...]] = {
    "ppo": (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary),
    "sac": (spaces.Box,),
    "dqn": (spaces.Discrete,),
}
# Continual World's tuned coefficients (EWC 1e4, L2 1e5 for SAC on CW10) in this penalty's
# ``strength / 2`` convention.
DEFAULT_STRENGTH = {"ewc": 2e4, "l2": 2e5}
DEFAULT_FISHER_SAMPLES = 2048
# The option names each method takes, for the error on a typo.
METHOD_OPTIONS: dict[str, tuple[str, ...]] = {
    "finetune": (),
    "ewc": ("strength", "fisher_samples", "regularize_critic"),
    "l2": ("strength", "regularize_critic"),
    "replay": ("capacity",),
}
# SB3's default replay capacity, which reservoir replay keeps when no capacity is given.
SB3_DEFAULT_BUFFER_SIZE = 1_000_000


class ContinualAgent:
    """An SB3 model trained with a continual-learning method.

    Train with ``agent.model.learn(steps, callback=[*agent.callbacks(), ...])``: the callbacks
    carry the method (EWC and L2 anchor at every ``info["task_switched"]``). A checkpoint holds
    the model as SB3 saves it plus :meth:`method_state`, which ``torch.load(weights_only=True)``
    reads back; :meth:`load_method_state` restores it into an agent built the same way.
    """

    def __init__(
        self,
        model: BaseAlgorithm,
        algorithm: str,
        method: str,
        regularizer: AnchorRegularizer | None = None,
    ) -> None:
        self.model = model
        self.algorithm = algorithm
        self.method = method
        self.regularizer = regularizer
        self._boundary_callback = None if regularizer is None else TaskBoundaryCallback(regularizer)

    def __repr__(self) -> str:
        return f"ContinualAgent(algorithm={self.algorithm!r}, method={self.method!r})"

    def callbacks(self) -> list[BaseCallback]:
        """What ``learn`` needs for the method: the task-boundary callback, or nothing."""
        return [] if self._boundary_callback is None else [self._boundary_callback]

    def penalty(self) -> float:
        """The regularisation penalty now (zero for methods without one)."""
        return 0.0 if self.regularizer is None else float(self.regularizer.penalty())

    def method_state(self) -> dict[str, torch.Tensor | int | float | list | dict]:
        """Anchors, importances, boundaries seen and the recent states for the next Fisher:
        plain containers of tensors and numbers (empty for fine-tuning and replay, whose state
        is the model and its replay buffer)."""
        if self.regularizer is None or self._boundary_callback is None:
            return {}
        return {
            **self.regularizer.state(),
            "strength": self.regularizer.strength,
            "recent": self._boundary_callback.state(),
        }

    def load_method_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`method_state` (after loading the model's parameters)."""
        if self.regularizer is None or self._boundary_callback is None:
            if state:
                raise ValueError(
                    f"method state: method {self.method!r} keeps no state, but the one given "
                    f"has keys {sorted(state)}; was it saved by an 'ewc' or 'l2' agent?"
                )
            return
        expected = {"anchors", "importances", "boundaries", "strength", "recent"}
        if set(state) != expected:
            raise ValueError(
                f"method state: expected the keys {sorted(expected)} of an {self.method!r} "
                f"agent, got {sorted(state)}"
            )
        self.regularizer.load_state(state)
        self._boundary_callback.load_state(state["recent"])


def build_agent(
    algorithm: str,
    method: str,
    env: gym.Env | VecEnv,
    *,
    seed: int,
    device: str = "auto",
    hyperparameters: Mapping[str, Any] | None = None,
    method_options: Mapping[str, Any] | None = None,
    tensorboard_log: str | None = None,
) -> ContinualAgent:
    """An SB3 ``algorithm`` ("ppo", "sac", "dqn") on ``env`` with ``method``.

    Args:
        algorithm: one of :data:`ALGORITHMS`.
        method: one of :data:`METHODS`: ``finetune`` (plain SB3), ``ewc``, ``l2`` or ``replay``
            (reservoir replay: a uniform sample of every transition seen; SAC and DQN only).
        env: the training env (a sequence env, or a VecEnv of them).
        seed: seeds SB3 and the method.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``...
        hyperparameters: keyword arguments of the SB3 constructor; ``policy`` picks the policy
            (default: ``MultiInputPolicy`` for Dict observations, ``CnnPolicy`` for images,
            else ``MlpPolicy``).
        method_options: ``ewc``: ``strength`` (default 2e4), ``fisher_samples`` (default 2048),
            ``regularize_critic`` (default False); ``l2``: ``strength`` (default 2e5),
            ``regularize_critic``; ``replay``: ``capacity`` (default: ``buffer_size``, else
            SB3's 1e6).
        tensorboard_log: SB3's tensorboard directory.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    options = dict(method_options or {})
    unknown = sorted(set(options) - set(METHOD_OPTIONS[method]))
    if unknown:
        raise ValueError(
            f"method_options: unknown option(s) {unknown} for method {method!r}; "
            f"allowed: {list(METHOD_OPTIONS[method]) or 'none'}"
        )
    if method == "replay" and algorithm == "ppo":
        raise ValueError(
            "method 'replay' needs an off-policy algorithm with a replay buffer ('sac' or "
            "'dqn'); PPO is on-policy and learns only from its latest rollout"
        )
    action_space = env.action_space
    if not isinstance(action_space, ACTION_SPACES[algorithm]):
        allowed = ", ".join(space.__name__ for space in ACTION_SPACES[algorithm])
        raise ValueError(
            f"algorithm {algorithm!r} acts in {allowed} action spaces; this env's is "
            f"{action_space}"
            + (" (use 'dqn' or 'ppo')" if algorithm == "sac" else "")
            + (" (use 'sac' or 'ppo')" if algorithm == "dqn" else "")
        )
    arguments = dict(hyperparameters or {})
    policy = arguments.pop("policy", None) or default_policy(env.observation_space)
    if method == "replay":
        arguments.update(reservoir_replay_arguments(arguments, options))
    model = ALGORITHM_CLASSES[algorithm](
        policy,
        env,
        seed=seed,
        device=device,
        tensorboard_log=tensorboard_log,
        **arguments,
    )
    regularizer = None
    if method in ("ewc", "l2"):
        regularizer = build_regularizer(algorithm, method, model, options, seed)
    return ContinualAgent(model, algorithm, method, regularizer)


def default_policy(observation_space: spaces.Space) -> str:
    """SB3's policy name for ``observation_space``."""
    if isinstance(observation_space, spaces.Dict):
        return "MultiInputPolicy"
    if is_image_space(observation_space, check_channels=False):
        return "CnnPolicy"
    return "MlpPolicy"


def reservoir_replay_arguments(
    arguments: Mapping[str, Any], options: Mapping[str, Any]
) -> dict[str, Any]:
    """The SB3 constructor arguments that make its replay buffer a reservoir."""
    for name in ("replay_buffer_class", "replay_buffer_kwargs"):
        if arguments.get(name):
            raise ValueError(
                f"hyperparameters: {name} cannot be set with method 'replay', which brings "
                "its own buffer (agents.buffers.sb3.SB3ReplayBuffer with storage='reservoir')"
            )
    buffer_size = arguments.get("buffer_size")
    capacity = options.get("capacity", buffer_size or SB3_DEFAULT_BUFFER_SIZE)
    if buffer_size is not None and buffer_size != capacity:
        raise ValueError(
            f"method_options.capacity={capacity} and hyperparameters.buffer_size={buffer_size} "
            "disagree; for method 'replay' set one of them"
        )
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise ValueError(f"method_options.capacity must be a positive integer, got {capacity!r}")
    return {
        "buffer_size": capacity,
        "replay_buffer_class": SB3ReplayBuffer,
        "replay_buffer_kwargs": {"storage": "reservoir"},
    }


def build_regularizer(
    algorithm: str,
    method: str,
    model: BaseAlgorithm,
    options: Mapping[str, Any],
    seed: int,
) -> AnchorRegularizer:
    """EWC's or L2's regulariser for ``model`` from checked ``options``."""
    strength = options.get("strength", DEFAULT_STRENGTH[method])
    if isinstance(strength, bool) or not isinstance(strength, int | float) or strength < 0:
        raise ValueError(f"method_options.strength must be a non-negative number, got {strength!r}")
    regularize_critic = options.get("regularize_critic", False)
    if not isinstance(regularize_critic, bool):
        raise ValueError(
            f"method_options.regularize_critic must be true or false, got {regularize_critic!r}"
        )
    if regularize_critic and algorithm == "dqn":
        raise ValueError(
            "method_options.regularize_critic: DQN has no separate critic (its Q-network is "
            "its policy and is always regularised); leave it false"
        )
    fisher_samples = options.get("fisher_samples", DEFAULT_FISHER_SAMPLES)
    if (
        isinstance(fisher_samples, bool)
        or not isinstance(fisher_samples, int)
        or fisher_samples < 1
    ):
        raise ValueError(
            f"method_options.fisher_samples must be a positive integer, got {fisher_samples!r}"
        )
    return AnchorRegularizer(
        model,
        importance="fisher" if method == "ewc" else "uniform",
        strength=strength,
        regularize_critic=regularize_critic,
        fisher_samples=fisher_samples,
        seed=seed,
    )
