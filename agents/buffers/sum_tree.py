"""A sum-tree over float64 priorities: O(log n) updates and proportional sampling (numba).

Updates recompute ancestors from their children, never add differences: the root stays exactly
the tree-ordered sum of the leaves however many updates come.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from agents.buffers import kernels
from agents.buffers.memory import allocate_zeros


@njit(cache=True)
def update_leaves(nodes: np.ndarray, leaf_count: int, leaves: np.ndarray, values: np.ndarray):
    """Set ``leaves[i]`` to ``values[i]`` in order and recompute their ancestors."""
    for index in range(leaves.shape[0]):
        node = leaf_count + leaves[index]
        nodes[node] = values[index]
        node //= 2
        while node >= 1:
            nodes[node] = nodes[2 * node] + nodes[2 * node + 1]
            node //= 2


@njit(cache=True)
def find_prefix_sum(nodes: np.ndarray, leaf_count: int, target: float) -> int:
    """The leaf where the running sum of leaves passes ``target`` (in [0, total)).

    Never a zero leaf while the total is positive: rounding could otherwise walk into an
    empty right subtree when ``target`` sits at a boundary.
    """
    node = 1
    while node < leaf_count:
        left = nodes[2 * node]
        if target < left or nodes[2 * node + 1] <= 0.0:
            node = 2 * node
        else:
            target -= left
            node = 2 * node + 1
    return node - leaf_count


@njit(cache=True)
def find_prefix_sums(nodes: np.ndarray, leaf_count: int, targets: np.ndarray, out: np.ndarray):
    """:func:`find_prefix_sum` for every target."""
    for index in range(targets.shape[0]):
        out[index] = find_prefix_sum(nodes, leaf_count, targets[index])


@njit(cache=True)
def sample_leaves(
    nodes: np.ndarray,
    leaf_count: int,
    key: np.uint64,
    counter: int,
    leaves: np.ndarray,
    probabilities: np.ndarray,
) -> None:
    """Draw ``leaves`` in proportion to their values (draws ``counter ..`` of stream ``key``)
    and give each one's probability."""
    total = nodes[1]
    for index in range(leaves.shape[0]):
        leaf = find_prefix_sum(nodes, leaf_count, kernels.uniform(key, counter + index) * total)
        leaves[index] = leaf
        probabilities[index] = nodes[leaf_count + leaf] / total


class SumTree:
    """Priorities of ``capacity`` items in a binary tree stored in one float64 array.

    ``nodes[1]`` is the root; node ``i`` has children ``2i`` and ``2i + 1``; the leaves are
    ``nodes[leaf_count:leaf_count + capacity]`` with ``leaf_count`` the next power of two.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"SumTree capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.leaf_count = 1 << max(0, (capacity - 1).bit_length())
        self.nodes = allocate_zeros((2 * self.leaf_count,), np.dtype(np.float64))

    @staticmethod
    def bytes_needed(capacity: int) -> int:
        """Bytes the tree of ``capacity`` leaves takes."""
        return 2 * (1 << max(0, (capacity - 1).bit_length())) * 8

    @property
    def total(self) -> float:
        """Sum of all priorities."""
        return float(self.nodes[1])

    @property
    def leaves(self) -> np.ndarray:
        """The priorities, as a view."""
        return self.nodes[self.leaf_count : self.leaf_count + self.capacity]

    def update(self, leaves: np.ndarray, values: np.ndarray) -> None:
        """Set priorities (finite, non-negative); later duplicates win."""
        leaves = np.ascontiguousarray(leaves, dtype=np.int64)
        values = np.ascontiguousarray(values, dtype=np.float64)
        if leaves.shape != values.shape or leaves.ndim != 1:
            raise ValueError(
                f"SumTree.update: leaves and values must be equal-length 1-D arrays, got "
                f"shapes {leaves.shape} and {values.shape}"
            )
        if leaves.size and (leaves.min() < 0 or leaves.max() >= self.capacity):
            raise IndexError(f"SumTree.update: leaves must lie in [0, {self.capacity})")
        if not np.all(np.isfinite(values)) or (values.size and values.min() < 0):
            raise ValueError("SumTree.update: values must be finite and non-negative")
        update_leaves(self.nodes, self.leaf_count, leaves, values)

    def find(self, targets: np.ndarray) -> np.ndarray:
        """For each target in [0, total): the leaf where the running sum passes it."""
        targets = np.ascontiguousarray(targets, dtype=np.float64)
        out = np.empty(targets.shape[0], dtype=np.int64)
        find_prefix_sums(self.nodes, self.leaf_count, targets, out)
        return out
