"""The numerical pieces of DreamerV3 that other ports got wrong, each small enough to test alone:
symlog, two-hot regression over symlog bins, unimix categoricals with straight-through samples,
the KL terms with free bits, λ-returns and the percentile return normaliser.
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor
from torch.nn import functional as F  # noqa: N812 (torch's own convention)


def symlog(x: Tensor) -> Tensor:
    """``sign(x) * log(1 + |x|)``: squashes large magnitudes, identity-like near zero."""
    return torch.sign(x) * torch.log1p(torch.abs(x))


def symexp(x: Tensor) -> Tensor:
    """The inverse of :func:`symlog`."""
    return torch.sign(x) * torch.expm1(torch.abs(x))


@functools.cache
def _bins(low: float, high: float, count: int, device: torch.device) -> Tensor:
    """The bins of a two-hot distribution, made once per device (several per update)."""
    return torch.linspace(low, high, count, device=device)


class TwoHot:
    """A categorical over fixed bins in symlog space, read as a real number.

    DreamerV3's reward and critic heads: ``bins`` values evenly spaced in ``[low, high]``
    (symlog units). A target ``y`` becomes a two-hot vector over the two bins around
    ``symlog(y)``, weighted by closeness (targets beyond the ends go wholly to the end bin); the
    loss is the cross-entropy with it. The prediction is ``symexp`` of the probabilities'
    expectation over the bins — not the most probable bin.

    Args:
        logits: ``(..., bins)``.
        low, high: the ends of the bins in symlog space (DreamerV3: -20, 20).
    """

    def __init__(self, logits: Tensor, low: float = -20.0, high: float = 20.0) -> None:
        self.logits = logits
        self.bins = _bins(low, high, logits.shape[-1], logits.device)

    @property
    def probs(self) -> Tensor:
        return torch.softmax(self.logits, -1)

    def mean(self) -> Tensor:
        """``symexp(sum_i p_i * bin_i)``."""
        return symexp((self.probs * self.bins).sum(-1))

    def target(self, value: Tensor) -> Tensor:
        """The two-hot encoding ``(..., bins)`` of ``value`` (its symlog, clipped to the ends)."""
        return two_hot(symlog(value), self.bins)

    def log_prob(self, value: Tensor) -> Tensor:
        """``sum_i twohot(value)_i * log p_i``, shape of ``value``."""
        return (self.target(value) * torch.log_softmax(self.logits, -1)).sum(-1)


def two_hot(x: Tensor, bins: Tensor) -> Tensor:
    """``(..., len(bins))``: weights on the two bins around each ``x``, summing to 1; values
    below the first or above the last bin go wholly to that end bin."""
    count = bins.shape[0]
    x = x.clamp(bins[0], bins[-1])
    above = torch.searchsorted(bins, x.contiguous(), right=True).clamp(1, count - 1)
    below = above - 1
    span = bins[above] - bins[below]
    weight_above = ((x - bins[below]) / span).clamp(0.0, 1.0)
    encoded = F.one_hot(below, count) * (1 - weight_above)[..., None]
    return encoded + F.one_hot(above, count) * weight_above[..., None]


def unimix_logits(logits: Tensor, unimix: float) -> Tensor:
    """Logits of ``(1 - unimix) * softmax(logits) + unimix / classes`` over the last axis: every
    class keeps at least ``unimix / classes`` probability, which bounds the KL and the actor's
    log-probabilities."""
    if unimix <= 0.0:
        return logits
    probs = torch.softmax(logits, -1)
    probs = (1 - unimix) * probs + unimix / logits.shape[-1]
    return torch.log(probs)


def straight_through_sample(logits: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """A one-hot sample of the categoricals over the last axis whose gradient is that of the
    probabilities (straight-through): ``sample + probs - stop_gradient(probs)``."""
    probs = torch.softmax(logits, -1)
    # Inverse-CDF sampling: one uniform number per categorical (multinomial draws one per
    # class, which made it an eighth of an update's time).
    uniform = torch.rand(
        (*probs.shape[:-1], 1), device=probs.device, dtype=probs.dtype, generator=generator
    )
    below = (probs.detach().cumsum(-1) < uniform).sum(-1)
    index = below.clamp(max=probs.shape[-1] - 1)
    sample = F.one_hot(index, probs.shape[-1]).to(probs.dtype)
    return sample + probs - probs.detach()


def categorical_kl(logits_p: Tensor, logits_q: Tensor) -> Tensor:
    """``KL(p || q)`` of categoricals over the last axis, summed over the axis before it (the
    latents): ``(..., latents, classes)`` -> ``(...)``."""
    log_p = torch.log_softmax(logits_p, -1)
    log_q = torch.log_softmax(logits_q, -1)
    return (log_p.exp() * (log_p - log_q)).sum((-2, -1))


def kl_losses(
    posterior_logits: Tensor, prior_logits: Tensor, free_nats: float
) -> tuple[Tensor, Tensor, Tensor]:
    """DreamerV3's dynamics and representation losses, and the KL itself.

    dynamics = ``max(free, KL(sg(post) || prior))`` trains the prior towards the posterior;
    representation = ``max(free, KL(post || sg(prior)))`` keeps the posterior predictable. The
    free bits clip the KL summed over all latents (clipping each latent would leave 32 nats
    free and is a bug other ports shipped); below the floor the gradient is zero.
    """
    dynamics = categorical_kl(posterior_logits.detach(), prior_logits)
    representation = categorical_kl(posterior_logits, prior_logits.detach())
    return (
        dynamics.clamp(min=free_nats),
        representation.clamp(min=free_nats),
        dynamics.detach(),
    )


def lambda_returns(
    rewards: Tensor, values: Tensor, continues: Tensor, discount: float, lambda_: float
) -> Tensor:
    """DreamerV3's λ-returns over an imagined trajectory, time first.

    With states ``s_0 .. s_H``: ``rewards[t]`` and ``continues[t]`` are predicted at
    ``s_{t+1}`` (the state a step arrives at), ``values[t]`` at ``s_t``. Then
    ``R_H = v_H`` and ``R_t = r_t + discount * c_t * ((1 - λ) v_{t+1} + λ R_{t+1})``.

    Args:
        rewards, continues: ``(H, ...)``.
        values: ``(H + 1, ...)``.

    Returns:
        ``(H, ...)``: the returns of ``s_0 .. s_{H-1}``.
    """
    horizon = rewards.shape[0]
    if values.shape[0] != horizon + 1 or continues.shape[0] != horizon:
        raise ValueError(
            f"lambda_returns: rewards and continues need H steps and values H + 1, got "
            f"{rewards.shape[0]}, {continues.shape[0]} and {values.shape[0]}"
        )
    discounts = discount * continues
    blended = rewards + discounts * values[1:] * (1 - lambda_)
    returns = []
    following = values[-1]
    for t in reversed(range(horizon)):
        following = blended[t] + discounts[t] * lambda_ * following
        returns.append(following)
    return torch.stack(returns[::-1])


class ReturnNormalizer(torch.nn.Module):
    """DreamerV3's return scale: EMAs of the 5th and 95th percentiles of λ-returns, and
    ``scale = max(floor, EMA(P95) - EMA(P5))``. Advantages are divided by the scale, so returns
    are squashed only when their spread exceeds the floor (1): small returns are not amplified.

    Args:
        decay: the EMAs' decay per update (0.99).
        floor: the smallest scale (1.0; DreamerV3's ``1 / max``).
        low_percentile, high_percentile: the percentiles (5, 95).
    """

    def __init__(
        self,
        decay: float = 0.99,
        floor: float = 1.0,
        low_percentile: float = 5.0,
        high_percentile: float = 95.0,
    ) -> None:
        super().__init__()
        self.decay, self.floor = decay, floor
        self.register_buffer(
            "quantiles", torch.tensor([low_percentile / 100, high_percentile / 100])
        )
        self.register_buffer("low", torch.zeros(()))
        self.register_buffer("high", torch.zeros(()))

    @torch.no_grad()
    def update(self, returns: Tensor) -> None:
        """Fold the percentiles of a batch of returns into the EMAs."""
        low, high = torch.quantile(returns.detach().float().flatten(), self.quantiles)
        self.low.mul_(self.decay).add_((1 - self.decay) * low)
        self.high.mul_(self.decay).add_((1 - self.decay) * high)

    def scale(self) -> Tensor:
        return torch.clamp(self.high - self.low, min=self.floor)

    def forward(self, returns: Tensor) -> tuple[Tensor, Tensor]:
        """Update with ``returns``, then give ``(offset, scale)`` (the EMA of P5, the scale)."""
        self.update(returns)
        return self.low.clone(), self.scale()
