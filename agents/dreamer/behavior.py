"""The actor and critic, trained on trajectories the world model imagines.

From every posterior state of a replayed batch the actor imagines ``horizon`` (15) steps. The
critic predicts the λ-return (discount 0.997, λ = 0.95) as a two-hot distribution over symlog bins,
regularised towards the prediction of a slow copy of itself (an EMA with 2% per update). The
actor maximises the advantage ``(R_t - v(s_t)) / max(1, S)``, S the EMA of the returns'
5th-95th percentile range, plus an entropy bonus of 3e-4: by REINFORCE for discrete actions
and by backpropagating through the world model for continuous ones. Both losses weigh each step
by the product of the discounted continue predictions before it.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn

from agents.dreamer.config import ModelSize
from agents.dreamer.maths import (
    ReturnNormalizer,
    TwoHot,
    lambda_returns,
    straight_through_sample,
    unimix_logits,
)
from agents.dreamer.rssm import Latent
from agents.dreamer.world_model import BINS, Head, WorldModel


@dataclass(frozen=True)
class BehaviorSettings:
    """The actor-critic's hyperparameters (DreamerV3's, 2023)."""

    horizon: int = 15
    """Imagined steps from each start state."""
    discount: float = 0.997
    """The discount (DreamerV3: ``1 - 1 / 333``)."""
    return_lambda: float = 0.95
    """λ of the λ-returns."""
    entropy: float = 3e-4
    """The actor's entropy bonus."""
    unimix: float = 0.01
    """The uniform share of the discrete actor's probabilities."""
    slow_critic_fraction: float = 0.02
    """The slow critic's EMA step per update."""
    slow_regulariser: float = 1.0
    """Weight of the critic's loss towards the slow critic's prediction."""
    min_std: float = 0.1
    """The continuous actor's smallest standard deviation."""
    max_std: float = 1.0
    """The continuous actor's largest standard deviation."""


