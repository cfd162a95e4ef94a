"""The memory agents' networks: an observation encoder into the core's width, and the actor-critic
around a memory core."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from agents.common.observations import IMAGE_SIZE, ObservationLayout
from agents.hcam.config import CoreSpec
from agents.hcam.cores import CoreOutput, CoreState


class ObservationEncoder(nn.Module):
    """One step's observation as a ``width`` vector: images (pixels, resized to 64x64) through a
    three-layer CNN; symbolic grids (``(H, W, C)`` parts that are not images: our navigation
    views, the minigames' grids) through a two-layer CNN, whose weights are shared over the
    cells as an agent's view shifts; the rest (direction, phase, instruction, task id) through
    a linear layer. The parts are summed, then a ReLU."""

    def __init__(self, layout: ObservationLayout, width: int) -> None:
        super().__init__()
        self.layout = layout
        self.image_cnn: nn.Module | None = None
        if layout.image_keys:
            self.image_cnn = nn.Sequential(
                nn.Conv2d(layout.image_channels, 32, 8, stride=4),
                nn.ReLU(),
                nn.Conv2d(32, 64, 4, stride=2),
                nn.ReLU(),
                nn.Conv2d(64, 64, 3),
                nn.ReLU(),
                nn.Flatten(),
                nn.LazyLinear(width),
            )
            self.image_cnn(torch.zeros(1, layout.image_channels, IMAGE_SIZE, IMAGE_SIZE))
        self.grid_keys = tuple(
            key for key in layout.vector_keys if len(layout.spaces[key].shape) == 3
        )
        self.grid_cnns = nn.ModuleDict()
        for key in self.grid_keys:
            height, grid_width, channels = layout.spaces[key].shape
            self.grid_cnns[key] = nn.Sequential(
                nn.Conv2d(channels, 32, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(32, 32, 3, stride=2, padding=1),
                nn.ReLU(),
                nn.Flatten(),
                nn.Linear(32 * ((height + 1) // 2) * ((grid_width + 1) // 2), width),
            )
        self.flat_keys = tuple(key for key in layout.vector_keys if key not in self.grid_keys)
        flat_size = sum(math.prod(layout.spaces[key].shape) for key in self.flat_keys)
        self.linear = nn.Linear(flat_size, width) if flat_size else None

    def forward(self, parts: dict[str, Tensor]) -> Tensor:
        """``[..., width]`` encodings of batched observation parts (``[..., *shape]`` tensors
        by key, as :meth:`ObservationLayout.to_tensors` gives them)."""
        encoded: list[Tensor] = []
        if self.image_cnn is not None:
            images = self.layout.images(parts)
            assert images is not None
            encoded.append(_per_step(self.image_cnn, images))
        for key in self.grid_keys:
            grid = parts[key].float().movedim(-1, -3)  # channels first
            encoded.append(_per_step(self.grid_cnns[key], grid))
        if self.linear is not None:
            flat = self.layout.vectors(parts, self.flat_keys)
            assert flat is not None
            encoded.append(self.linear(flat))
        return torch.relu(torch.stack(encoded).sum(0))


def _per_step(cnn: nn.Module, images: Tensor) -> Tensor:
    """``cnn`` over ``[..., C, H, W]`` images, the leading axes kept."""
    leading = images.shape[:-3]
    return cnn(images.reshape(-1, *images.shape[-3:])).reshape(*leading, -1)


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
