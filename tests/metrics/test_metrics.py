"""Every metric on a small hand-computed run, and the properties the definitions promise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envsuite.metrics import (
    READINGS,
    EvaluationTable,
    Rounds,
    aggregate_runs,
    continual_world,
    gem,
    l2m,
    libero,
    normalize_returns,
    stability,
)

# Two tasks trained in order, evaluated before training and twice per block (docs/metrics.md's
# worked example, which tests/metrics/test_worked_example.py checks, covers every metric):
#   step      0    50   100  150  200
#   trained   -    a    a    b    b
#   task a    0    .5   1    .6   .8
#   task b    0    .1   .2   .6   1
HAND = Rounds(
    steps=np.array([0, 50, 100, 150, 200]),
    trained_task=np.array([-1, 0, 0, 1, 1]),
    performance=np.array([[0, 0], [0.5, 0.1], [1, 0.2], [0.6, 0.6], [0.8, 1]]),
    task_names=("a", "b"),
)


def test_reference_metrics_hand_computed() -> None:
    # Single-task experts: task a reaches 1 at 50 steps, task b reaches .5 at 100 steps.
    references = {
        0: (np.array([0, 50, 100]), np.array([0, 1.0, 1.0])),
        1: (np.array([0, 100]), np.array([0, 0.5])),
    }
    # Continual World's paper: trapezoids over each block from its start round. Task a:
    # (0 + .5) / 2 * 50 + (.5 + 1) / 2 * 50 = 50 over 100 steps = .5; expert 25 + 50 = .75.
    # Task b's block: .2 -> .6 -> 1: (20 + 40) / 100 = .6; expert 0 -> .5: .25.
    ft = continual_world.forward_transfer(HAND, references, "paper")
    np.testing.assert_allclose(ft, [(0.5 - 0.75) / (1 - 0.75), (0.6 - 0.25) / (1 - 0.25)])
    # Relative performance: evaluations after training, at trained steps 50 and 100 of each task.
    relative = l2m.relative_performance(HAND, references)
    np.testing.assert_allclose(relative, [(0.5 + 1) / (1 + 1), (0.6 + 1) / (0.25 + 0.5)])
    # Sample efficiency: a saturates at 1 after 100 steps, its expert at 1 after 50.
    efficiency = l2m.sample_efficiency(HAND, references)
    np.testing.assert_allclose(efficiency, [(1 / 1) * (50 / 100), (1 / 0.5) * (100 / 100)])


@st.composite
def never_forgetting_runs(draw: st.DrawFn) -> Rounds:
    """Sequential runs where a task rises while trained and then holds its final value."""
    num_tasks = draw(st.integers(2, 5))
    per_block = draw(st.integers(1, 6))
    floor = draw(st.floats(0.0, 0.3))
    finals = draw(st.lists(st.floats(0.4, 1.0), min_size=num_tasks, max_size=num_tasks))
    rows = [[floor] * num_tasks]
    trained = [-1]
    for task in range(num_tasks):
        for step in range(1, per_block + 1):
            row = list(rows[-1])
            row[task] = floor + (finals[task] - floor) * step / per_block
            rows.append(row)
            trained.append(task)
    steps = np.arange(len(rows)) * 10
    return Rounds(steps, np.array(trained), np.array(rows), tuple(map(str, range(num_tasks))))


@settings(max_examples=60, deadline=None)
@given(never_forgetting_runs())
def test_a_learner_that_never_forgets(rounds: Rounds) -> None:
    final_after_training = [
        rounds.performance[rounds.task_blocks(task)[-1].last_round, task]
        for task in range(rounds.num_tasks)
    ]
    np.testing.assert_allclose(continual_world.forgetting(rounds, "paper"), 0, atol=1e-12)
    # The code's ends average the last 5 rounds. Where every block has that many, a block's end
    # averages part of its task's rise and the end of the run its held value: F is never
    # positive. (Shorter blocks let the run's last 5 rounds reach back into the last task's
    # rise, and its F above 0: the code reads short runs so.)
    if all(len(block.rounds) >= continual_world.CODE_LAST_EVALUATIONS for block in rounds.blocks()):
        assert np.all(continual_world.forgetting(rounds) <= 1e-12)
    assert gem.backward_transfer(rounds) == pytest.approx(0)
    np.testing.assert_allclose(
        np.nan_to_num(libero.negative_backward_transfer(rounds)), 0, atol=1e-12
    )
    np.testing.assert_allclose(np.nan_to_num(l2m.performance_maintenance(rounds)), 0, atol=1e-12)
    assert stability.windowed_forgetting(rounds, window=10**6) == pytest.approx(0)
    # min-ACC equals each task's post-training accuracy (the last task has no later rounds).
    per_task = stability.min_accuracy_per_task(rounds)
    np.testing.assert_allclose(per_task[:-1], final_after_training[:-1])
    assert math.isnan(per_task[-1])


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 5), st.integers(1, 4), st.floats(0.05, 1.0))
def test_a_learner_that_never_learns(num_tasks: int, per_block: int, level: float) -> None:
    rounds_count = 1 + num_tasks * per_block
    trained = [-1] + [task for task in range(num_tasks) for _ in range(per_block)]
    rounds = Rounds(
        np.arange(rounds_count) * 10,
        np.array(trained),
        np.full((rounds_count, num_tasks), level),
        tuple(map(str, range(num_tasks))),
    )
    for reading in READINGS:
        assert gem.forward_transfer(rounds, reading) == pytest.approx(0)
    assert l2m.mean_transfer(l2m.transfer(rounds, "forward", "contrast")) == pytest.approx(0)
    assert l2m.mean_transfer(l2m.transfer(rounds, "forward", "ratio")) == pytest.approx(1)
    # Against a reference that learns no better, Continual World's transfer is zero too.
    flat = {task: (np.arange(1, 101) * 10, np.full(100, level)) for task in range(num_tasks)}
    for reading in READINGS:
        transfer = continual_world.forward_transfer(rounds, flat, reading)
        if level < 1 - continual_world.REFERENCE_TOLERANCE:
            np.testing.assert_allclose(transfer, 0, atol=1e-12)
        else:  # a reference at AUC 1 leaves nothing to transfer: undefined
            assert np.isnan(transfer).all()


def test_area_under_curve_holds_the_first_point_back_to_step_0() -> None:
    assert continual_world.area_under_curve(np.array([1000, 2000]), np.ones(2), 2000) == 1.0
    # A reference within rounding of AUC 1 leaves forward transfer undefined, not -1.
    nearly_one = {0: (np.array([50, 100]), np.full(2, 1 - 1e-16))}
    rounds = Rounds(np.array([0, 50]), np.array([-1, 0]), np.ones((2, 1)) * 0.5, ("a",))
    for reading in READINGS:
        assert math.isnan(continual_world.forward_transfer(rounds, nearly_one, reading)[0])


def test_normalized_returns() -> None:
    values = normalize_returns(
        np.array([10.0, 55.0, -1.0]), np.array([0, 0, 1]), {0: 10, 1: -5}, {0: 100, 1: 5}
    )
    np.testing.assert_allclose(values, [0, 0.5, 0.4])
    with pytest.raises(ValueError, match="task 1: random and reference scores"):
        normalize_returns(np.ones(2), np.array([0, 1]), {0: 0}, {0: 1})
    with pytest.raises(ValueError, match="reference score equals random"):
        normalize_returns(np.ones(1), np.array([0]), {0: 1}, {0: 1})


def test_aggregate_runs_mean_iqm_and_intervals() -> None:
    scores = np.array([[0.0, 1.0], [0.2, 0.8], [0.4, 0.6], [10.0, 0.5]])
    estimates = aggregate_runs(scores, repetitions=500)
    assert estimates["mean"].value == pytest.approx(scores.mean())
    # IQM: the mean of the middle 50% of all 8 scores: .4 .5 .6 .8.
    assert estimates["iqm"].value == pytest.approx(np.mean([0.4, 0.5, 0.6, 0.8]))
    for estimate in estimates.values():
        assert estimate.low <= estimate.value <= estimate.high
        assert estimate.low < estimate.high
    assert aggregate_runs(scores, repetitions=500) == estimates  # seeded
    assert set(aggregate_runs(scores, aggregates=("iqm",), repetitions=100)) == {"iqm"}
    with pytest.raises(ValueError, match="aggregates must be among"):
        aggregate_runs(scores, aggregates=("median",))
    single = aggregate_runs(scores[:1])["mean"]
    assert single.low == single.value == single.high
    with pytest.raises(ValueError, match="finite"):
        aggregate_runs(np.array([[np.nan, 1.0]]))


def records(success: bool = True):
    """Two evaluation rounds of two tasks, two episodes each."""
    for step, trained in ((0, -1), (100, 0)):
        for task in range(2):
            for episode in range(2):
                value = step / 100 * (task + 1) / 2 + episode * 0.1
                yield {
                    "eval_step": step,
                    "trained_task": trained,
                    "evaluated_task": task,
                    "episode": episode,
                    "return": 10 * value,
                    "success": value if success else None,
                    "seed": 3,
                }


def test_table_reduces_episodes_to_rounds() -> None:
    table = EvaluationTable.from_records(records(), ("a", "b"))
    measure, values = table.measure_values()
    assert measure == "success"
    rounds = table.rounds(values)
    np.testing.assert_allclose(rounds.performance, [[0.05, 0.05], [0.55, 1.05]])
    np.testing.assert_array_equal(rounds.trained_task, [-1, 0])
    no_success = EvaluationTable.from_records(records(success=False), ("a", "b"))
    assert no_success.measure_values()[0] == "return"
    assert no_success.measure_values("auto", {0: 0, 1: 0}, {0: 10, 1: 10})[0] == (
        "normalized_return"
    )
    with pytest.raises(ValueError, match="do not report success"):
        no_success.measure_values("success")


def test_table_rejects_incomplete_rounds_and_mixed_runs() -> None:
    rows = list(records())
    incomplete = EvaluationTable.from_records(rows[:-2], ("a", "b"))
    with pytest.raises(ValueError, match="no episode of task 'b'"):
        incomplete.rounds(incomplete.measure_values()[1])
    other_seed = [{**row, "seed": 4} for row in rows]
    table = EvaluationTable.from_records(rows + other_seed, ("a", "b"))
    with pytest.raises(ValueError, match=r"seeds \[3, 4\]; select one"):
        table.rounds(table.measure_values()[1])
    assert table.select_seed(4).seeds == [4]
    with pytest.raises(ValueError, match="lacks fields"):
        EvaluationTable.from_records([{"eval_step": 0}], ("a",))
    with pytest.raises(ValueError, match="no evaluation records"):
        EvaluationTable.from_records([], ("a",))


def test_rounds_validation() -> None:
    with pytest.raises(ValueError, match="steps must increase"):
        Rounds(np.array([0, 0]), np.array([-1, 0]), np.zeros((2, 1)), ("a",))
    with pytest.raises(ValueError, match="trained_task must lie"):
        Rounds(np.array([0, 1]), np.array([-1, 2]), np.zeros((2, 1)), ("a",))
    with pytest.raises(ValueError, match=r"shape \(rounds, 2 tasks\)"):
        Rounds(np.array([0]), np.array([-1]), np.zeros((1, 1)), ("a", "b"))
