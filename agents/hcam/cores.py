"""The memory cores, one interface: ``hcam`` (HCAM blocks), ``transformer`` (attention over a long
window, Transformer-XL style), ``window`` (a short window) and ``lstm``.

A core maps a segment of step encodings (``[T, B, D]``, time first) and the per-env episode
starts to outputs of the same shape, carrying its memory of the episodes in progress from
segment to segment as a flat dict of batch-first tensors (:data:`CoreState`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from agents.hcam.config import CoreKind, CoreSpec
from agents.hcam.memory import (
    ChunkAttention,
    Chunks,
    Segment,
    WindowAttention,
    kept_chunks,
    recent_inputs,
    segment_chunks,
)

# A core's memory of the episodes in progress: tensors whose first axis is the env.
CoreState = dict[str, Tensor]


@dataclass(frozen=True)
class CoreOutput:
    """What a core gives for a segment.

    Attributes:
        outputs: ``[T, B, D]``.
        state: the memory after the segment.
        chunk_weights: HCAM: ``[T, B, N]`` the last block's weight on each chunk it could read.
        chunk_numbers: HCAM: ``[B, N]`` those chunks' places in their episodes.
    """

    outputs: Tensor
    state: CoreState
    chunk_weights: Tensor | None = None
    chunk_numbers: Tensor | None = None


class MemoryCore(nn.Module, ABC):
    """A recurrent core over segments of steps; see the module docstring."""

    width: int

    @abstractmethod
    def initial_state(self, batch_size: int, device: torch.device) -> CoreState:
        """The memory of ``batch_size`` envs before any step."""

    @abstractmethod
    def forward(self, inputs: Tensor, episode_start: Tensor, state: CoreState) -> CoreOutput:
        """Run ``inputs`` (``[T, B, D]``); ``episode_start`` (``[T, B]`` bool) marks the steps
        that begin an episode, before which the env's memory is forgotten."""


def select_envs(state: CoreState, envs: Tensor) -> CoreState:
    """The state of the envs ``envs`` indexes."""
    return {name: value[envs] for name, value in state.items()}


class LSTMCore(MemoryCore):
    """A stack of LSTM layers, reset to zero at each episode start."""

    def __init__(self, width: int, layers: int) -> None:
        super().__init__()
        self.width = width
        self.layers = layers
        self.lstm = nn.LSTM(width, width, num_layers=layers)

    def initial_state(self, batch_size: int, device: torch.device) -> CoreState:
        zeros = torch.zeros(batch_size, self.layers, self.width, device=device)
        return {"hidden": zeros, "cell": zeros.clone()}

    def forward(self, inputs: Tensor, episode_start: Tensor, state: CoreState) -> CoreOutput:
        hidden = state["hidden"].transpose(0, 1)  # nn.LSTM's [layers, B, D]
        cell = state["cell"].transpose(0, 1)
        outputs = []
        for step in range(inputs.shape[0]):
            keep = (~episode_start[step]).float()[None, :, None]
            # The batch-first state transposed is not contiguous, which cuDNN's LSTM refuses.
            hidden, cell = (hidden * keep).contiguous(), (cell * keep).contiguous()
            output, (hidden, cell) = self.lstm(inputs[step : step + 1], (hidden, cell))
            outputs.append(output)
        return CoreOutput(
            torch.cat(outputs), {"hidden": hidden.transpose(0, 1), "cell": cell.transpose(0, 1)}
        )


class MemoryBlock(nn.Module):
    """A pre-norm transformer block: the normalised input attends to its recent window and, in
    HCAM, to its episode's chunks (both added to the residual stream), then an MLP. The
    normalised inputs are what the block stores."""

    def __init__(self, spec: CoreSpec) -> None:
        super().__init__()
        width = spec.width
        self.norm = nn.LayerNorm(width)
        self.window_attention = WindowAttention(width, spec.heads, spec.window)
        self.hcam = spec.kind is CoreKind.hcam
        self.chunk_attention = (
            ChunkAttention(width, spec.heads, spec.chunk_size, spec.top_k) if self.hcam else None
        )
        self.memory_chunks = spec.memory_chunks
        self.recent_length = max(spec.window, spec.chunk_size if self.hcam else 0)
        self.mlp_norm = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, spec.mlp_ratio * width),
            nn.GELU(),
            nn.Linear(spec.mlp_ratio * width, width),
        )

    def forward(
        self, inputs: Tensor, segment: Segment, state: CoreState
    ) -> tuple[Tensor, CoreState, Chunks | None, Tensor | None]:
        """``inputs`` through the block, with the block's part of the core state; returns the
        outputs, the new state, and HCAM's readable chunks with their weights."""
        normed = self.norm(inputs)
        recent = state["recent"]
        residual = inputs + self.window_attention(normed, recent, segment)
        new_state = {"recent": recent_inputs(recent, normed, self.recent_length)}
        chunks = weights = None
        if self.chunk_attention is not None:
            memory = Chunks(state["keys"], state["contents"], state["number"], state["valid"])
            chunks, visible, in_last_episode = segment_chunks(memory, recent, normed, segment)
            read, weights = self.chunk_attention(normed, chunks.keys, chunks.contents, visible)
            residual = residual + read
            kept = kept_chunks(chunks, in_last_episode, self.memory_chunks)
            new_state |= {
                "keys": kept.keys,
                "contents": kept.contents,
                "number": kept.number,
                "valid": kept.valid,
            }
        return residual + self.mlp(self.mlp_norm(residual)), new_state, chunks, weights


class AttentionCore(MemoryCore):
    """Memory blocks (:class:`MemoryBlock`) and a final layer norm: with HCAM in every block
    (``hcam``) or windowed attention alone (``transformer``, ``window``)."""

    def __init__(self, spec: CoreSpec) -> None:
        super().__init__()
        self.spec = spec
        self.width = spec.width
        self.blocks = nn.ModuleList(MemoryBlock(spec) for _ in range(spec.layers))
        self.final_norm = nn.LayerNorm(spec.width)

    def initial_state(self, batch_size: int, device: torch.device) -> CoreState:
        spec = self.spec
        state = {"episode_step": torch.zeros(batch_size, dtype=torch.long, device=device)}
        for index, block in enumerate(self.blocks):
            layer = {"recent": torch.zeros(batch_size, block.recent_length, spec.width)}
            if block.hcam:
                chunks = (batch_size, spec.memory_chunks)
                layer |= {
                    "keys": torch.zeros(*chunks, spec.width),
                    "contents": torch.zeros(*chunks, spec.chunk_size, spec.width),
                    "number": torch.zeros(*chunks, dtype=torch.long),
                    "valid": torch.zeros(*chunks, dtype=torch.bool),
                }
            state |= {f"{index}.{name}": value.to(device) for name, value in layer.items()}
        return state

    def forward(self, inputs: Tensor, episode_start: Tensor, state: CoreState) -> CoreOutput:
        segment = Segment.of(episode_start, state["episode_step"])
        new_state = {"episode_step": segment.steps_after}
        outputs = inputs
        chunks = weights = None
        for index, block in enumerate(self.blocks):
            prefix = f"{index}."
            layer = {
                name.removeprefix(prefix): value
                for name, value in state.items()
                if name.startswith(prefix)
            }
            outputs, layer, chunks, weights = block(outputs, segment, layer)
            new_state |= {prefix + name: value for name, value in layer.items()}
        return CoreOutput(
            self.final_norm(outputs),
            new_state,
            chunk_weights=weights,
            chunk_numbers=None if chunks is None else chunks.number,
        )
