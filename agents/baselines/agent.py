"""SB3's PPO, SAC and DQN with a continual-learning method (fine-tuning, EWC, L2 or reservoir
replay), as agents of the training loop (:class:`agents.common.Agent`).
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import DQN, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.logger import HumanOutputFormat, KVWriter, Logger
from stable_baselines3.common.preprocessing import is_image_space

from agents.baselines.bridge import BackgroundLearn, LoopVecEnv
from agents.baselines.regularization import AnchorRegularizer, RecentStates
from agents.buffers.sb3 import SB3ReplayBuffer
from agents.common.protocol import AgentContext, AgentState, Transition
from envsuite.sb3 import sb3_infos

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
    """An SB3 model trained with a continual-learning method, as an :class:`agents.common.Agent`.

    SB3 keeps its own rollout collection: ``learn`` runs in a worker thread over a
    :class:`LoopVecEnv` whose steps are the training loop's (:mod:`agents.baselines.bridge`).
    Training actions (``act(..., deterministic=False)``) are the ones SB3's collection chose
    for the loop's observations, with its exploration; ``update`` waits until SB3 has stored the
    step and trained if it was time. Evaluation actions (``deterministic=True``) come from
    ``model.predict``. SB3's logged scalars (losses, learning rate, fps) are what ``update``
    returns, with ``continual/penalty`` for EWC and L2.

    The method (EWC and L2) anchors at every :meth:`on_task_switch`, from the most recent
    ``fisher_samples`` states observed (:class:`RecentStates`).
    """

    def __init__(
        self,
        model: BaseAlgorithm,
        env: LoopVecEnv,
        algorithm: str,
        method: str,
        total_steps: int,
        regularizer: AnchorRegularizer | None = None,
    ) -> None:
        self.model = model
        self.algorithm = algorithm
        self.method = method
        self.regularizer = regularizer
        self.recent = (
            RecentStates(regularizer.fisher_samples)
            if regularizer is not None and regularizer.importance == "fisher"
            else None
        )
        self.learning = BackgroundLearn(model, env, total_steps)
        self.scalars = ScalarCollector()
        outputs: list[KVWriter] = [self.scalars]
        if model.verbose >= 1:  # what SB3's own logger would print
            outputs.append(HumanOutputFormat(sys.stdout))
        model.set_logger(Logger(None, outputs))
        self.pending_actions: np.ndarray | None = None
        self.handed_to_sb3: Any = None

    def __repr__(self) -> str:
        return f"ContinualAgent(algorithm={self.algorithm!r}, method={self.method!r})"

    def act(
        self,
        observation: Any,
        state: AgentState,
        episode_start: np.ndarray,
        deterministic: bool,
    ) -> tuple[np.ndarray, AgentState]:
        """``model.predict`` in evaluation; in training, the actions SB3 chose for this step."""
        if deterministic:
            return self.model.predict(observation, state, episode_start, deterministic=True)
        if not self.learning.started:
            self.pending_actions = self.learning.start(observation)
        elif observation is not self.handed_to_sb3:
            # SB3 chose its pending actions for the observation it was last given: acting on
            # another (a second train_agent call, another env) would pair them wrongly.
            raise RuntimeError(
                f"{self!r}: SB3's learn is in the middle of the loop it started on; an agent "
                "trains through one train_agent call (build a new one, or load_state_dict "
                "into a fresh agent, to train on)"
            )
        if self.pending_actions is None:
            raise RuntimeError(
                f"{self!r}: SB3's learn has trained its {self.learning.total_steps} steps; "
                "build a new agent to train further"
            )
        return self.pending_actions, None

    def observe(self, transition: Transition) -> None:
        """Hand the step to SB3 in its VecEnv form, and remember its states for EWC."""
        if self.recent is not None:
            self.recent.add(transition.observation, self._critic_actions(transition.action))
        dones = transition.terminated | transition.truncated
        infos = sb3_infos(
            transition.infos,
            transition.next_observation,
            transition.terminated,
            transition.truncated,
        )
        self.handed_to_sb3 = transition.following_observation
        self.learning.step(
            (
                transition.following_observation,
                np.asarray(transition.reward, dtype=np.float32),
                dones,
                infos,
            )
        )

    def update(self) -> dict[str, float]:
        """Wait for SB3 to process the step; the scalars it logged meanwhile."""
        if not self.learning.started:
            return {}
        self.pending_actions = self.learning.next_actions()
        scalars = self.scalars.take()
        if scalars and self.regularizer is not None:
            scalars["continual/penalty"] = self.penalty()
        return scalars

    def on_task_switch(self, info: dict[str, Any]) -> None:
        """EWC and L2 anchor here (fine-tuning and replay do nothing)."""
        if self.regularizer is None:
            return
        observations, actions = (
            self.recent.experience(self.model) if self.recent is not None else (None, None)
        )
        self.regularizer.on_task_boundary(observations, actions)
        if self.recent is not None:
            self.recent.clear()

    def penalty(self) -> float:
        """The regularisation penalty now (zero for methods without one)."""
        return 0.0 if self.regularizer is None else float(self.regularizer.penalty())

    def method_state(self) -> dict[str, Any]:
        """Anchors, importances, boundaries seen and the recent states for the next Fisher:
        plain containers of tensors and numbers (empty for fine-tuning and replay, whose state
        is the model and its replay buffer)."""
        if self.regularizer is None:
            return {}
        return {
            **self.regularizer.state(),
            "strength": self.regularizer.strength,
            "recent": self.recent.state() if self.recent is not None else {"steps": 0},
        }

    def load_method_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`method_state` (after loading the model's parameters)."""
        if self.regularizer is None:
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
        if self.recent is not None:
            self.recent.load_state(state["recent"])

    def state_dict(self, include_replay: bool) -> dict[str, Any]:
        """The model's parameters and optimiser states (``model.get_parameters()``), SAC's
        entropy coefficient, the step count, the action space's RNG (SAC's warm-up and DQN's
        exploration draw from it), the method's state and, if asked, the replay buffer."""
        model = self.model
        log_ent_coef = getattr(model, "log_ent_coef", None)
        replay = getattr(model, "replay_buffer", None)
        return {
            "algorithm": self.algorithm,
            "method": self.method,
            "parameters": model.get_parameters(),
            "log_ent_coef": None if log_ent_coef is None else log_ent_coef.detach().cpu().clone(),
            "num_timesteps": int(model.num_timesteps),
            "action_space_rng": json.dumps(model.action_space.np_random.bit_generator.state),
            "method_state": self.method_state(),
            "replay": replay.state_dict() if include_replay and replay is not None else None,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` into an agent built with the same config, before it
        trains (SB3's counters other than ``num_timesteps`` start again: DQN's target
        updates keep their period from the resumed step on)."""
        if (state["algorithm"], state["method"]) != (self.algorithm, self.method):
            raise ValueError(
                f"agent state of {state['algorithm']}/{state['method']}, this agent is "
                f"{self.algorithm}/{self.method}"
            )
        if self.learning.started:
            raise RuntimeError(f"{self!r}: load_state_dict once training has begun")
        model = self.model
        model.set_parameters(dict(state["parameters"]), exact_match=True, device=model.device)
        if state["log_ent_coef"] is not None:
            with torch.no_grad():
                model.log_ent_coef.copy_(state["log_ent_coef"])
        model.num_timesteps = int(state["num_timesteps"])
        model.action_space.np_random.bit_generator.state = json.loads(state["action_space_rng"])
        self.load_method_state(state["method_state"])
        if self.regularizer is not None:
            self.regularizer.attach()  # set_parameters may have replaced the optimisers' state
        if state["replay"] is not None:
            model.replay_buffer.load_state_dict(state["replay"])

    def close(self) -> None:
        """Stop SB3's learn thread where it waits."""
        self.learning.stop()

    def _critic_actions(self, actions: np.ndarray) -> np.ndarray | None:
        """Actions as SAC's critic and DQN's Q-network see them (SAC's rescaled to [-1, 1]);
        PPO's Fisher needs none."""
        if self.algorithm == "sac":
            return self.model.policy.scale_action(np.asarray(actions))
        if self.algorithm == "dqn":
            return np.asarray(actions)
        return None


class ScalarCollector(KVWriter):
    """An SB3 logger output that keeps the numeric scalars of each dump until taken."""

    def __init__(self) -> None:
        self.scalars: dict[str, float] = {}

    def write(
        self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0
    ) -> None:
        for key, value in key_values.items():
            if isinstance(value, int | float | np.number) and not isinstance(value, bool):
                self.scalars[key] = float(value)

    def take(self) -> dict[str, float]:
        scalars, self.scalars = self.scalars, {}
        return scalars

    def close(self) -> None:
        """Nothing to close."""


def build_agent(
    algorithm: str,
    method: str,
    context: AgentContext,
    *,
    hyperparameters: Mapping[str, Any] | None = None,
    method_options: Mapping[str, Any] | None = None,
) -> ContinualAgent:
    """An SB3 ``algorithm`` ("ppo", "sac", "dqn") with ``method``, for the spaces, budget, seed
    and device of ``context`` (``AgentContext.of_env(env, total_steps, seed, device)``).

    Args:
        algorithm: one of :data:`ALGORITHMS`.
        method: one of :data:`METHODS`: ``finetune`` (plain SB3), ``ewc``, ``l2`` or ``replay``
            (reservoir replay: a uniform sample of every transition seen; SAC and DQN only).
        context: the spaces the agent acts in, the number of envs per batch, the steps it will
            train for (SB3's schedules, learning rate and exploration, run over these), the
            seed of SB3 and the method, and the torch device (``"auto"``: CUDA when
            available). The training loop steps the real envs.
        hyperparameters: keyword arguments of the SB3 constructor; ``policy`` picks the policy
            (default: ``MultiInputPolicy`` for Dict observations, ``CnnPolicy`` for images,
            else ``MlpPolicy``). SAC and DQN store their replay in
            :class:`agents.buffers.sb3.SB3ReplayBuffer` (a ring, or a reservoir for ``replay``),
            so ``replay_buffer_class`` and ``replay_buffer_kwargs`` cannot be set.
        method_options: ``ewc``: ``strength`` (default 2e4), ``fisher_samples`` (default 2048),
            ``regularize_critic`` (default False); ``l2``: ``strength`` (default 2e5),
            ``regularize_critic``; ``replay``: ``capacity`` (default: ``buffer_size``, else
            SB3's 1e6).
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
    observation_space, action_space = context.observation_space, context.action_space
    if not isinstance(action_space, ACTION_SPACES[algorithm]):
        allowed = ", ".join(space.__name__ for space in ACTION_SPACES[algorithm])
        raise ValueError(
            f"algorithm {algorithm!r} acts in {allowed} action spaces; this env's is "
            f"{action_space}"
            + (" (use 'dqn' or 'ppo')" if algorithm == "sac" else "")
            + (" (use 'sac' or 'ppo')" if algorithm == "dqn" else "")
        )
    arguments = dict(hyperparameters or {})
    policy = arguments.pop("policy", None) or default_policy(observation_space)
    if algorithm != "ppo":
        arguments.update(replay_arguments(method, arguments, options))
    # The agent's own copies: its action space's RNG (SAC's warm-up, DQN's exploration) is
    # its state, apart from the loop's envs.
    loop_env = LoopVecEnv(
        copy.deepcopy(observation_space), copy.deepcopy(action_space), context.num_envs
    )
    model = ALGORITHM_CLASSES[algorithm](
        policy, loop_env, seed=context.seed, device=context.device, **arguments
    )
    regularizer = None
    if method in ("ewc", "l2"):
        regularizer = build_regularizer(algorithm, method, model, options, context.seed)
    return ContinualAgent(model, loop_env, algorithm, method, context.total_steps, regularizer)


def default_policy(observation_space: spaces.Space) -> str:
    """SB3's policy name for ``observation_space``."""
    if isinstance(observation_space, spaces.Dict):
        return "MultiInputPolicy"
    if is_image_space(observation_space, check_channels=False):
        return "CnnPolicy"
    return "MlpPolicy"


def replay_arguments(
    method: str, arguments: Mapping[str, Any], options: Mapping[str, Any]
) -> dict[str, Any]:
    """The SB3 constructor arguments that store SAC's and DQN's replay in an
    :class:`SB3ReplayBuffer`: a ring (SB3's behaviour), a reservoir for method ``replay``."""
    for name in ("replay_buffer_class", "replay_buffer_kwargs"):
        if arguments.get(name):
            raise ValueError(
                f"hyperparameters: {name} cannot be set: SAC and DQN store their replay in "
                "agents.buffers.sb3.SB3ReplayBuffer (a ring, or a reservoir for method "
                "'replay'), which checkpoints save"
            )
    if method != "replay":
        return {"replay_buffer_class": SB3ReplayBuffer, "replay_buffer_kwargs": {}}
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
