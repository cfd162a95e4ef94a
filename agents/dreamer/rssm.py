"""The recurrent state-space model: a GRU's deterministic state and 32 categorical latents.

A latent state is ``deter`` (the GRU state) and ``stoch`` (one-hot samples of ``latents``
categoricals of ``classes`` each, flattened). The prior predicts ``stoch`` from ``deter`` alone
(imagination); the posterior also sees the observation's embedding (filtering). Both mix 1%
uniform into their probabilities and sample straight-through.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from agents.dreamer.maths import straight_through_sample, unimix_logits
from agents.dreamer.networks import NORM_EPSILON, NormLayer, linear


class Latent(NamedTuple):
    """A latent state, batched over leading axes."""

    deter: Tensor
    """``(..., deter)``: the GRU's state."""
    stoch: Tensor
    """``(..., latents * classes)``: the one-hot samples, flattened."""

    def features(self) -> Tensor:
        """What the heads, actor and critic read: ``[deter, stoch]``."""
        return torch.cat([self.deter, self.stoch], -1)

    def detach(self) -> Latent:
        return Latent(self.deter.detach(), self.stoch.detach())

    def where(self, mask: Tensor, other: Latent) -> Latent:
        """This state where ``mask`` (batch,) is false, ``other`` where it is true."""
        keep = mask[:, None]
        return Latent(
            torch.where(keep, other.deter, self.deter), torch.where(keep, other.stoch, self.stoch)
        )


class NormGRUCell(nn.Module):
    """DreamerV3's GRU: one bias-free linear map of ``[deter, inputs]`` to the three gates,
    LayerNorm over them, and an update gate biased towards keeping the state (``-1``)."""

    def __init__(self, inputs: int, size: int) -> None:
        super().__init__()
        self.gates = linear(size + inputs, 3 * size, bias=False)
        self.norm = nn.LayerNorm(3 * size, eps=NORM_EPSILON)

    def forward(self, inputs: Tensor, state: Tensor) -> Tensor:
        gates = self.norm(self.gates(torch.cat([state, inputs], -1)))
        reset, candidate, update = gates.chunk(3, -1)
        candidate = torch.tanh(torch.sigmoid(reset) * candidate)
        update = torch.sigmoid(update - 1)
        return update * candidate + (1 - update) * state


