"""How the agents read our observation spaces (DreamerV3, the memory agents): images through a
CNN, everything else through an MLP, a ``Dict`` by key.

An image is a ``Box`` of uint8 with shape ``(H, W, C)``, ``C <= 4`` and ``H, W >= 16`` (our pixel
observations; a smaller uint8 grid is a symbolic one, object ids and such, read as a vector);
images of a ``Dict`` are stacked along the channels. Images other than 64x64 are resized to
64x64 on the device (area averaging down, nearest neighbour up) before the encoder, and a
decoder predicts the resized image; a replay keeps the observation as the env gave it.
Every other array (symbolic grids of bools, one-hot uint8 features, float vectors, the task id)
is flattened, cast to float32 and concatenated into one vector (DreamerV3's encoder symlogs it).
DreamerV3's decoder predicts binary parts (bools, and integers bounded to [0, 1]: grids,
one-hots) as Bernoulli logits and the rest in symlog space. Binary parts are kept first.

Why binary parts are not symlog-regressed like the rest: a symbolic grid marks a fruit with one
cell of 200; its squared error in symlog space is at most ``symlog(1)**2 = 0.48``, less than
the KL cost of encoding where the fruit is, so a world model trained that way learns to leave
it out; a Bernoulli log-loss charges several nats for a missed cell.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F  # noqa: N812

IMAGE_SIZE = 64
# Smaller uint8 arrays of shape (H, W, C) are symbolic grids (MiniGrid's object ids), not images.
MIN_IMAGE_SIZE = 16
# The key of a non-Dict observation in the layout's field tables.
SINGLE = "observation"


def _is_binary(space: gym.spaces.Box) -> bool:
    return (
        (space.dtype == np.bool_ or np.issubdtype(space.dtype, np.integer))
        and bool(np.all(space.low == 0))
        and bool(np.all(space.high == 1))
    )


def _is_image(space: gym.Space) -> bool:
    return (
        isinstance(space, gym.spaces.Box)
        and space.dtype == np.uint8
        and len(space.shape) == 3
        and space.shape[-1] <= 4
        and min(space.shape[:2]) >= MIN_IMAGE_SIZE
    )


@dataclass(frozen=True)
class ObservationLayout:
    """Which parts of an observation are images and which are vectors.

    Attributes:
        spaces: the observation's parts by key (``{"observation": space}`` for a non-Dict).
        image_keys: the image parts, stacked in this order.
        vector_keys: the other parts, concatenated in this order: binary parts first.
        binary_size: how many of the vector's leading values are binary.
        is_dict: whether observations are dicts.
    """

    spaces: Mapping[str, gym.spaces.Box]
    image_keys: tuple[str, ...]
    vector_keys: tuple[str, ...]
    binary_size: int
    is_dict: bool

    @classmethod
    def of_space(cls, space: gym.Space) -> ObservationLayout:
        """The layout of ``space`` (a Box, or a Dict of Boxes); a clear error otherwise."""
        parts = dict(space.spaces) if isinstance(space, gym.spaces.Dict) else {SINGLE: space}
        for key, part in parts.items():
            if not isinstance(part, gym.spaces.Box):
                raise ValueError(
                    f"observation space: the agents read Box observations (or a Dict of them); "
                    f"{key!r} is {part}"
                )
        images = tuple(key for key, part in parts.items() if _is_image(part))
        image_shapes = {parts[key].shape[:2] for key in images}
        if len(image_shapes) > 1:
            raise ValueError(
                f"observation space: the images {list(images)} differ in size {image_shapes}; "
                "they are stacked along the channels"
            )
        others = [key for key in parts if key not in images]
        binary = [key for key in others if _is_binary(parts[key])]
        vectors = (*binary, *(key for key in others if key not in binary))
        binary_size = sum(math.prod(parts[key].shape) for key in binary)
        return cls(parts, images, vectors, binary_size, isinstance(space, gym.spaces.Dict))

    @property
    def image_channels(self) -> int:
        return sum(self.spaces[key].shape[-1] for key in self.image_keys)

    @property
    def vector_size(self) -> int:
        return sum(math.prod(self.spaces[key].shape) for key in self.vector_keys)

    def parts(self, observation: Any) -> dict[str, Any]:
        """The observation's parts by key."""
        return dict(observation) if self.is_dict else {SINGLE: observation}

    def to_tensors(self, observation: Any, device: torch.device) -> dict[str, Tensor]:
        """Numpy observations (batched) as tensors on ``device``, dtypes kept."""
        return {
            key: torch.as_tensor(np.asarray(value), device=device)
            for key, value in self.parts(observation).items()
        }

    def images(self, parts: Mapping[str, Tensor]) -> Tensor | None:
        """``(..., C, 64, 64)`` float images in [0, 1] from ``(..., H, W, C)`` uint8 parts."""
        if not self.image_keys:
            return None
        stacked = torch.cat([parts[key] for key in self.image_keys], -1)
        leading = stacked.shape[:-3]
        images = stacked.reshape(-1, *stacked.shape[-3:]).permute(0, 3, 1, 2).float() / 255.0
        if images.shape[-2:] != (IMAGE_SIZE, IMAGE_SIZE):
            down = images.shape[-1] > IMAGE_SIZE
            images = F.interpolate(
                images, size=(IMAGE_SIZE, IMAGE_SIZE), mode="area" if down else "nearest"
            )
        return images.reshape(*leading, *images.shape[1:])

    def vectors(
        self, parts: Mapping[str, Tensor], keys: tuple[str, ...] | None = None
    ) -> Tensor | None:
        """``(..., D)`` float32: the vector parts (or those of ``keys``) flattened and
        concatenated."""
        keys = self.vector_keys if keys is None else keys
        if not keys:
            return None
        flat = [
            parts[key].reshape(
                *parts[key].shape[: parts[key].dim() - len(self.spaces[key].shape)], -1
            )
            for key in keys
        ]
        return torch.cat([part.float() for part in flat], -1)
