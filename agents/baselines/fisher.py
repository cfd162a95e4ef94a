"""Which parameters of an SB3 model are the policy's (actor) and the critic's, and the diagonal
Fisher information of those parameters on a batch of recent experience.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from stable_baselines3 import DQN, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm

# Per-sample gradients are taken for this many samples at once: autograd's batched backward
# costs chunk_size times a single backward, so larger chunks stop paying off (measured on SAC's
# 256x256 networks: 16 samples 1.8 s, 64 samples 5 s for 2048 states on one CPU thread).
GRADIENT_CHUNK_SIZE = 16

# PPO's value branch: the parameters that only the value estimate uses.
PPO_CRITIC_PREFIXES = ("value_net.", "mlp_extractor.value_net.", "vf_features_extractor.")


def optimizers(model: BaseAlgorithm) -> list[torch.optim.Optimizer]:
    """The optimizers that train the networks the continual-learning methods regularise."""
    if isinstance(model, SAC):
        # Not the entropy coefficient's optimizer: the temperature is no network parameter.
        return [model.actor.optimizer, model.critic.optimizer]
    return [model.policy.optimizer]


def parameter_groups(model: BaseAlgorithm) -> tuple[dict[str, torch.nn.Parameter], ...]:
    """``(actor, critic)``: the trained parameters by their name in ``model.policy``.

    The actor holds everything the action choice depends on: PPO's policy branch, log-std and
    any shared feature extractor; SAC's actor; DQN's whole Q-network, which is its policy (its
    critic group is empty). Target networks are in neither: they follow the trained ones.
    """
    trained = {id(parameter) for optimizer in optimizers(model) for parameter in _params(optimizer)}
    named = {
        name: parameter
        for name, parameter in model.policy.named_parameters()
        if id(parameter) in trained
    }
    if isinstance(model, SAC):
        actor = {name: p for name, p in named.items() if name.startswith("actor.")}
    elif isinstance(model, PPO):
        actor = {name: p for name, p in named.items() if not name.startswith(PPO_CRITIC_PREFIXES)}
    elif isinstance(model, DQN):
        actor = named
    else:
        raise TypeError(f"expected a PPO, SAC or DQN model, got {type(model).__name__}")
    critic = {name: p for name, p in named.items() if name not in actor}
    return actor, critic


def _params(optimizer: torch.optim.Optimizer) -> Iterable[torch.Tensor]:
    for group in optimizer.param_groups:
        yield from group["params"]


def per_sample_log_likelihood(
    model: BaseAlgorithm,
    observations: torch.Tensor | dict[str, torch.Tensor],
    actions: torch.Tensor | None,
    include_critic: bool,
) -> torch.Tensor:
    """One log-likelihood per state, whose squared gradient is that state's Fisher estimate.

    The model's own predictive distribution is the likelihood (the "true" Fisher, not the
    empirical one): the policy's log-probability of an action drawn from it now, and for a
    critic a unit-variance Gaussian around each value output (Continual World's choice), whose
    Fisher is the squared gradient of that output. The critic outputs enter with random signs
    (Rademacher probes): that is exact for every output with parameters of its own (SAC's twin
    Q-networks, PPO's value head) and makes the cross terms of shared parameters zero in
    expectation, so one backward pass serves all outputs.
    """
    if isinstance(model, PPO):
        distribution = model.policy.get_distribution(observations)
        log_likelihood = distribution.log_prob(distribution.get_actions().detach())
        if include_critic:
            values = model.policy.predict_values(observations).squeeze(-1)
            log_likelihood = log_likelihood + _random_signs(values) * values
        return log_likelihood
    if isinstance(model, SAC):
        actor = model.actor
        mean, log_std, extra = actor.get_action_dist_params(observations)
        # The Gaussian before tanh: squashing is a fixed bijection, so it leaves the Fisher of
        # the parameters unchanged and the unsquashed density is the numerically safe one.
        gaussian = actor.action_dist.proba_distribution(mean, log_std, **extra).distribution
        log_likelihood = gaussian.log_prob(gaussian.sample()).sum(-1)
        if include_critic:
            q_values = torch.cat(model.critic(observations, actions), dim=1)
            log_likelihood = log_likelihood + (_random_signs(q_values) * q_values).sum(-1)
        return log_likelihood
    if isinstance(model, DQN):
        # The Q-network regresses Q(s, a) at the actions taken: a unit-variance Gaussian there.
        q_values = model.q_net(observations)
        return q_values.gather(1, actions.long().reshape(-1, 1)).squeeze(1)
    raise TypeError(f"expected a PPO, SAC or DQN model, got {type(model).__name__}")


def _random_signs(like: torch.Tensor) -> torch.Tensor:
    return torch.randint(0, 2, like.shape, device=like.device).to(like.dtype) * 2 - 1


def diagonal_fisher(
    model: BaseAlgorithm,
    observations: torch.Tensor | dict[str, torch.Tensor],
    actions: torch.Tensor | None,
    parameters: dict[str, torch.nn.Parameter],
    include_critic: bool,
) -> dict[str, torch.Tensor]:
    """The mean over states of the squared per-state gradient of the log-likelihood.

    ``observations`` (and ``actions``, for critics that take them) hold one state per row, as
    the policy takes them. Parameters the likelihood does not depend on get zeros.
    """
    names = list(parameters)
    tensors = [parameters[name] for name in names]
    totals = [torch.zeros_like(tensor) for tensor in tensors]
    count = _batch_length(observations)
    if count == 0:
        raise ValueError("diagonal_fisher: no observations to estimate the Fisher from")
    for start in range(0, count, GRADIENT_CHUNK_SIZE):
        rows = slice(start, min(start + GRADIENT_CHUNK_SIZE, count))
        chunk_actions = None if actions is None else actions[rows]
        log_likelihood = per_sample_log_likelihood(
            model, _rows(observations, rows), chunk_actions, include_critic
        )
        chunk = log_likelihood.shape[0]
        # One backward per row at once: row i of the identity selects sample i's gradient.
        identity = torch.eye(chunk, device=log_likelihood.device, dtype=log_likelihood.dtype)
        gradients = torch.autograd.grad(
            log_likelihood, tensors, identity, is_grads_batched=True, allow_unused=True
        )
        for total, gradient in zip(totals, gradients, strict=True):
            if gradient is not None:
                total += gradient.pow(2).sum(0)
    return {name: total / count for name, total in zip(names, totals, strict=True)}


def _batch_length(observations: torch.Tensor | dict[str, torch.Tensor]) -> int:
    if isinstance(observations, dict):
        return len(next(iter(observations.values())))
    return len(observations)


def _rows(
    observations: torch.Tensor | dict[str, torch.Tensor], rows: slice
) -> torch.Tensor | dict[str, torch.Tensor]:
    if isinstance(observations, dict):
        return {key: value[rows] for key, value in observations.items()}
    return observations[rows]
