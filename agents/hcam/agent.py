"""The memory agent: a recurrent actor-critic over a memory core (HCAM, a windowed transformer or
an LSTM), trained with PPO on sequences.

Why PPO over sequences rather than IMPALA's V-trace: the training loop steps its envs in lock
step with the learner, so the data of an update comes from the policy being updated, and the
actor-learner lag V-trace corrects for does not arise; PPO's clipped epochs then reuse each
rollout several times. Each env's rollout is one segment: the update replays it from the core
state it began with (the memory of the episodes in progress, as the acting network stored it),
so the memory spans segments while gradients flow within one (truncated backprop through time,
as in Transformer-XL; HCAM's chunks are stop-gradient in any case).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn

from agents.common.observations import ObservationLayout
from agents.common.protocol import AgentContext, AgentState, Transition
from agents.hcam.config import CoreKind, MemoryAgentConfig
from agents.hcam.cores import CoreOutput, CoreState, select_envs
from agents.hcam.networks import MemoryActorCritic

# Pixels per chunk column of an attention image (a chunk is one column of weights).
ATTENTION_COLUMN_PIXELS = 4


class MemoryAgent:
    """PPO on a memory actor-critic (:class:`MemoryActorCritic`); see the module docstring and
    ``docs/hcam.md``. A checkpoint holds the networks, the optimiser and the random streams
    (training's and evaluation's); the rollout in progress is not kept (a resumed run starts
    new episodes anyway)."""

    def __init__(self, config: MemoryAgentConfig, context: AgentContext) -> None:
        if not isinstance(context.action_space, gym.spaces.Discrete):
            raise ValueError(
                f"action space: the memory agents act in Discrete spaces, got "
                f"{context.action_space}"
            )
        if context.num_envs != config.num_envs:
            raise ValueError(
                f"num_envs: the agent is configured for {config.num_envs} envs, the loop gives "
                f"{context.num_envs}"
            )
        self.config = config
        self.device = torch.device(context.device)
        self.num_envs = context.num_envs
        torch.manual_seed(context.seed)
        self.layout = ObservationLayout.of_space(context.observation_space)
        self.network = MemoryActorCritic(
            self.layout, config.core_spec(), int(context.action_space.n)
        ).to(self.device)
        self.optimizer = torch.optim.Adam(
            self.network.parameters(), lr=config.learning_rate, eps=1e-5
        )
        self.random = np.random.default_rng(context.seed)
        self.evaluation_random = np.random.default_rng([context.seed, 1])
        self.rollout: list[dict[str, Any]] = []
        # The core state the rollout's segment began with, and the one after the last act.
        self.segment_state: CoreState | None = None
        self.acted_state: CoreState | None = None
        self.acted: dict[str, Any] = {}
        self.following: tuple[Any, np.ndarray] | None = None
        # Attention images: per evaluation batch (a task), the first episode of its env 0.
        self.records_attention = config.attention_images and config.core is CoreKind.hcam
        self.recordings: list[list[np.ndarray]] = []
        self.recording_open = False

    # The training loop's calls -----------------------------------------------------------

    def act(
        self,
        observation: Any,
        state: AgentState,
        episode_start: np.ndarray,
        deterministic: bool,
    ) -> tuple[np.ndarray, AgentState]:
        batch = len(episode_start)
        new_batch = state is None
        if new_batch:
            state = self.network.core.initial_state(batch, self.device)
        parts = {key: np.array(value) for key, value in self.layout.parts(observation).items()}
        starts = torch.as_tensor(np.asarray(episode_start), device=self.device)[None]
        with torch.no_grad():
            logits, values, core = self.network(self._step_tensors(observation), starts, state)
        log_probabilities = torch.log_softmax(logits[0], -1).cpu().numpy().astype(np.float64)
        if deterministic:
            if self.records_attention:
                self._record_attention(core, new_batch, np.asarray(episode_start))
            if self.config.evaluation_sampling:
                return _sample(log_probabilities, self.evaluation_random), core.state
            return log_probabilities.argmax(-1), core.state
        actions = _sample(log_probabilities, self.random)
        if self.segment_state is None:
            self.segment_state = state
        self.acted = {
            "parts": parts,
            "episode_start": np.asarray(episode_start, dtype=bool).copy(),
            "log_probability": log_probabilities[np.arange(batch), actions],
            "value": values[0].cpu().numpy(),
        }
        self.acted_state = core.state
        self.recordings.clear()  # a stray evaluation's (a video's) recordings
        return actions, core.state

    def observe(self, transition: Transition) -> None:
        reward = np.asarray(transition.reward, dtype=np.float64).copy()
        cut = np.asarray(transition.truncated) & ~np.asarray(transition.terminated)
        if cut.any():  # a time limit or a block end: bootstrap from the final observation
            reward[cut] += (
                self.config.discount
                * self._values(transition.next_observation, np.zeros(len(reward), dtype=bool))[cut]
            )
        done = np.asarray(transition.terminated) | np.asarray(transition.truncated)
        self.rollout.append(
            self.acted | {"action": np.asarray(transition.action), "reward": reward, "done": done}
        )
        self.following = (transition.following_observation, done)

    def update(self) -> dict[str, float | np.ndarray]:
        if len(self.rollout) < self.config.rollout_length:
            return {}
        scalars = self._learn()
        self.rollout.clear()
        self.segment_state = None
        return scalars

    def on_task_switch(self, info: dict[str, Any]) -> None:
        """Task-agnostic: a block end is an episode end like any other."""

    def evaluation_measures(self) -> dict[int, dict[str, float | np.ndarray]]:
        """HCAM: per task, the image of its chunk weights over the round's first episode
        (``memory_attention``); the other cores measure nothing."""
        images = {
            task: {"memory_attention": _attention_image(rows)}
            for task, rows in enumerate(self.recordings)
            if rows
        }
        self.recordings.clear()
        self.recording_open = False
        return images

    def state_dict(self, include_replay: bool) -> dict[str, Any]:
        return {
            "network": self.network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "random": self.random.bit_generator.state,
            "evaluation_random": self.evaluation_random.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.network.load_state_dict(state["network"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.random.bit_generator.state = state["random"]
        self.evaluation_random.bit_generator.state = state["evaluation_random"]
        self.rollout.clear()
        self.segment_state = None

    def close(self) -> None:
        """Nothing beyond memory is held."""

    # Learning ------------------------------------------------------------------------------

    def _learn(self) -> dict[str, float]:
        config, device = self.config, self.device
        steps = self.rollout
        rollout = {
            key: np.stack([step[key] for step in steps]) for key in steps[0] if key != "parts"
        }
        assert self.following is not None
        following, following_start = self.following
        last_values = self._values(following, following_start)
        advantages = _advantages(
            rollout["reward"],
            rollout["value"],
            rollout["done"],
            last_values,
            config.discount,
            config.gae_lambda,
        )
        returns = advantages + rollout["value"]
        observations = {
            key: torch.as_tensor(np.stack([step["parts"][key] for step in steps]), device=device)
            for key in steps[0]["parts"]
        }
        starts = torch.as_tensor(rollout["episode_start"], device=device)
        actions = torch.as_tensor(rollout["action"], device=device, dtype=torch.long)
        old_log_probabilities = torch.as_tensor(rollout["log_probability"], device=device)
        advantages_tensor = torch.as_tensor(advantages, device=device, dtype=torch.float32)
        returns_tensor = torch.as_tensor(returns, device=device, dtype=torch.float32)
        assert self.segment_state is not None
        totals: dict[str, list[float]] = {}
        envs_per_minibatch = self.num_envs // config.minibatches
        for _ in range(config.epochs):
            order = self.random.permutation(self.num_envs)
            for first in range(0, self.num_envs, envs_per_minibatch):
                envs = torch.as_tensor(order[first : first + envs_per_minibatch], device=device)
                losses = self._minibatch_losses(
                    {key: value[:, envs] for key, value in observations.items()},
                    starts[:, envs],
                    select_envs(self.segment_state, envs),
                    actions[:, envs],
                    old_log_probabilities[:, envs],
                    advantages_tensor[:, envs],
                    returns_tensor[:, envs],
                )
                self.optimizer.zero_grad()
                losses["loss"].backward()
                grad_norm = nn.utils.clip_grad_norm_(
                    self.network.parameters(), config.max_grad_norm
                )
                self.optimizer.step()
                for name, value in losses.items():
                    totals.setdefault(name, []).append(float(value.detach()))
                totals.setdefault("grad_norm", []).append(float(grad_norm))
        scalars = {name: float(np.mean(values)) for name, values in totals.items()}
        residual = np.var(returns - rollout["value"])
        scalars["explained_variance"] = float(1 - residual / max(np.var(returns), 1e-8))
        return scalars

    def _minibatch_losses(
        self,
        observations: dict[str, Tensor],
        starts: Tensor,
        state: CoreState,
        actions: Tensor,
        old_log_probabilities: Tensor,
        advantages: Tensor,
        returns: Tensor,
    ) -> dict[str, Tensor]:
        config = self.config
        logits, values, _ = self.network(observations, starts, state)
        distribution = torch.distributions.Categorical(logits=logits)
        log_probabilities = distribution.log_prob(actions)
        log_ratio = log_probabilities - old_log_probabilities
        ratio = log_ratio.exp()
        normalized = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        policy_loss = torch.max(
            -normalized * ratio, -normalized * ratio.clamp(1 - config.clip, 1 + config.clip)
        ).mean()
        value_loss = 0.5 * (values - returns).pow(2).mean()
        entropy = distribution.entropy().mean()
        with torch.no_grad():
            approximate_kl = ((ratio - 1) - log_ratio).mean()
            clip_fraction = ((ratio - 1).abs() > config.clip).float().mean()
        return {
            "loss": policy_loss + config.value_weight * value_loss - config.entropy * entropy,
            "policy_loss": policy_loss,
            "value_loss": value_loss,
            "entropy": entropy,
            "approximate_kl": approximate_kl,
            "clip_fraction": clip_fraction,
        }

    def _values(self, observation: Any, episode_start: np.ndarray) -> np.ndarray:
        """The values of ``observation`` as the next step after the last act."""
        starts = torch.as_tensor(np.asarray(episode_start), device=self.device)[None]
        with torch.no_grad():
            _, values, _ = self.network(self._step_tensors(observation), starts, self.acted_state)
        return values[0].cpu().numpy().astype(np.float64)

    def _step_tensors(self, observation: Any) -> dict[str, Tensor]:
        """One step's batched observation as a segment of one (``[1, B, ...]`` parts)."""
        parts = self.layout.to_tensors(observation, self.device)
        return {key: value[None] for key, value in parts.items()}

    # Attention images ----------------------------------------------------------------------

    def _record_attention(
        self, core: CoreOutput, new_batch: bool, episode_start: np.ndarray
    ) -> None:
        """Keep the last block's chunk weights over env 0's first episode of each evaluation
        batch (one batch per task, in order), a row per step indexed by chunk number."""
        if new_batch:
            self.recordings.append([])
            self.recording_open = True
        elif episode_start[0]:  # env 0's first episode is over
            self.recording_open = False
        if not self.recording_open or core.chunk_weights is None or core.chunk_numbers is None:
            return
        weights = core.chunk_weights[0, 0].cpu().numpy()
        read = weights > 0  # empty slots carry no chunk number of their own
        numbers = core.chunk_numbers[0].cpu().numpy()[read]
        row = np.zeros(int(numbers.max(initial=0)) + 1)
        np.add.at(row, numbers, weights[read])
        self.recordings[-1].append(row)


