"""SumTree: totals stay exact under any sequence of updates; prefix-sum search is correct."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.buffers import SumTree

priorities = st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False)


def tree_ordered_sum(leaves: np.ndarray) -> float:
    """The sum of the leaves added pairwise in the tree's order (padded to a power of two)."""
    level = list(leaves)
    while len(level) > 1:
        level = [level[index] + level[index + 1] for index in range(0, len(level), 2)]
    return level[0]


@settings(max_examples=80, deadline=None)
@given(
    capacity=st.integers(1, 70),
    updates=st.lists(st.tuples(st.integers(0, 10**6), priorities), min_size=1, max_size=300),
    batch=st.integers(1, 16),
)
def test_root_is_exactly_the_sum_of_leaves_after_updates(capacity, updates, batch):
    tree = SumTree(capacity)
    leaves = np.array([leaf % capacity for leaf, _ in updates])
    values = np.array([value for _, value in updates])
    for start in range(0, len(updates), batch):
        tree.update(leaves[start : start + batch], values[start : start + batch])
    expected = np.zeros(capacity)
    for leaf, value in zip(leaves, values, strict=True):
        expected[leaf] = value  # later updates of a leaf win
    np.testing.assert_array_equal(tree.leaves, expected)
    # Exact: each node is its children's sum, so the root is the tree-ordered sum, bit for bit.
    internal = np.arange(1, tree.leaf_count)
    np.testing.assert_array_equal(
        tree.nodes[internal], tree.nodes[2 * internal] + tree.nodes[2 * internal + 1]
    )
    padded = np.zeros(tree.leaf_count)
    padded[:capacity] = expected
    assert tree.total == tree_ordered_sum(padded)
    assert tree.total == pytest.approx(math.fsum(expected), rel=1e-12, abs=0.0)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 100.0)), min_size=1, max_size=40),
    fractions=st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=1, max_size=30),
)
def test_find_returns_the_leaf_whose_interval_holds_the_target(values, fractions):
    values = np.array(values)
    if values.sum() == 0:
        values[0] = 1.0
    tree = SumTree(len(values))
    tree.update(np.arange(len(values)), values)
    targets = np.array(fractions) * tree.total
    found = tree.find(targets)
    assert np.all(values[found] > 0), "never a zero-priority leaf"
    cumulative = np.cumsum(values)
    for target, leaf in zip(targets, found, strict=True):
        # Up to rounding of the running sums, target lies in the leaf's interval.
        tolerance = 1e-9 * tree.total
        assert cumulative[leaf] - values[leaf] - tolerance <= target < cumulative[leaf] + tolerance


def test_update_rejects_bad_leaves_and_values():
    tree = SumTree(4)
    with pytest.raises(IndexError, match=r"leaves must lie in \[0, 4\)"):
        tree.update(np.array([4]), np.array([1.0]))
    with pytest.raises(ValueError, match="finite and non-negative"):
        tree.update(np.array([0]), np.array([-1.0]))
    with pytest.raises(ValueError, match="finite and non-negative"):
        tree.update(np.array([0]), np.array([np.nan]))
    with pytest.raises(ValueError, match="equal-length 1-D arrays"):
        tree.update(np.array([0, 1]), np.array([1.0]))
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        SumTree(0)
