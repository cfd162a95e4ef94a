"""The config of the SB3 baselines (``envsuite-train agent=baselines algorithm=sac method=ewc``):
one dataclass that hydra checks, and the agent it builds."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from agents.common.protocol import AgentConfig, AgentConfigError, AgentContext

if TYPE_CHECKING:
    from agents.baselines.agent import ContinualAgent


class Algorithm(Enum):
    """The SB3 algorithms (``algorithm=``)."""

    ppo = "ppo"
    sac = "sac"
    dqn = "dqn"


class Method(Enum):
    """The continual-learning methods (``method=``)."""

    finetune = "finetune"
    ewc = "ewc"
    l2 = "l2"
    replay = "replay"


@dataclass
class MethodOptions:
    """The options of a method; ``None`` keeps the method's default, and an option the method
    does not take is refused."""

    strength: float | None = None
    """EWC and L2: the penalty's ``strength / 2 * sum(importance * (theta - anchor)^2)``
    (default: EWC 2e4, L2 2e5, Continual World's tuned values in this convention)."""
    fisher_samples: int | None = None
    """EWC: how many of the latest states estimate the Fisher information (default 2048)."""
    regularize_critic: bool = False
    """EWC and L2 with SAC or PPO: regularise the critic (value function) too."""
    capacity: int | None = None
    """Reservoir replay: the buffer's size (default: ``hyperparameters.buffer_size``, else
    SB3's 1e6)."""

    def given(self) -> dict[str, Any]:
        """The options set, as ``build_agent`` takes them."""
        options: dict[str, Any] = {
            name: value
            for name, value in (
                ("strength", self.strength),
                ("fisher_samples", self.fisher_samples),
                ("capacity", self.capacity),
            )
            if value is not None
        }
        if self.regularize_critic:
            options["regularize_critic"] = True
        return options


@dataclass
class BaselinesConfig(AgentConfig):
    """Stable-Baselines3's PPO, SAC or DQN with a continual-learning method.

    ``algorithm=ppo|sac|dqn`` and ``method=finetune|ewc|l2|replay`` pick the two halves;
    ``agent.hyperparameters.*`` and ``agent.method_options.*`` tune them.
    """

    name: str = "baselines"
    """The ``agent=`` option."""
    algorithm: Algorithm = Algorithm.ppo
    """The SB3 algorithm: ``ppo`` (any action space), ``sac`` (Box actions), ``dqn``
    (Discrete actions)."""
    method: Method = Method.finetune
    """``finetune`` (plain SB3, the lower reference), ``ewc`` (Fisher-weighted anchor at every
    task switch), ``l2`` (unit-weighted anchor) or ``replay`` (reservoir replay: a uniform
    sample of every transition seen; SAC and DQN)."""
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of the SB3 constructor (``learning_rate``, ``n_steps``,
    ``buffer_size``...; ``policy`` picks the policy class); SB3 names any it does not take."""
    method_options: MethodOptions = field(default_factory=MethodOptions)
    """The method's options."""

    def build(self, context: AgentContext) -> ContinualAgent:
        # Imported here: SB3 and torch take seconds to load, and `envsuite-train --help` and a
        # mistyped override need only this config.
        from agents.baselines.agent import build_agent

        try:
            return build_agent(
                self.algorithm.value,
                self.method.value,
                context,
                hyperparameters=dict(self.hyperparameters),
                method_options=self.method_options.given(),
            )
        except (TypeError, ValueError, AssertionError) as error:
            # SB3 rejects an unknown hyperparameter with a TypeError naming the argument, and
            # many bad values (n_steps=-1, learning_rate=abc) with a bare assert.
            raise AgentConfigError(
                f"agent: {self.label()} cannot be built with agent.hyperparameters="
                f"{dict(self.hyperparameters)} and agent.method_options="
                f"{self.method_options.given()}: {str(error) or type(error).__name__}"
            ) from None

    def label(self) -> str:
        return f"{self.algorithm.value}_{self.method.value}"

    def replay_is_memory(self) -> bool:
        return self.method is Method.replay