class RSSM(nn.Module):
    """Prior ``p(z_t | h_t)``, posterior ``q(z_t | h_t, e_t)`` and the recurrence
    ``h_t = GRU(h_{t-1}, [z_{t-1}, a_{t-1}])``.

    Args:
        embed_size: the encoder's output size.
        action_size: one-hot actions (discrete) or the action vector (continuous).
        deter: the GRU's size.
        units: the hidden layers' size.
        latents, classes: the categorical latents (32 x 32).
        unimix: the uniform share mixed into every categorical (0.01).
        action_clip: continuous actions are scaled down to at most this magnitude (1.0).
    """

    def __init__(
        self,
        embed_size: int,
        action_size: int,
        deter: int,
        units: int,
        latents: int = 32,
        classes: int = 32,
        unimix: float = 0.01,
        action_clip: float = 1.0,
    ) -> None:
        super().__init__()
        self.deter_size, self.latents, self.classes = deter, latents, classes
        self.stoch_size = latents * classes
        self.unimix, self.action_clip = unimix, action_clip
        self.imagine_in = NormLayer(self.stoch_size + action_size, units)
        self.gru = NormGRUCell(units, deter)
        self.prior_hidden = NormLayer(deter, units)
        self.prior_logits = linear(units, self.stoch_size)
        self.posterior_hidden = NormLayer(deter + embed_size, units)
        self.posterior_logits = linear(units, self.stoch_size)
        # The initial GRU state is learned (its tanh); its stoch is the prior's mode.
        self.initial_deter = nn.Parameter(torch.zeros(deter))

    @property
    def feature_size(self) -> int:
        return self.deter_size + self.stoch_size

    def initial(self, batch_size: int) -> Latent:
        """The state before the first observation of an episode."""
        deter = torch.tanh(self.initial_deter).expand(batch_size, -1)
        return Latent(deter, self._mode(self._prior_logits(deter)).to(deter.dtype))

    def _logits(self, layer: nn.Module, hidden: Tensor) -> Tensor:
        logits = layer(hidden).unflatten(-1, (self.latents, self.classes))
        return unimix_logits(logits.float(), self.unimix)

    def _prior_logits(self, deter: Tensor) -> Tensor:
        return self._logits(self.prior_logits, self.prior_hidden(deter))

    def _sample(self, logits: Tensor) -> Tensor:
        return straight_through_sample(logits).flatten(-2)

    def _mode(self, logits: Tensor) -> Tensor:
        """The most probable class of each latent, one-hot and flattened."""
        return nn.functional.one_hot(logits.argmax(-1), self.classes).flatten(-2)

    def _clip(self, action: Tensor) -> Tensor:
        if self.action_clip <= 0:
            return action
        magnitude = torch.clamp(action.abs(), min=self.action_clip).detach()
        return action * (self.action_clip / magnitude)

    def imagine_step(self, previous: Latent, action: Tensor) -> tuple[Latent, Tensor]:
        """One step of the prior from ``previous`` and the action taken there: the next state
        and its prior logits ``(..., latents, classes)``."""
        deter = self._next_deter(previous, action)
        logits = self._prior_logits(deter)
        return Latent(deter, self._sample(logits).to(deter.dtype)), logits

    def _next_deter(self, previous: Latent, action: Tensor) -> Tensor:
        hidden = self.imagine_in(torch.cat([previous.stoch, self._clip(action)], -1))
        return self.gru(hidden, previous.deter)

    def observe_step(
        self,
        previous: Latent,
        action: Tensor,
        embed: Tensor,
        is_first: Tensor,
        initial: Latent | None = None,
        sample: bool = True,
    ) -> tuple[Latent, Tensor, Tensor]:
        """Filter one observation: where ``is_first`` (batch,) the episode starts over from
        ``initial`` (default :meth:`initial`) with a zero action. Returns the posterior state,
        its logits and the prior's logits. ``sample=False`` takes the posterior's mode instead
        of a sample: a filter that draws no random numbers (deterministic evaluation)."""
        # Masked unconditionally: a data-dependent branch would synchronise with the GPU.
        initial = self.initial(is_first.shape[0]) if initial is None else initial
        previous = previous.where(is_first, initial)
        action = action * (~is_first)[:, None].to(action.dtype)
        deter = self._next_deter(previous, action)
        prior_logits = self._prior_logits(deter)
        hidden = self.posterior_hidden(torch.cat([deter, embed], -1))
        logits = self._logits(self.posterior_logits, hidden)
        stoch = self._sample(logits) if sample else self._mode(logits)
        return Latent(deter, stoch.to(deter.dtype)), logits, prior_logits

    def observe(
        self, embeds: Tensor, actions: Tensor, is_first: Tensor, state: Latent | None = None
    ) -> tuple[Latent, Tensor, Tensor]:
        """Filter sequences ``(batch, time, ...)``; ``actions[:, t]`` led to observation ``t``.

        Returns the posterior states ``(batch, time, ...)``, and posterior and prior logits
        ``(batch, time, latents, classes)``.
        """
        batch, time = embeds.shape[:2]
        initial = self.initial(batch)
        state = initial if state is None else state
        deters, stochs, posterior_logits, prior_logits = [], [], [], []
        for t in range(time):
            state, posterior, prior = self.observe_step(
                state, actions[:, t], embeds[:, t], is_first[:, t], initial
            )
            deters.append(state.deter)
            stochs.append(state.stoch)
            posterior_logits.append(posterior)
            prior_logits.append(prior)
        return (
            Latent(torch.stack(deters, 1), torch.stack(stochs, 1)),
            torch.stack(posterior_logits, 1),
            torch.stack(prior_logits, 1),
        )
