"""The task-conditioned hypernetwork and the dynamics MLP whose weights it generates.

A hypernetwork maps a learned task embedding to every weight of a target MLP that predicts the
change of the state from a (normalised) state and action; the target has no weights of its own
(HyperCRL's ``build_model_hnet``). The plain hypernetwork has one linear head per target tensor;
the chunked one generates the flattened weights in fixed-size chunks, each from the task
embedding beside a learned chunk embedding, so that its size does not grow with the target's.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812


@dataclass(frozen=True)
class TargetSpec:
    """The dynamics MLP's sizes: ``inputs`` (state and action) to ``outputs`` (the state's
    change, doubled for a Gaussian head's mean and log-variance) through ``hidden`` ReLU layers.
    """

    inputs: int
    outputs: int
    hidden: tuple[int, ...] = (200, 200)

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        """Every target tensor's shape, in order: each layer's weight, then its bias."""
        sizes = [self.inputs, *self.hidden, self.outputs]
        shapes: list[tuple[int, ...]] = []
        for fan_in, fan_out in itertools.pairwise(sizes):
            shapes += [(fan_out, fan_in), (fan_out,)]
        return shapes

    @property
    def size(self) -> int:
        """How many numbers the target's weights hold."""
        return sum(math.prod(shape) for shape in self.shapes)


def target_forward(weights: list[Tensor], inputs: Tensor) -> Tensor:
    """The target MLP with ``weights`` (in :attr:`TargetSpec.shapes` order) on ``[N, inputs]``."""
    if not weights or len(weights) % 2:
        raise ValueError(f"weights: a weight and a bias per layer, got {len(weights)} tensors")
    hidden = inputs
    layers = len(weights) // 2
    for layer in range(layers):
        hidden = F.linear(hidden, weights[2 * layer], weights[2 * layer + 1])
        if layer < layers - 1:
            hidden = torch.relu(hidden)
    return hidden


ACTIVATIONS = {"elu": nn.ELU, "relu": nn.ReLU}


@dataclass(frozen=True)
class HypernetSpec:
    """The hypernetwork's sizes (HyperCRL's pusher: a 10-d embedding, hidden [50, 50], ELU)."""

    embedding: int = 10
    """Size of each task's embedding."""
    hidden: tuple[int, ...] = (50, 50)
    """The hypernetwork's hidden layers."""
    activation: str = "elu"
    """``elu`` or ``relu``."""
    chunk_size: int | None = None
    """Chunked variant: numbers generated per chunk; ``None`` for one head per target tensor."""
    chunk_embedding: int = 20
    """Chunked variant: size of each chunk's learned embedding."""

    def check(self) -> None:
        """A clear error naming the first field out of range."""
        if self.embedding < 1:
            raise ValueError(f"embedding: must be a positive integer, got {self.embedding}")
        if any(size < 1 for size in self.hidden):
            raise ValueError(f"hidden: sizes must be positive integers, got {list(self.hidden)}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation: one of {list(ACTIVATIONS)}, got {self.activation!r}")
        if self.chunk_size is not None and self.chunk_size < 1:
            raise ValueError(f"chunk_size: must be a positive integer, got {self.chunk_size}")
        if self.chunk_embedding < 1:
            raise ValueError(
                f"chunk_embedding: must be a positive integer, got {self.chunk_embedding}"
            )


class Hypernetwork(nn.Module):
    """Task embeddings, one per task seen, and the network from an embedding to the target's
    weights.

    Args:
        spec: the hypernetwork's sizes.
        target: the target MLP it generates.
    """

    def __init__(self, spec: HypernetSpec, target: TargetSpec) -> None:
        super().__init__()
        spec.check()
        self.spec = spec
        self.target = target
        self.embeddings = nn.ParameterList()
        chunked = spec.chunk_size is not None
        inputs = spec.embedding + (spec.chunk_embedding if chunked else 0)
        layers: list[nn.Module] = []
        for size in spec.hidden:
            layers += [nn.Linear(inputs, size), ACTIVATIONS[spec.activation]()]
            inputs = size
        self.trunk = nn.Sequential(*layers)
        if spec.chunk_size is not None:
            chunks = -(-target.size // spec.chunk_size)
            self.chunk_embeddings = nn.Parameter(torch.randn(chunks, spec.chunk_embedding))
            self.heads = nn.ModuleList([nn.Linear(inputs, spec.chunk_size)])
        else:
            self.heads = nn.ModuleList(
                nn.Linear(inputs, math.prod(shape)) for shape in target.shapes
            )
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def add_task(self) -> int:
        """A new task's embedding, drawn from N(0, 1); returns its index. The old ones are
        frozen from then on (HyperCRL's default; its chunked configurations leave them
        plastic, which this does not offer)."""
        reference = self.heads[0].weight
        for embedding in self.embeddings:
            embedding.requires_grad_(False)
        self.embeddings.append(
            nn.Parameter(
                torch.randn(self.spec.embedding, device=reference.device, dtype=reference.dtype)
            )
        )
        return len(self.embeddings) - 1

    @property
    def tasks(self) -> int:
        """Tasks with an embedding."""
        return len(self.embeddings)

    def shared_parameters(self) -> list[nn.Parameter]:
        """Θ: every parameter but the task embeddings."""
        embeddings = {id(embedding) for embedding in self.embeddings}
        return [parameter for parameter in self.parameters() if id(parameter) not in embeddings]

    def forward(self, task: int) -> Tensor:
        """The target's weights for ``task``, flattened (``[target.size]``)."""
        if not 0 <= task < self.tasks:
            raise IndexError(f"task: {task} has no embedding ({self.tasks} tasks seen)")
        embedding = self.embeddings[task]
        if self.spec.chunk_size is not None:
            chunks = self.chunk_embeddings
            inputs = torch.cat([embedding.expand(chunks.shape[0], -1), chunks], -1)
            return self.heads[0](self.trunk(inputs)).flatten()[: self.target.size]
        hidden = self.trunk(embedding)
        return torch.cat([head(hidden) for head in self.heads])

    def forward_with(self, task: int, shared: dict[str, Tensor]) -> Tensor:
        """:meth:`forward` with other values of the shared parameters (by name, as
        :meth:`named_parameters` gives them), differentiable in them."""
        return torch.func.functional_call(self, shared, (task,), strict=False)

    def split(self, flat: Tensor) -> list[Tensor]:
        """Flattened target weights as the target's tensors (:attr:`TargetSpec.shapes`)."""
        shapes = self.target.shapes
        parts = flat.split([math.prod(shape) for shape in shapes])
        return [part.view(shape) for part, shape in zip(parts, shapes, strict=True)]
