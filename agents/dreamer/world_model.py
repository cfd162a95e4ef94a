"""The world model: encoder, RSSM, decoder, reward and continue heads, and its loss.

Per step ``t`` of a replayed window the model sees observation ``o_t``, the action ``a_{t-1}``
that led to it, the reward ``r_t`` received on arriving and the flags ``is_first_t`` and
``is_terminal_t``. It learns to reconstruct ``o_t``, and to predict ``r_t`` and
``c_t = 1 - is_terminal_t`` from the state ``s_t`` it filtered, with KL terms that keep the
posterior and the prior close:

    loss = image MSE (summed over pixels) + the vector's Bernoulli log-loss (binary values) and
           symlog MSE (the others), summed + two-hot reward
           + Bernoulli continue + 0.5 * max(1, KL(sg(post) || prior))
           + 0.1 * max(1, KL(post || sg(prior)))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from agents.common.observations import ObservationLayout
from agents.dreamer.config import ModelSize
from agents.dreamer.maths import TwoHot, kl_losses, symlog
from agents.dreamer.networks import MLP, ImageDecoder, ImageEncoder, linear
from agents.dreamer.rssm import RSSM, Latent

# Two-hot bins of the reward and critic heads.
BINS = 255


@dataclass(frozen=True)
class WorldModelLossScales:
    """Weights of the world model's loss terms (DreamerV3: 1, 1, 1, 1, 0.5, 0.1)."""

    image: float = 1.0
    vector: float = 1.0
    reward: float = 1.0
    cont: float = 1.0
    dynamics: float = 0.5
    representation: float = 0.1


class Head(nn.Module):
    """An MLP and an output layer (``scale`` 0 zero-initialises it)."""

    def __init__(self, inputs: int, outputs: int, size: ModelSize, scale: float = 1.0) -> None:
        super().__init__()
        self.hidden = MLP(inputs, size.units, size.layers)
        self.out = linear(size.units, outputs, scale=scale)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.hidden(x))


