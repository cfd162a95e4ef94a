"""The agent protocol: what ``agents.training.loop`` needs of an agent to train, evaluate,
checkpoint and resume it.

The loop owns the environment. Each step it asks the agent for actions (:meth:`Agent.act`),
steps a vector env of the sequence, hands the agent what happened (:meth:`Agent.observe`), lets
it learn (:meth:`Agent.update`) and, at a block end, tells it the task switched
(:meth:`Agent.on_task_switch`). Evaluation calls :meth:`Agent.act` with ``deterministic=True``
on batches of evaluation envs. Checkpoints are ``torch.save`` of :meth:`Agent.state_dict`.

Everything is batched over the envs: observations are arrays (or dicts of arrays) whose first
axis is the env, and ``episode_start`` says, per env, that its observation begins an episode.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

# A recurrent agent's memory of the episodes it is in (a tensor, a tuple of them, a dict...);
# None for an agent without memory, and at the start of a run or an evaluation.
AgentState = Any


@dataclass(frozen=True)
class AgentContext:
    """What the training loop knows when it builds an agent.

    Attributes:
        observation_space: the space of one env's observations.
        action_space: the space of one env's actions.
        num_envs: how many envs each :meth:`Agent.act` batch holds.
        total_steps: the global steps the agent will train for (its schedules run over these).
        seed: seeds the agent's randomness.
        device: the torch device to train on (``"cpu"``, ``"cuda"``, ...).
    """

    observation_space: gym.Space
    action_space: gym.Space
    num_envs: int
    total_steps: int
    seed: int
    device: str

    @classmethod
    def of_env(
        cls,
        env: gym.Env | gym.vector.VectorEnv,
        total_steps: int,
        seed: int,
        device: str = "cpu",
    ) -> AgentContext:
        """The context of an agent acting in ``env`` (a vector env's single spaces)."""
        if isinstance(env, gym.vector.VectorEnv):
            return cls(
                env.single_observation_space,
                env.single_action_space,
                env.num_envs,
                total_steps,
                seed,
                device,
            )
        return cls(env.observation_space, env.action_space, 1, total_steps, seed, device)


@dataclass(frozen=True)
class Transition:
    """One vector-env step, batched over the envs.

    Attributes:
        observation: what the agent acted on.
        action: what it did (as :meth:`Agent.act` returned it).
        reward: ``(num_envs,)`` rewards.
        next_observation: the observation the step led to. Where an episode ended, this is its
            final observation, not the first of the next episode.
        following_observation: what the loop acts on next: ``next_observation``, except where
            an episode ended, where it is the first observation of the next episode.
        terminated: ``(num_envs,)`` the episode reached a terminal state (no bootstrapping).
        truncated: ``(num_envs,)`` the episode was cut short (a time limit, or a block end of
            the sequence): bootstrap from ``next_observation``.
        infos: one info dict per env, of the step itself (a sequence env's ``global_step``,
            ``task_index``, ``task_name``, ``task_switched``...).
    """

    observation: Any
    action: np.ndarray
    reward: np.ndarray
    next_observation: Any
    following_observation: Any
    terminated: np.ndarray
    truncated: np.ndarray
    infos: tuple[dict[str, Any], ...]


@runtime_checkable
class Agent(Protocol):
    """What the training loop drives. The README's "Writing an agent" has a complete example."""

    def act(
        self,
        observation: Any,
        state: AgentState,
        episode_start: np.ndarray,
        deterministic: bool,
    ) -> tuple[np.ndarray, AgentState]:
        """Actions for a batch of observations, and the state to pass with the next batch.

        ``state`` is what the previous call returned (``None`` on the first); where
        ``episode_start`` is true, that env's row of the state must be forgotten (a new
        episode begins). ``deterministic`` is true in evaluation. Agents without memory
        return ``None`` as the state.
        """
        ...

    def observe(self, transition: Transition) -> None:
        """Take the step that the last training :meth:`act` led to (store it, count it)."""
        ...

    def update(self) -> dict[str, float | np.ndarray]:
        """Learn from what was observed, if it is time to; return scalars to log (losses,
        learning rates...) under their names, or an empty dict. Called once per step. A value
        may also be a video, ``(frames, height, width, 3)`` uint8 (a world model's predictions),
        which tensorboard shows as an animated GIF."""
        ...

    def on_task_switch(self, info: dict[str, Any]) -> None:
        """A block of the schedule ended with the last step (``info`` is its info): the place
        for EWC-style anchors. Task ids are in ``info``; task-agnostic agents ignore them."""
        ...

    def state_dict(self, include_replay: bool) -> dict[str, Any]:
        """Everything a resumed run needs: tensors, numbers, strings, lists and dicts of them
        (``torch.load(weights_only=True)`` reads them back). ``include_replay`` false leaves out
        the replay memory (a block-end snapshot for later analysis, kept small)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` into an agent built with the same config."""
        ...

    def close(self) -> None:
        """Release what the agent holds beyond memory (threads, files); the loop calls it once
        the agent's training is over."""
        ...


@runtime_checkable
class MeasuringAgent(Protocol):
    """An agent that measures itself at every evaluation round, beside the returns."""

    def evaluation_measures(self) -> dict[int, dict[str, float | np.ndarray]]:
        """Per task index, named measures of the agent (a world model's loss on each task's
        held-out data); tasks it has nothing on are left out. They go to ``results.jsonl``
        and tensorboard (``eval/<task>/<measure>``), and ``envsuite report`` plots them. A
        measure may also be an image, ``(height, width, 3)`` uint8 (a memory's attention over
        the round's episode), which goes to tensorboard alone."""
        ...


# What the loop calls on an agent: the methods of :class:`Agent`.
AGENT_METHODS = (
    "act",
    "observe",
    "update",
    "on_task_switch",
    "state_dict",
    "load_state_dict",
    "close",
)


class AgentConfigError(ValueError):
    """An agent config cannot build its agent (a bad option, a value the agent refuses); the
    message names the config key."""


@dataclass
class AgentConfig(ABC):
    """The base of every agent family's config: ``envsuite-train agent=<name>`` composes one,
    hydra checks its fields' types, and :meth:`build` makes the agent.

    Subclasses are dataclasses with a docstring per field (CleanRL's ``Args``); ``name`` is
    the ``agent=`` option that selects them.
    """

    name: str = ""
    num_envs: int = 1
    """Envs the agent acts in at once: the loop trains it on the sequence's vector env of this
    many, one clock over all of them (``gym.make_vec(sequence_id, num_envs)``)."""

    @abstractmethod
    def build(self, context: AgentContext) -> Agent:
        """The agent this config describes, for the spaces and budget of ``context``; raises
        :class:`AgentConfigError` for a mistake in the config."""

    def label(self) -> str:
        """A short name of the configured agent, for sweep folders (``sac_ewc``)."""
        return self.name

    def replay_is_memory(self) -> bool:
        """The agent's memory of earlier tasks lives in its replay buffer, so a checkpoint
        without it would resume an agent that has forgotten them."""
        return False
