"""The memory agents' networks: an observation encoder into the core's width, and the actor-critic
around a memory core."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from agents.common.observations import IMAGE_SIZE, ObservationLayout
from agents.hcam.config import CoreSpec
from agents.hcam.cores import CoreOutput, CoreState


class ObservationEncoder(nn.Module):
    """One step's observation as a ``width`` vector: images (pixels, resized to 64x64) through a
    three-layer CNN, the other parts (symbolic grids, one-hot direction, phase, instruction,
    task id) flattened into a linear layer; the two summed, then a ReLU."""

    def __init__(self, layout: ObservationLayout, width: int) -> None:
        super().__init__()
        self.layout = layout
        self.cnn: nn.Module | None = None
        if layout.image_keys:
            self.cnn = nn.Sequential(
                nn.Conv2d(layout.image_channels, 32, 8, stride=4),
                nn.ReLU(),
                nn.Conv2d(32, 64, 4, stride=2),
                nn.ReLU(),
                nn.Conv2d(64, 64, 3),
                nn.ReLU(),
                nn.Flatten(),
                nn.LazyLinear(width),
            )
            self.cnn(torch.zeros(1, layout.image_channels, IMAGE_SIZE, IMAGE_SIZE))
        self.linear = nn.Linear(layout.vector_size, width) if layout.vector_keys else None

    def forward(self, parts: dict[str, Tensor]) -> Tensor:
        """``[..., width]`` encodings of batched observation parts (``[..., *shape]`` tensors
        by key, as :meth:`ObservationLayout.to_tensors` gives them)."""
        encoded: Tensor | None = None
        if self.cnn is not None:
            images = self.layout.images(parts)
            assert images is not None
            leading = images.shape[:-3]
            encoded = self.cnn(images.reshape(-1, *images.shape[-3:])).reshape(*leading, -1)
        if self.linear is not None:
            vectors = self.layout.vectors(parts)
            assert vectors is not None
            linear = self.linear(vectors)
            encoded = linear if encoded is None else encoded + linear
        assert encoded is not None
        return torch.relu(encoded)


class MemoryActorCritic(nn.Module):
    """Encoder, memory core, and a policy and a value head on the core's output."""

    def __init__(self, layout: ObservationLayout, spec: CoreSpec, actions: int) -> None:
        super().__init__()
        self.encoder = ObservationEncoder(layout, spec.width)
        self.core = spec.build()
        self.policy = nn.Linear(spec.width, actions)
        self.value = nn.Linear(spec.width, 1)
        with torch.no_grad():  # a near-uniform first policy (CleanRL's 0.01 init of the head)
            self.policy.weight.mul_(0.01)
            self.policy.bias.zero_()

    def forward(
        self, parts: dict[str, Any], episode_start: Tensor, state: CoreState
    ) -> tuple[Tensor, Tensor, CoreOutput]:
        """Action logits ``[T, B, A]``, values ``[T, B]`` and the core's output for a segment
        of observations (``[T, B, ...]`` parts)."""
        core = self.core(self.encoder(parts), episode_start, state)
        return self.policy(core.outputs), self.value(core.outputs).squeeze(-1), core
