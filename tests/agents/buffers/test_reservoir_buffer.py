"""ReservoirBuffer: a uniform sample of everything ever added, batch-invariant and seeded."""

from __future__ import annotations

import math

import numpy as np
from buffer_helpers import (
    SERIAL_OBSERVATION,
    SMALL_ACTION,
    chi_squared,
    chi_squared_critical,
    fill_batched_and_one_by_one,
    serial_transitions,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.buffers import ReservoirBuffer


def add_in_batches(buffer, start, count, label, batch_size):
    for offset in range(0, count, batch_size):
        size = min(batch_size, count - offset)
        buffer.add(**serial_transitions(start + offset, size, label=label))


@settings(max_examples=40, deadline=None)
@given(
    tasks=st.integers(2, 6),
    capacity=st.integers(50, 400),
    steps_per_task=st.integers(100, 600),
    batch_size=st.integers(1, 64),
    seed=st.integers(0, 2**32),
)
def test_each_of_k_equal_tasks_holds_a_kth_of_the_reservoir(
    tasks, capacity, steps_per_task, batch_size, seed
):
    buffer = ReservoirBuffer(capacity, SERIAL_OBSERVATION, SMALL_ACTION, seed=seed)
    for task in range(tasks):
        add_in_batches(buffer, task * steps_per_task, steps_per_task, task, batch_size)
    held = min(capacity, tasks * steps_per_task)
    assert len(buffer) == held
    labels = buffer.storage.arrays["observation"][:held, 1]
    counts = np.bincount(labels, minlength=tasks)
    # The reservoir is a uniform sample without replacement of all items: each task's count is
    # hypergeometric, with at most the binomial variance; allow five standard deviations.
    share = 1 / tasks
    bound = 5 * math.sqrt(held * share * (1 - share)) + 1
    assert np.all(np.abs(counts - held * share) <= bound), counts


@settings(max_examples=30, deadline=None)
@given(
    batch_sizes=st.lists(st.integers(1, 30), min_size=1, max_size=10),
    seed=st.integers(0, 1000),
)
def test_batched_add_equals_adding_one_by_one(batch_sizes, seed):
    batched = ReservoirBuffer(12, SERIAL_OBSERVATION, SMALL_ACTION, seed=seed)
    single = ReservoirBuffer(12, SERIAL_OBSERVATION, SMALL_ACTION, seed=seed)
    fill_batched_and_one_by_one(batched, single, batch_sizes)


def test_every_item_is_kept_with_equal_probability():
    # 20 items into 5 slots, over many seeds: each item is kept with probability 1/4.
    items, capacity, runs = 20, 5, 2000
    kept = np.zeros(items)
    for seed in range(runs):
        buffer = ReservoirBuffer(capacity, SERIAL_OBSERVATION, SMALL_ACTION, seed=seed)
        buffer.add(**serial_transitions(0, items))
        kept[buffer.storage.arrays["observation"][:, 0]] += 1
    expected = np.full(items, runs * capacity / items)
    assert chi_squared(kept, expected) < chi_squared_critical(items - 1)


def test_fills_in_order_then_replaces_and_is_seeded():
    buffer = ReservoirBuffer(10, SERIAL_OBSERVATION, SMALL_ACTION, seed=1)
    buffer.add(**serial_transitions(0, 10))
    np.testing.assert_array_equal(buffer.storage.arrays["observation"][:, 0], np.arange(10))
    buffer.add(**serial_transitions(10, 90))
    assert len(buffer) == 10
    assert buffer.added == 100
    same_seed = ReservoirBuffer(10, SERIAL_OBSERVATION, SMALL_ACTION, seed=1)
    other_seed = ReservoirBuffer(10, SERIAL_OBSERVATION, SMALL_ACTION, seed=2)
    for other in (same_seed, other_seed):
        other.add(**serial_transitions(0, 100))
    held = buffer.storage.arrays["observation"]
    np.testing.assert_array_equal(held, same_seed.storage.arrays["observation"])
    assert not np.array_equal(held, other_seed.storage.arrays["observation"])
    # Old items survive: the reservoir is not a FIFO.
    assert held[:, 0].min() < 90