class WorldModel(nn.Module):
    """Encoder, RSSM and heads for observations of ``layout`` and actions of
    ``action_size``.

    Args:
        layout: which observation parts are images and which vectors.
        action_size: one-hot discrete actions or continuous action dimensions.
        size: the preset's sizes.
        free_nats: the free bits of both KL terms (1.0).
        unimix: the uniform share of the latents' categoricals (0.01).
        scales: the loss terms' weights.
    """

    def __init__(
        self,
        layout: ObservationLayout,
        action_size: int,
        size: ModelSize,
        free_nats: float = 1.0,
        unimix: float = 0.01,
        scales: WorldModelLossScales | None = None,
    ) -> None:
        super().__init__()
        self.layout = layout
        self.free_nats = free_nats
        self.scales = scales or WorldModelLossScales()
        self.image_encoder = (
            ImageEncoder(layout.image_channels, size.cnn_depth) if layout.image_keys else None
        )
        self.vector_encoder = (
            MLP(layout.vector_size, size.units, size.layers) if layout.vector_keys else None
        )
        embed_size = (self.image_encoder.outputs if self.image_encoder else 0) + (
            self.vector_encoder.outputs if self.vector_encoder else 0
        )
        self.rssm = RSSM(
            embed_size, action_size, size.deter, size.units, size.latents, size.classes, unimix
        )
        features = self.rssm.feature_size
        self.image_decoder = (
            ImageDecoder(features, layout.image_channels, size.cnn_depth)
            if layout.image_keys
            else None
        )
        self.vector_decoder = (
            Head(features, layout.vector_size, size) if layout.vector_keys else None
        )
        self.reward = Head(features, BINS, size, scale=0.0)
        self.cont = Head(features, 1, size)

    def embed(self, parts: dict[str, Tensor]) -> Tensor:
        """``(..., embed)`` of observations ``(..., *shape)`` by part."""
        outputs = []
        images = self.layout.images(parts)
        if images is not None:
            assert self.image_encoder is not None
            flat = self.image_encoder(images.flatten(0, -4))
            outputs.append(flat.reshape(*images.shape[:-3], -1))
        vectors = self.layout.vectors(parts)
        if vectors is not None:
            assert self.vector_encoder is not None
            outputs.append(self.vector_encoder(symlog(vectors)))
        return torch.cat(outputs, -1)

    def decode_images(self, features: Tensor) -> Tensor:
        """The predicted images ``(..., C, 64, 64)`` in [0, 1] of states' features."""
        assert self.image_decoder is not None
        flat = self.image_decoder(features.flatten(0, -2))
        return flat.reshape(*features.shape[:-1], *flat.shape[1:])

    def reward_of(self, features: Tensor) -> Tensor:
        """The predicted reward (the two-hot mean) of states' features."""
        return TwoHot(self.reward(features).float()).mean()

    def continues_of(self, features: Tensor) -> Tensor:
        """Whether each state continues its episode: the continue head's mode, 1.0 or 0.0."""
        return (self.cont(features).squeeze(-1) > 0).float()

    def loss(
        self,
        parts: dict[str, Tensor],
        actions: Tensor,
        rewards: Tensor,
        is_first: Tensor,
        is_terminal: Tensor,
    ) -> tuple[Tensor, Latent, dict[str, Tensor]]:
        """The loss of windows ``(batch, time, ...)`` (mean over batch and time), the
        posterior states (for imagination), and scalars to log."""
        embeds = self.embed(parts)
        posterior, posterior_logits, prior_logits = self.rssm.observe(embeds, actions, is_first)
        features = posterior.features()
        terms: dict[str, Tensor] = {}
        images = self.layout.images(parts)
        if images is not None:
            predicted = self.decode_images(features)
            terms["image"] = (predicted.float() - images).pow(2).sum((-3, -2, -1))
        vectors = self.layout.vectors(parts)
        if vectors is not None:
            assert self.vector_decoder is not None
            predicted = self.vector_decoder(features).float()
            binary = self.layout.binary_size
            terms["vector"] = F.binary_cross_entropy_with_logits(
                predicted[..., :binary], vectors[..., :binary], reduction="none"
            ).sum(-1) + (predicted[..., binary:] - symlog(vectors[..., binary:])).pow(2).sum(-1)
        terms["reward"] = -TwoHot(self.reward(features).float()).log_prob(rewards.float())
        continues = 1.0 - is_terminal.float()
        cont_logits = self.cont(features).squeeze(-1).float()
        terms["cont"] = F.binary_cross_entropy_with_logits(cont_logits, continues, reduction="none")
        dynamics, representation, kl = kl_losses(posterior_logits, prior_logits, self.free_nats)
        terms["dynamics"], terms["representation"] = dynamics, representation
        total = sum(getattr(self.scales, name) * term for name, term in terms.items())
        metrics = {f"world_model/{name}_loss": term.mean().detach() for name, term in terms.items()}
        metrics["world_model/kl"] = kl.mean()
        metrics["world_model/loss"] = total.mean().detach()
        return total.mean(), posterior, metrics

    @torch.no_grad()
    def open_loop(
        self, parts: dict[str, Tensor], actions: Tensor, is_first: Tensor, context: int
    ) -> tuple[Tensor, Tensor]:
        """Predicted and true images ``(batch, time, C, 64, 64)``: the first ``context``
        steps reconstructed from the posterior, the rest imagined from the actions alone (the
        open-loop prediction DreamerV3 logs)."""
        images = self.layout.images(parts)
        if images is None:
            raise ValueError("open_loop: the observations have no images")
        embeds = self.embed({key: value[:, :context] for key, value in parts.items()})
        posterior, _, _ = self.rssm.observe(embeds, actions[:, :context], is_first[:, :context])
        state = Latent(posterior.deter[:, -1], posterior.stoch[:, -1])
        imagined = []
        for t in range(context, actions.shape[1]):
            state, _ = self.rssm.imagine_step(state, actions[:, t])
            imagined.append(state.features())
        features = torch.cat([posterior.features(), torch.stack(imagined, 1)], 1)
        return self.decode_images(features).clamp(0, 1), images


def video_of(predicted: Tensor, truth: Tensor) -> np.ndarray:
    """``(time, 3 * 64, windows * 64, 3)`` uint8 frames of :meth:`WorldModel.open_loop`'s
    images: per window, the true frame above the predicted one above their difference (grey
    where they agree), windows side by side; the first three channels of stacked images."""
    error = (predicted - truth + 1) / 2
    rows = torch.cat([truth, predicted, error], -2)[:, :, :3]  # (windows, time, C, 3H, W)
    frames = rows.permute(1, 3, 0, 4, 2).flatten(2, 3)  # (time, 3H, windows * W, C)
    if frames.shape[-1] == 1:  # grey
        frames = frames.expand(*frames.shape[:-1], 3)
    elif frames.shape[-1] == 2:
        frames = torch.cat([frames, torch.zeros_like(frames[..., :1])], -1)
    return (frames.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
