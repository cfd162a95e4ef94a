"""Prioritized replay (Schaul et al. 2016), proportional variant, over a FIFO ring.

Item ``i`` is drawn with probability ``p_i^alpha / sum_j p_j^alpha``; new items get the largest
priority given so far, so each is likely to be replayed at least once before its priority is
known.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from agents.buffers.fields import FieldLike
from agents.buffers.ring import RingBuffer
from agents.buffers.sum_tree import SumTree, sample_leaves


def _check_exponent(name: str, value: Any) -> float:
    """``value`` as a float if it is a real number in [0, 1] (numpy scalars included, bools
    not), else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


class PrioritizedBuffer(RingBuffer):
    """A ring of transitions sampled in proportion to ``priority ** alpha``.

    ``sample`` sets ``Batch.weights`` to the importance-sampling weights
    ``(size * P(i)) ** -beta``, divided by the largest weight in the batch; pass the batch's
    ``indices`` and new priorities (e.g. ``|TD error| + 1e-6``) to :meth:`update_priorities`.

    Args:
        alpha: how much priorities matter (0: uniform).
        beta: importance-sampling correction (1: full); may be changed between samples
            (annealing), e.g. ``buffer.beta = 0.7``.
        capacity, observation, action, ...: as for :class:`TransitionBuffer`.
    """

    kind = "prioritized"

    def __init__(
        self,
        capacity: int,
        observation: FieldLike,
        action: FieldLike,
        *,
        alpha: float = 0.6,
        beta: float = 0.4,
        **kwargs: Any,
    ) -> None:
        self.alpha = _check_exponent("alpha", alpha)
        self._beta = _check_exponent("beta", beta)
        super().__init__(capacity, observation, action, **kwargs)
        self.tree = SumTree(self.capacity)
        self.max_priority = 1.0

    @property
    def beta(self) -> float:
        """Importance-sampling exponent in [0, 1]."""
        return self._beta

    @beta.setter
    def beta(self, value: float) -> None:
        self._beta = _check_exponent("beta", value)

    def memory_needed(self) -> dict[str, int]:
        return {**super().memory_needed(), "sum_tree": SumTree.bytes_needed(self.capacity)}

    def _store(self, batch: dict[str, np.ndarray], count: int) -> None:
        rows = np.arange(self.position, self.position + count, dtype=np.int64) % self.capacity
        super()._store(batch, count)
        self.tree.update(rows, np.full(count, self.max_priority**self.alpha))

    def _sample_rows(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.empty(batch_size, dtype=np.int64)
        probabilities = np.empty(batch_size, dtype=np.float64)
        sample_leaves(
            self.tree.nodes, self.tree.leaf_count, self._sample_key, self.draws, rows, probabilities
        )
        self.draws += batch_size
        weights = (self.size * probabilities) ** -self.beta
        return rows, (weights / weights.max()).astype(np.float32)

    def update_priorities(self, indices: Any, priorities: Any) -> None:
        """Set the priorities of sampled items (``Batch.indices``); priorities must be > 0."""
        indices = np.asarray(indices)
        priorities = np.asarray(priorities, dtype=np.float64)
        if indices.ndim != 1 or priorities.shape != indices.shape:
            raise ValueError(
                "update_priorities: indices and priorities must be 1-D and of equal length, got "
                f"shapes {indices.shape} and {priorities.shape}"
            )
        if indices.size and (
            indices.dtype.kind not in "iu" or indices.min() < 0 or indices.max() >= self.size
        ):
            raise ValueError(
                f"update_priorities: indices must be integers in [0, {self.size}) (a batch's "
                f"indices), got {indices!r}"
            )
        if not np.all(np.isfinite(priorities)) or (priorities.size and priorities.min() <= 0):
            raise ValueError(
                "update_priorities: priorities must be finite and > 0 (add a small constant to "
                f"|TD error|), got {priorities!r}"
            )
        if indices.size == 0:
            return
        self.tree.update(indices.astype(np.int64), priorities**self.alpha)
        self.max_priority = max(self.max_priority, float(priorities.max()))

    def config(self) -> dict[str, Any]:
        return {**super().config(), "alpha": self.alpha, "beta": self.beta}

    def state(self) -> dict[str, Any]:
        return {**super().state(), "max_priority": self.max_priority}

    def restore_state(self, state: Mapping[str, Any]) -> None:
        super().restore_state(state)
        self.max_priority = float(state["max_priority"])

    def persistent_arrays(self) -> dict[str, np.ndarray]:
        return {**super().persistent_arrays(), "sum_tree": self.tree.nodes}