class ActionCoding:
    """Actions between the env and the networks: one-hot vectors of a ``Discrete`` space, or a
    ``Box`` space's actions scaled to [-1, 1]."""

    def __init__(self, space: gym.Space) -> None:
        if isinstance(space, gym.spaces.Discrete):
            self.discrete, self.size = True, int(space.n)
            self.start = int(space.start)
        elif isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
            if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
                raise ValueError(f"action space: DreamerV3 needs a bounded Box, got {space}")
            self.discrete, self.size = False, int(space.shape[0])
            self.low = space.low.astype(np.float32)
            self.high = space.high.astype(np.float32)
        else:
            raise ValueError(
                f"action space: DreamerV3 takes Discrete or a 1-D Box actions, got {space}"
            )

    def random(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` uniformly random env actions."""
        if self.discrete:
            return rng.integers(self.size, size=count) + self.start
        return rng.uniform(self.low, self.high, size=(count, self.size)).astype(np.float32)

    def to_env(self, actions: Tensor) -> np.ndarray:
        """Network actions ``(N, size)`` as the env's actions ``(N,)`` or ``(N, dims)``."""
        values = actions.detach().float().cpu().numpy()
        if self.discrete:
            return values.argmax(-1).astype(np.int64) + self.start
        unit = np.clip(values, -1.0, 1.0)
        return self.low + (unit + 1.0) / 2.0 * (self.high - self.low)

    def from_env(self, actions: np.ndarray, device: torch.device) -> Tensor:
        """The env's actions ``(N,)`` or ``(N, dims)`` as network actions ``(N, size)``."""
        values = torch.as_tensor(np.asarray(actions), device=device)
        return self.encode(values.reshape(-1, 1 if self.discrete else self.size))

    def encode(self, actions: Tensor) -> Tensor:
        """Stored env actions ``(..., 1)`` (discrete) or ``(..., dims)`` as network actions
        ``(..., size)`` float32."""
        if self.discrete:
            index = actions.squeeze(-1).long() - self.start
            return nn.functional.one_hot(index.clamp(0, self.size - 1), self.size).float()
        low = torch.as_tensor(self.low, device=actions.device)
        high = torch.as_tensor(self.high, device=actions.device)
        return 2.0 * (actions.float() - low) / (high - low) - 1.0


class Actor(nn.Module):
    """The policy over network actions: a unimix categorical with straight-through samples, or
    a normal with ``tanh`` mean and a bounded standard deviation."""

    def __init__(
        self, features: int, coding: ActionCoding, size: ModelSize, settings: BehaviorSettings
    ) -> None:
        super().__init__()
        self.discrete, self.size = coding.discrete, coding.size
        self.settings = settings
        outputs = coding.size if coding.discrete else 2 * coding.size
        self.net = Head(features, outputs, size)

    def forward(self, features: Tensor) -> Tensor:
        """The policy's parameters at ``features``: logits, or the normal's mean and std
        before their squashing; :meth:`distribution` reads them."""
        return self.net(features).float()

    def distribution(self, outputs: Tensor) -> torch.distributions.Distribution:
        if self.discrete:
            return torch.distributions.Categorical(
                logits=unimix_logits(outputs, self.settings.unimix)
            )
        mean, std = outputs.chunk(2, -1)
        low, high = self.settings.min_std, self.settings.max_std
        std = (high - low) * torch.sigmoid(std + 2.0) + low
        return torch.distributions.Independent(torch.distributions.Normal(torch.tanh(mean), std), 1)

    def sample(self, outputs: Tensor) -> Tensor:
        """Network actions ``(..., size)``: one-hot samples (straight-through) or reparameterised
        normal samples."""
        dist = self.distribution(outputs)
        if self.discrete:
            return straight_through_sample(dist.logits)
        return dist.rsample()

    def mode(self, outputs: Tensor) -> Tensor:
        """The deterministic action: the most probable one, or the mean."""
        dist = self.distribution(outputs)
        if self.discrete:
            return nn.functional.one_hot(dist.logits.argmax(-1), self.size).float()
        return dist.base_dist.mean

    def log_prob(self, dist: torch.distributions.Categorical, actions: Tensor) -> Tensor:
        """The log-probability of one-hot ``actions`` (the discrete actor's REINFORCE term;
        a continuous actor's gradient runs through its actions instead)."""
        return dist.log_prob(actions.argmax(-1))


class Critic(nn.Module):
    """The value of a state as a two-hot distribution over symlog bins (zero-initialised)."""

    def __init__(self, features: int, size: ModelSize) -> None:
        super().__init__()
        self.net = Head(features, BINS, size, scale=0.0)

    def forward(self, features: Tensor) -> TwoHot:
        return TwoHot(self.net(features).float())


class ActorCritic(nn.Module):
    """The actor, the critic and its slow copy, and the return normaliser."""

    def __init__(
        self, features: int, coding: ActionCoding, size: ModelSize, settings: BehaviorSettings
    ) -> None:
        super().__init__()
        self.settings = settings
        self.actor = Actor(features, coding, size, settings)
        self.critic = Critic(features, size)
        self.slow_critic = copy.deepcopy(self.critic).requires_grad_(False)
        self.return_normalizer = ReturnNormalizer()

    def imagine(self, world_model: WorldModel, start: Latent) -> tuple[Latent, Tensor, Tensor]:
        """States ``(horizon + 1, N, ...)`` imagined from ``start`` (N,) with the actor, the
        actions taken in the first ``horizon`` of them and the actor's outputs there (with
        their gradient, for the actor's loss).

        The actor reads the states without their gradient. A continuous actor's gradient flows
        through its actions into the later states; a discrete actor needs none (REINFORCE),
        so the model steps without gradients.
        """
        dynamics_grad = not self.actor.discrete and torch.is_grad_enabled()
        state = start.detach()
        deters, stochs, actions, outputs = [state.deter], [state.stoch], [], []
        for _ in range(self.settings.horizon):
            output = self.actor(state.features().detach())
            action = self.actor.sample(output if dynamics_grad else output.detach())
            outputs.append(output)
            actions.append(action)
            with torch.set_grad_enabled(dynamics_grad):
                state, _ = world_model.rssm.imagine_step(state, action)
            deters.append(state.deter)
            stochs.append(state.stoch)
        trajectory = Latent(torch.stack(deters), torch.stack(stochs))
        return trajectory, torch.stack(actions), torch.stack(outputs)

    def losses(
        self, world_model: WorldModel, start: Latent, start_continues: Tensor
    ) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """The actor's and the critic's losses over trajectories imagined from ``start`` (N,)
        whose own continue flags are ``start_continues`` (N,); and scalars to log."""
        trajectory, actions, outputs = self.imagine(world_model, start)
        features = trajectory.features()
        critic_features = features[:-1].detach()
        if self.actor.discrete:
            # The trajectory carries no gradient: one pass of the critic gives the values and
            # (with the critic's own gradient) its loss's predictions.
            with torch.no_grad():
                rewards = world_model.reward_of(features[1:])
            critic_logits = self.critic.net(features).float()
            values = TwoHot(critic_logits).mean().detach()
            critic = TwoHot(critic_logits[:-1])
        else:
            # The actor's gradient runs through the predicted rewards and values into its
            # actions; the critic learns from the same states without that gradient.
            rewards = world_model.reward_of(features[1:])
            values = self.critic(features).mean()
            critic = self.critic(critic_features)
        continues = torch.cat(
            [start_continues[None].float(), world_model.continues_of(features[1:])], 0
        )
        returns = lambda_returns(
            rewards, values, continues[1:], self.settings.discount, self.settings.return_lambda
        )
        discount = self.settings.discount
        weights = (torch.cumprod(discount * continues, 0) / discount).detach()

        offset, scale = self.return_normalizer(returns)
        advantages = (returns - offset) / scale - (values[:-1] - offset) / scale
        policy = self.actor.distribution(outputs)
        entropy = policy.entropy()
        if self.actor.discrete:
            log_prob = self.actor.log_prob(policy, actions.detach())
            objective = log_prob * advantages.detach()
        else:
            objective = advantages
        actor_loss = -((objective + self.settings.entropy * entropy) * weights[:-1]).mean()

        target = returns.detach()
        slow_mean = self.slow_critic(critic_features).mean().detach()
        critic_terms = -critic.log_prob(target) - self.settings.slow_regulariser * critic.log_prob(
            slow_mean
        )
        critic_loss = (critic_terms * weights[:-1]).mean()
        metrics = {
            "behavior/actor_loss": actor_loss.detach(),
            "behavior/critic_loss": critic_loss.detach(),
            "behavior/entropy": entropy.mean().detach(),
            "behavior/imagined_return": returns.mean().detach(),
            "behavior/imagined_reward": rewards.mean().detach(),
            "behavior/return_scale": scale.detach(),
            "behavior/value": values.mean().detach(),
        }
        return actor_loss, critic_loss, metrics

    @torch.no_grad()
    def update_slow_critic(self) -> None:
        """Move the slow critic ``slow_critic_fraction`` of the way to the critic."""
        fraction = self.settings.slow_critic_fraction
        for slow, fast in zip(self.slow_critic.parameters(), self.critic.parameters(), strict=True):
            slow.lerp_(fast, fraction)


def parameter_count(module: nn.Module) -> int:
    """Trainable parameters of ``module``."""
    return sum(math.prod(p.shape) for p in module.parameters() if p.requires_grad)
