"""Schedules: exact step budgets, determinism, the block orders, and the power law of recurrence."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envsuite.core.schedule import Block, build_schedule, powerlaw_order, split_steps
from envsuite.core.spec import ScheduleSpec, SequenceSpec, TaskSpec, blocks_per_task_upper_bound


def make_spec(
    num_tasks: int, steps_per_task: int, schedule: ScheduleSpec, seed: int
) -> SequenceSpec:
    tasks = tuple(TaskSpec(id="CartPole-v1", name=f"task{index}") for index in range(num_tasks))
    return SequenceSpec(
        name="ToySchedule",
        version=0,
        family="toy",
        tasks=tasks,
        steps_per_task=steps_per_task,
        schedule=schedule,
        seed=seed,
    )


@st.composite
def schedules(draw: st.DrawFn) -> tuple[int, ScheduleSpec]:
    num_tasks = draw(st.integers(1, 6))
    kind = draw(st.sampled_from(["sequential", "cycles", "powerlaw", "random", "explicit"]))
    if kind == "explicit":
        extra = draw(st.lists(st.integers(0, num_tasks - 1), max_size=8))
        order = draw(st.permutations(list(range(num_tasks)) + extra))
        return num_tasks, ScheduleSpec(type="explicit", order=tuple(order))
    return num_tasks, ScheduleSpec(
        type=kind,
        cycles=draw(st.integers(1, 5)),
        alpha=draw(st.floats(0.0, 4.0)),
        blocks_per_task=draw(st.integers(1, 6)),
    )


@settings(max_examples=300, deadline=None)
@given(schedules(), st.integers(0, 500), st.integers(0, 2**32 - 1))
def test_every_task_gets_exactly_its_steps(
    drawn: tuple[int, ScheduleSpec], extra_steps: int, seed: int
) -> None:
    num_tasks, schedule = drawn
    steps_per_task = blocks_per_task_upper_bound(schedule, num_tasks) + extra_steps
    blocks = build_schedule(make_spec(num_tasks, steps_per_task, schedule, seed))
    played = Counter()
    for block in blocks:
        assert block.steps > 0
        played[block.task_index] += block.steps
    assert played == {task: steps_per_task for task in range(num_tasks)}
    # Adjacent blocks of one task are merged: every block boundary is a real task switch.
    assert all(a.task_index != b.task_index for a, b in pairwise(blocks))


@settings(max_examples=100, deadline=None)
@given(schedules(), st.integers(0, 2**32 - 1))
def test_same_seed_same_schedule(drawn: tuple[int, ScheduleSpec], seed: int) -> None:
    num_tasks, schedule = drawn
    spec = make_spec(num_tasks, 50, schedule, seed)
    assert build_schedule(spec) == build_schedule(make_spec(num_tasks, 50, schedule, seed))


@pytest.mark.parametrize("kind", ["random", "powerlaw"])
def test_seed_changes_the_random_orders(kind: str) -> None:
    schedule = ScheduleSpec(type=kind, blocks_per_task=4, alpha=0.5)
    orders = {build_schedule(make_spec(5, 100, schedule, seed)) for seed in range(10)}
    assert len(orders) > 1


def test_fixed_orders() -> None:
    sequential = build_schedule(make_spec(3, 10, ScheduleSpec(type="sequential"), 0))
    assert sequential == (Block(0, 10), Block(1, 10), Block(2, 10))
    cycles = build_schedule(make_spec(2, 10, ScheduleSpec(type="cycles", cycles=3), 0))
    assert [block.task_index for block in cycles] == [0, 1, 0, 1, 0, 1]
    assert sorted(block.steps for block in cycles) == [3, 3, 3, 3, 4, 4]
    explicit = build_schedule(make_spec(2, 9, ScheduleSpec(type="explicit", order=(1, 1, 0, 1)), 0))
    # Two adjacent blocks of task 1 merge: 3 + 3 steps, then task 0, then task 1's last 3.
    assert explicit == (Block(1, 6), Block(0, 9), Block(1, 3))


def test_split_steps() -> None:
    assert split_steps(10, 3) == [3, 3, 4]
    assert split_steps(7, 7) == [1] * 7
    assert sum(split_steps(1001, 8)) == 1001


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 8), st.integers(1, 6), st.floats(0.0, 5.0), st.integers(0, 2**32 - 1))
def test_powerlaw_introduces_tasks_in_order(
    num_tasks: int, blocks_per_task: int, alpha: float, seed: int
) -> None:
    order = powerlaw_order(num_tasks, blocks_per_task, alpha, np.random.default_rng(seed))
    first_seen = [order.index(task) for task in range(num_tasks)]
    assert first_seen == sorted(first_seen)
    assert Counter(order) == {task: blocks_per_task for task in range(num_tasks)}


def recurrence_z_scores(orders: list[list[int]], num_tasks: int, alpha: float) -> np.ndarray:
    """Replay every recurrence decision and compare the gaps chosen with the law's expectation.

    At a block where an earlier task recurs, the law says a candidate last seen ``g`` blocks ago
    is chosen with probability ``g^-alpha / sum(g'^-alpha)`` over the recurrence candidates.
    Chosen gaps are counted in buckets; the z-score of each bucket compares the observed count
    with its expected count, using the variance of a sum of independent Bernoulli draws.
    """
    buckets = [(2, 2), (3, 3), (4, 5), (6, 9), (10, 10**9)]
    observed = np.zeros(len(buckets))
    expected = np.zeros(len(buckets))
    variance = np.zeros(len(buckets))
    for order in orders:
        last_seen: dict[int, int] = {}
        for position, task in enumerate(order):
            previous = order[position - 1] if position else None
            remaining = {
                candidate: order[position:].count(candidate)
                for candidate in last_seen
                if candidate != previous
            }
            candidates = [candidate for candidate, left in remaining.items() if left > 0]
            if task in last_seen and task != previous and len(candidates) > 1:
                gaps = np.array([position - last_seen[candidate] for candidate in candidates])
                weights = gaps.astype(float) ** -alpha
                probabilities = weights / weights.sum()
                chosen_gap = position - last_seen[task]
                for index, (low, high) in enumerate(buckets):
                    in_bucket = (gaps >= low) & (gaps <= high)
                    p = probabilities[in_bucket].sum()
                    expected[index] += p
                    variance[index] += p * (1 - p)
                    observed[index] += low <= chosen_gap <= high
            last_seen[task] = position
    return (observed - expected) / np.sqrt(np.maximum(variance, 1e-9))


@pytest.mark.parametrize("alpha", [0.0, 1.0, 2.0])
def test_powerlaw_recurrence_follows_the_law(alpha: float) -> None:
    """Tolerance: every gap bucket's count lies within 4 standard deviations of the law's."""
    num_tasks, blocks_per_task = 6, 6
    orders = [
        powerlaw_order(num_tasks, blocks_per_task, alpha, np.random.default_rng(seed))
        for seed in range(400)
    ]
    z_scores = recurrence_z_scores(orders, num_tasks, alpha)
    assert np.all(np.abs(z_scores) < 4), z_scores
    # The test has power: the same orders judged against a law with alpha off by 1.5 fail it.
    wrong = recurrence_z_scores(orders, num_tasks, alpha + 1.5)
    assert np.max(np.abs(wrong)) > 6, wrong
