"""Replay buffers over preallocated numpy arrays with numba kernels: ring, reservoir, sequence,
prioritized, their mixture, and a Stable-Baselines3 adapter.
"""

from agents.buffers.base import Buffer, TransitionBuffer
from agents.buffers.batch import Batch
from agents.buffers.fields import FieldSpec, step_fields, transition_fields
from agents.buffers.memory import BufferMemoryError
from agents.buffers.mixed import MixedReplay
from agents.buffers.persistence import BufferFileError, load_buffer
from agents.buffers.prioritized import PrioritizedBuffer
from agents.buffers.reservoir import ReservoirBuffer
from agents.buffers.ring import RingBuffer
from agents.buffers.sequence import SequenceBuffer
from agents.buffers.sum_tree import SumTree

__all__ = [
    "Batch",
    "Buffer",
    "BufferFileError",
    "BufferMemoryError",
    "FieldSpec",
    "MixedReplay",
    "PrioritizedBuffer",
    "ReservoirBuffer",
    "RingBuffer",
    "SequenceBuffer",
    "SumTree",
    "TransitionBuffer",
    "load_buffer",
    "step_fields",
    "transition_fields",
]
