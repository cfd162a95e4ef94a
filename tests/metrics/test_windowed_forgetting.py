"""Windowed forgetting's properties, and agreement with the stability-gap code's tracking.

The reference below replays a run's rounds through the logic of the paper's released
``WindowedForgettingPluginMetric`` (De Lange et al., ``src/eval/continual_eval_metrics.py``):
a task is tracked from its first experience, each evaluation goes into a deque of the task's
last ``window`` evaluations, and the task's value is the largest drop ever seen inside that
deque (0 until one is). It is written from that logic here, not copied.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envsuite.metrics import Rounds, stability
from envsuite.metrics.rounds import BEFORE_TRAINING


@st.composite
def runs(draw: st.DrawFn, num_tasks: int | None = None, never_dropping: bool = False) -> Rounds:
    """Any schedule (tasks may recur or never train), uneven steps, with or without a round
    before training; performance on a 0.1 grid so that ties occur. ``never_dropping``: every
    task's performance only rises."""
    num_tasks = num_tasks or draw(st.integers(1, 6))
    order = draw(st.lists(st.integers(0, num_tasks - 1), min_size=1, max_size=8))
    trained = [task for task in order for _ in range(draw(st.integers(1, 4)))]
    if draw(st.booleans()):
        trained = [BEFORE_TRAINING, *trained]
    gaps = draw(st.lists(st.integers(1, 30), min_size=len(trained), max_size=len(trained)))
    cells = st.lists(st.integers(0, 10), min_size=num_tasks, max_size=num_tasks)
    grid = draw(st.lists(cells, min_size=len(trained), max_size=len(trained)))
    performance = np.array(grid) / 10
    if never_dropping:
        performance = np.maximum.accumulate(performance, axis=0)
    names = tuple(f"task{index}" for index in range(num_tasks))
    return Rounds(np.cumsum(gaps), np.array(trained), performance, names)


def source_tracking(rounds: Rounds, window: int) -> dict[int, float]:
    """Per tracked task, the stability-gap code's windowed forgetting after the whole run."""
    windows: dict[int, deque] = {}
    largest: dict[int, float] = {}
    seen: list[int] = []
    for index, trained in enumerate(rounds.trained_task):
        if trained == BEFORE_TRAINING:
            # The code evaluates before the first update, when only the first experience's
            # task has been seen.
            first = next(int(task) for task in rounds.trained_task if task != BEFORE_TRAINING)
            tracked = [first]
        else:
            if trained not in seen:
                seen.append(int(trained))
            tracked = seen
        for task in tracked:
            values = windows.setdefault(task, deque(maxlen=window))
            values.append(rounds.performance[index, task])
            drops = [
                values[earlier] - values[later]
                for earlier in range(len(values))
                for later in range(earlier + 1, len(values))
            ]
            largest[task] = max([largest.get(task, 0.0), *drops])
    return largest


@settings(max_examples=150, deadline=None)
@given(rounds=runs(), window=st.integers(1, 12))
def test_equals_the_stability_gap_codes_tracking(rounds: Rounds, window: int) -> None:
    expected = source_tracking(rounds, window)
    per_task = stability.windowed_forgetting_per_task(rounds, window)
    assert sorted(expected) == sorted(rounds.trained_tasks())
    for task in range(rounds.num_tasks):
        if task in expected:
            assert per_task[task] == pytest.approx(expected[task])
        else:
            assert np.isnan(per_task[task])
    # The code's reported value averages over every tracked task.
    assert stability.windowed_forgetting(rounds, window) == pytest.approx(
        np.mean(list(expected.values()))
    )


@pytest.mark.parametrize("num_tasks", range(1, 7))
@settings(max_examples=40, deadline=None)
@given(data=st.data(), window=st.integers(1, 50), unit=st.sampled_from(["evaluations", "steps"]))
def test_a_learner_that_never_forgets_has_none(
    num_tasks: int, data: st.DataObject, window: int, unit: str
) -> None:
    rounds = data.draw(runs(num_tasks, never_dropping=True))
    per_task = stability.windowed_forgetting_per_task(rounds, window, unit)
    np.testing.assert_array_equal(per_task[rounds.trained_tasks()], 0)
    assert stability.windowed_forgetting(rounds, window, unit) == 0


@settings(max_examples=100, deadline=None)
@given(data=st.data(), window=st.integers(2, 12), unit=st.sampled_from(["evaluations", "steps"]))
def test_counts_every_trained_task(data: st.DataObject, window: int, unit: str) -> None:
    rounds = data.draw(runs())
    per_task = stability.windowed_forgetting_per_task(rounds, window, unit)
    trained = rounds.trained_tasks()
    # Every trained task has a value, the last one included; a task never trained has none.
    assert np.isfinite(per_task[trained]).all()
    assert np.isnan(np.delete(per_task, trained)).all()
    assert stability.windowed_forgetting(rounds, window, unit) == pytest.approx(
        per_task[trained].mean()
    )


@settings(max_examples=100, deadline=None)
@given(
    num_tasks=st.integers(1, 6),
    rounds_per_block=st.integers(2, 4),
    data=st.data(),
    drop=st.floats(0.05, 0.5),
)
def test_one_drop_counts_over_all_tasks(
    num_tasks: int, rounds_per_block: int, data: st.DataObject, drop: float
) -> None:
    # A sequential run where every task holds its level, except one (the last one too) that
    # drops once: WF is that drop over all K tasks, never over K - 1.
    trained = [BEFORE_TRAINING] + [t for t in range(num_tasks) for _ in range(rounds_per_block)]
    performance = np.tile(np.linspace(0.6, 0.9, num_tasks), (len(trained), 1))
    dropping = data.draw(st.integers(0, num_tasks - 1), label="dropping task")
    first_tracked = 1 + dropping * rounds_per_block
    at = data.draw(st.integers(first_tracked + 1, len(trained) - 1), label="drop round")
    performance[at:, dropping] -= drop
    rounds = Rounds(
        np.arange(len(trained)) * 10,
        np.array(trained),
        performance,
        tuple(map(str, range(num_tasks))),
    )
    assert stability.windowed_forgetting(rounds, 2) == pytest.approx(drop / num_tasks)
    assert stability.windowed_forgetting(rounds, 10, "steps") == pytest.approx(drop / num_tasks)
