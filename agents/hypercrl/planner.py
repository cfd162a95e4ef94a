"""Model-predictive control by sampling action sequences through a learned model: the
cross-entropy method (CEM, HyperCRL's planner) and MPPI.

Every env of a batch plans at once: ``samples`` action sequences of ``horizon`` steps per env are
rolled out together through the model, one ``[envs * samples, ...]`` call per step, on the
model's device, and scored by the task's own reward. Actions are planned in ``[-1, 1]`` and
mapped to the action space's bounds; samples are clipped to them (HyperCRL's CEM samples raw
actions, unclipped: planning in the normalised range and clipping are our choices, so that one
``noise`` suits every action space). A sequence whose return is NaN (a model that blew up)
counts as the worst.

- **CEM**: start from ``N(0, noise^2)`` per step and action dimension (no warm start: HyperCRL
  re-plans from scratch every step), keep the ``elites`` best sequences,
  refit the mean and standard deviation to them; after ``iterations`` rounds draw ``samples``
  more and act on the first action of the best sequence of all (HyperCRL's ``choose_best``).
- **MPPI**: draw around the mean with the fixed ``noise``, move the mean to the average of the
  sequences weighted by ``softmax(return / temperature)``; act on the mean's first action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np
import torch
from torch import Tensor

from envsuite.planning import RewardFn

Dynamics = Callable[[Tensor, Tensor], Tensor]
"""``(observations [N, S], actions [N, A]) -> next observations [N, S]``."""


class PlanningMethod(str, Enum):
    """How the action sequences are refined."""

    cem = "cem"
    mppi = "mppi"


@dataclass(frozen=True)
class PlannerConfig:
    """The planner's method and sizes (HyperCRL's pusher: CEM, horizon 20, 500 samples, 40
    elites, 5 iterations, noise 1)."""

    method: PlanningMethod = PlanningMethod.cem
    """``cem`` or ``mppi``."""
    horizon: int = 20
    """Steps each action sequence looks ahead."""
    samples: int = 500
    """Action sequences scored per iteration and env."""
    elites: int = 40
    """CEM: the best sequences the distribution is refitted to."""
    iterations: int = 5
    """Rounds of sampling and refitting per action."""
    noise: float = 1.0
    """Standard deviation of the first sampling distribution (MPPI: of every one), in the
    normalised ``[-1, 1]`` action range."""
    temperature: float = 1.0
    """MPPI: the softmax temperature over returns (lower follows the best sequences more)."""

    def __post_init__(self) -> None:
        # Configs from YAML or a command line name the method as a string.
        try:
            object.__setattr__(self, "method", PlanningMethod(self.method))
        except ValueError:
            allowed = [method.value for method in PlanningMethod]
            raise ValueError(f"method: one of {allowed}, got {self.method!r}") from None

    def check(self) -> None:
        """A clear error naming the first field out of range."""
        for name in ("horizon", "samples", "elites", "iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: must be a positive integer, got {value!r}")
        for name in ("noise", "temperature"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name}: must be a positive number, got {value!r}")
        if self.method is PlanningMethod.cem and self.elites > self.samples:
            raise ValueError(f"elites: must be at most samples={self.samples}, got {self.elites}")


class Planner:
    """Plans actions for a batch of envs by rolling sampled action sequences through a model.

    Args:
        config: method and sizes.
        low: the action space's lower bounds ``[A]``.
        high: its upper bounds ``[A]`` (both finite).
        seed: seeds the planner's own random stream.
        device: where sequences are sampled and rolled out (the model's device).
    """

    def __init__(
        self,
        config: PlannerConfig,
        low: np.ndarray,
        high: np.ndarray,
        seed: int,
        device: str | torch.device = "cpu",
    ) -> None:
        config.check()
        low, high = np.asarray(low, np.float32), np.asarray(high, np.float32)
        if not (np.isfinite(low).all() and np.isfinite(high).all() and (low < high).all()):
            raise ValueError(f"action bounds: must be finite with low < high, got {low}, {high}")
        self.config = config
        self.device = torch.device(device)
        self.centre = torch.as_tensor((high + low) / 2, device=self.device)
        self.half_range = torch.as_tensor((high - low) / 2, device=self.device)
        self.generator = torch.Generator(self.device).manual_seed(seed)

    def returns(
        self, observations: Tensor, sequences: Tensor, dynamics: Dynamics, reward: RewardFn
    ) -> Tensor:
        """``[B, K]`` summed rewards of ``[B, K, H, A]`` normalised action sequences rolled out
        through ``dynamics`` from each env's ``[B, S]`` observation; NaN returns (a model that
        diverged) become ``-inf``, the worst."""
        envs, samples, horizon, _ = sequences.shape
        state = observations.repeat_interleave(samples, 0)  # [B * K, S]
        actions = self.centre + self.half_range * sequences.flatten(0, 1)  # [B * K, H, A]
        total = torch.zeros(envs * samples, device=state.device)
        for step in range(horizon):
            following = dynamics(state, actions[:, step])
            total = total + reward(state, actions[:, step], following)
            state = following
        return total.view(envs, samples).nan_to_num(nan=-torch.inf)

    def plan(self, observations: Tensor, dynamics: Dynamics, reward: RewardFn) -> Tensor:
        """``[B, A]`` actions (in the action space's bounds) for ``[B, S]`` observations, which
        are moved to the planner's device and dtype (float32, as its samples) first."""
        if observations.ndim != 2:
            raise ValueError(
                f"observations: must be [envs, size], got shape {tuple(observations.shape)}"
            )
        config = self.config
        envs = observations.shape[0]
        rows = torch.arange(envs, device=self.device)
        action_size = self.centre.shape[0]
        shape = (envs, config.horizon, action_size)
        mean = torch.zeros(shape, device=self.device)
        std = torch.full(shape, config.noise, device=self.device)
        with torch.no_grad():
            observations = observations.to(self.device, self.centre.dtype)
            for _ in range(config.iterations):
                sequences = self._sample(mean, std)
                returns = self.returns(observations, sequences, dynamics, reward)
                if config.method is PlanningMethod.cem:
                    best = returns.topk(config.elites, dim=1).indices
                    elites = sequences[rows[:, None], best]  # [B, E, H, A]
                    mean, std = elites.mean(1), elites.std(1, unbiased=False)
                else:
                    weights = (returns / config.temperature).softmax(1)
                    # Where every return is -inf the weights are NaN: the mean stays.
                    moved = (weights[:, :, None, None] * sequences).sum(1)
                    mean = torch.where(moved.isnan(), mean, moved)
            if config.method is PlanningMethod.cem:
                sequences = self._sample(mean, std)
                best = self.returns(observations, sequences, dynamics, reward).argmax(1)
                first = sequences[rows, best, 0]
            else:
                first = mean[:, 0]
        return self.centre + self.half_range * first

    def _sample(self, mean: Tensor, std: Tensor) -> Tensor:
        """``[B, K, H, A]`` sequences from ``N(mean, std^2)`` clipped to ``[-1, 1]``."""
        shape = (mean.shape[0], self.config.samples, *mean.shape[1:])
        noise = torch.randn(shape, generator=self.generator, device=self.device)
        return (mean[:, None] + std[:, None] * noise).clamp(-1.0, 1.0)
