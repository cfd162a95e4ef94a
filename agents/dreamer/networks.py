"""DreamerV3's building blocks in PyTorch: normalised SiLU layers with the paper's initialisation,
the MLP, and the convolutional image encoder and decoder.

Every hidden layer is ``Linear (no bias) -> LayerNorm(eps 1e-3) -> SiLU``. Weights start from a
normal truncated at two standard deviations with variance ``scale / fan_avg``; ``scale=0``
zero-initialises an output layer (the reward and critic heads), so that their first predictions
are exactly 0.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor, nn

# LayerNorm's epsilon in DreamerV3 (2023).
NORM_EPSILON = 1e-3
# The standard deviation of a unit normal truncated at ±2, which the initialiser divides by.
_TRUNCATED_STD = 0.87962566103423978


def initialise(weight: Tensor, scale: float = 1.0) -> None:
    """DreamerV3's ``normal`` initialiser with ``fan="avg"``: variance ``scale / fan_avg``
    (fans of a convolution count its kernel's cells), truncated at two standard deviations.
    ``scale=0`` gives zeros."""
    with torch.no_grad():
        if scale == 0.0:
            weight.zero_()
            return
        receptive = math.prod(weight.shape[2:]) if weight.dim() > 2 else 1
        fan_out, fan_in = weight.shape[0] * receptive, weight.shape[1] * receptive
        std = math.sqrt(scale / ((fan_in + fan_out) / 2)) / _TRUNCATED_STD
        nn.init.trunc_normal_(weight, 0.0, std, -2 * std, 2 * std)


def linear(inputs: int, outputs: int, scale: float = 1.0, bias: bool = True) -> nn.Linear:
    """An output layer: ``nn.Linear`` with DreamerV3's initialisation and zero bias."""
    layer = nn.Linear(inputs, outputs, bias=bias)
    initialise(layer.weight, scale)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


class NormLayer(nn.Sequential):
    """``Linear (no bias) -> LayerNorm -> SiLU``: every hidden layer of DreamerV3."""

    def __init__(self, inputs: int, outputs: int) -> None:
        super().__init__(
            linear(inputs, outputs, bias=False),
            nn.LayerNorm(outputs, eps=NORM_EPSILON),
            nn.SiLU(),
        )


class MLP(nn.Sequential):
    """``layers`` normalised SiLU layers of ``units`` (at least one)."""

    def __init__(self, inputs: int, units: int, layers: int) -> None:
        sizes = [inputs] + [units] * layers
        super().__init__(*(NormLayer(a, b) for a, b in itertools.pairwise(sizes)))
        self.outputs = units


class ChannelNorm(nn.LayerNorm):
    """LayerNorm over the channels of ``(N, C, H, W)`` feature maps, as DreamerV3 normalises
    its NHWC convolutions."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def _convolution(inputs: int, outputs: int, transposed: bool, bias: bool) -> nn.Module:
    # Kernel 4, stride 2 with padding 1 halves (or doubles) the size, like JAX's "SAME".
    kind = nn.ConvTranspose2d if transposed else nn.Conv2d
    layer = kind(inputs, outputs, kernel_size=4, stride=2, padding=1, bias=bias)
    # ConvTranspose2d keeps (in, out, k, k): the fans are the same either way round.
    initialise(layer.weight)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


def _stages(image_size: int, minimum_resolution: int) -> int:
    stages = round(math.log2(image_size / minimum_resolution))
    if minimum_resolution * 2**stages != image_size:
        raise ValueError(
            f"image size {image_size} is not {minimum_resolution} times a power of two "
            "(resize observations to 64x64)"
        )
    return stages


class ImageEncoder(nn.Module):
    """Strided convolutions from ``(N, C, S, S)`` images in [0, 1] down to 4x4, the channels
    doubling from ``depth`` at each stage; the flattened features."""

    def __init__(
        self, channels: int, depth: int, image_size: int = 64, minimum_resolution: int = 4
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        stages = _stages(image_size, minimum_resolution)
        inputs = channels
        for stage in range(stages):
            outputs = depth * 2**stage
            layers += [
                _convolution(inputs, outputs, transposed=False, bias=False),
                ChannelNorm(outputs, eps=NORM_EPSILON),
                nn.SiLU(),
            ]
            inputs = outputs
        self.layers = nn.Sequential(*layers)
        self.outputs = inputs * minimum_resolution**2

    def forward(self, images: Tensor) -> Tensor:
        return self.layers(images - 0.5).flatten(1)


class ImageDecoder(nn.Module):
    """The encoder mirrored: a linear map of the features to ``4x4`` maps, transposed
    convolutions up to ``(N, C, S, S)``; the output is the predicted image in [0, 1] (its
    mean under a unit-variance MSE loss)."""

    def __init__(
        self,
        inputs: int,
        channels: int,
        depth: int,
        image_size: int = 64,
        minimum_resolution: int = 4,
    ) -> None:
        super().__init__()
        stages = _stages(image_size, minimum_resolution)
        width = depth * 2 ** (stages - 1)
        self.start_shape = (width, minimum_resolution, minimum_resolution)
        self.project = linear(inputs, width * minimum_resolution**2)
        layers: list[nn.Module] = []
        for stage in range(stages):
            last = stage == stages - 1
            outputs = channels if last else width // 2
            layers.append(_convolution(width, outputs, transposed=True, bias=last))
            if not last:
                layers += [ChannelNorm(outputs, eps=NORM_EPSILON), nn.SiLU()]
            width = outputs
        self.layers = nn.Sequential(*layers)

    def forward(self, features: Tensor) -> Tensor:
        maps = self.project(features).reshape(-1, *self.start_shape)
        return self.layers(maps) + 0.5
