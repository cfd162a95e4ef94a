"""Replay buffers: transition buffers (ring, reservoir; numpy storage, numba kernels, an
adapter for Stable-Baselines3), sequence replay in torch tensors, and their mixture.
"""

from agents.buffers.base import Buffer, TransitionBuffer
from agents.buffers.batch import Batch
from agents.buffers.fields import FieldSpec, transition_fields
from agents.buffers.memory import BufferMemoryError
from agents.buffers.mixed import MixedReplay, ReplayMember
from agents.buffers.reservoir import ReservoirBuffer
from agents.buffers.ring import RingBuffer
from agents.buffers.sequence import SequenceBuffer

__all__ = [
    "Batch",
    "Buffer",
    "BufferMemoryError",
    "FieldSpec",
    "MixedReplay",
    "ReplayMember",
    "ReservoirBuffer",
    "RingBuffer",
    "SequenceBuffer",
    "TransitionBuffer",
    "transition_fields",
]
