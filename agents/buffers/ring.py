"""FIFO replay: the newest ``capacity`` transitions, each added batch overwriting the oldest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from agents.buffers.base import TransitionBuffer


class RingBuffer(TransitionBuffer):
    """Holds exactly the newest ``capacity`` transitions; samples them uniformly.

    ``position`` is the row the next transition goes to. See :class:`TransitionBuffer` for the
    arguments.
    """

    kind = "ring"
    position: int = 0

    def _store(self, batch: dict[str, np.ndarray], count: int) -> None:
        self.storage.write_ring(self.position, batch, count)
        self.position = (self.position + count) % self.capacity
        self.size = min(self.capacity, self.size + count)
        self.added += count

    def state(self) -> dict[str, Any]:
        return {**super().state(), "position": self.position}

    def restore_state(self, state: Mapping[str, Any]) -> None:
        super().restore_state(state)
        self.position = int(state["position"])