def _sample(log_probabilities: np.ndarray, random: np.random.Generator) -> np.ndarray:
    """An action per row of ``[B, A]`` log-probabilities, by inverse-CDF sampling from one of
    the agent's numpy streams (checkpointed with it)."""
    cumulative = np.exp(log_probabilities).cumsum(-1)
    draws = random.random((len(cumulative), 1)) * cumulative[:, -1:]
    return (draws >= cumulative).sum(-1)


def _attention_image(rows: list[np.ndarray]) -> np.ndarray:
    """``(steps, chunks * ATTENTION_COLUMN_PIXELS, 3)`` uint8: white where a step's query
    weighs a chunk fully."""
    weights = np.zeros((len(rows), max(len(row) for row in rows)))
    for step, row in enumerate(rows):
        weights[step, : len(row)] = row
    grey = np.repeat((np.clip(weights, 0, 1) * 255).astype(np.uint8), ATTENTION_COLUMN_PIXELS, 1)
    return np.repeat(grey[..., None], 3, -1)


def _advantages(
    rewards: np.ndarray,
    values: np.ndarray,
    dones: np.ndarray,
    last_values: np.ndarray,
    discount: float,
    gae_lambda: float,
) -> np.ndarray:
    """Generalised advantage estimates ``[T, B]``; ``dones[t]`` ends the episode after step
    ``t`` (its bootstrap, if truncated, is already in ``rewards[t]``)."""
    advantages = np.zeros_like(rewards)
    following_advantage = np.zeros_like(last_values)
    following_value = last_values
    for step in range(len(rewards) - 1, -1, -1):
        going_on = 1.0 - dones[step]
        delta = rewards[step] + discount * going_on * following_value - values[step]
        following_advantage = delta + discount * gae_lambda * going_on * following_advantage
        advantages[step] = following_advantage
        following_value = values[step]
    return advantages
