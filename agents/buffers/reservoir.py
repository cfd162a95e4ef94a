"""Reservoir replay: a uniform sample of every transition ever added, by Vitter's algorithm R.

No task labels are needed: the buffer's content matches the distribution of everything seen,
so after K equal-length tasks each holds about 1/K of it (the long-term memory of WMAR).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.buffers import kernels
from agents.buffers.base import TransitionBuffer
from agents.buffers.fields import FieldLike


class ReservoirBuffer(TransitionBuffer):
    """Keeps every transition ever added with equal probability ``capacity / added``.

    The choice for each transition depends only on the seed and its position in the stream, so
    adding a batch is exactly equivalent to adding its transitions one by one. See
    :class:`TransitionBuffer` for the arguments.
    """

    kind = "reservoir"

    def __init__(self, capacity: int, observation: FieldLike, action: FieldLike, **kwargs: Any):
        super().__init__(capacity, observation, action, **kwargs)
        self._reservoir_key = kernels.stream_key(self.seed, kernels.RESERVOIR_STREAM)

    def _store(self, batch: dict[str, np.ndarray], count: int) -> None:
        rows = np.empty(count, dtype=np.int64)
        kernels.reservoir_rows(self._reservoir_key, self.added, self.capacity, rows)
        self.storage.write_rows(rows, batch)
        self.added += count
        self.size = min(self.capacity, self.added)
