"""Our Continual World metrics against Continual World's own table computation, on CW-shaped runs.

``cw_tables`` below recomputes performance, forgetting and forward transfer the way
``continualworld/results_processing/tables.py`` (awarelab/continual_world) does, over the
DataFrame its logger writes: one row per logged evaluation after training (none before it),
``x`` the step, ``train/active_env`` the position in the sequence being trained, and one
``test/stochastic/{position}/{task}/success`` column per position. It is written here from that
logic, not copied. Our functions read the same evaluations as :class:`Rounds` and must agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from envsuite.core.registry import find_sequence_spec
from envsuite.core.schedule import build_schedule
from envsuite.metrics import Rounds, continual_world

STEPS_PER_TASK = 1000
LOG_EVERY = 50  # 20 logged evaluations per task, as CW logs every 50k of 1M steps
EPISODES = 10  # a random policy's success rate over 10 evaluation episodes


@dataclass(frozen=True)
class CWRun:
    """A run as both sides read it: our :class:`Rounds`, and per round the position in the
    schedule being trained (-1 before training) with each position's task, taken from the
    schedule itself so that the reimplementation never reads our blocks."""

    rounds: Rounds
    position: list[int]
    position_task: list[int]
    references: dict[int, tuple[np.ndarray, np.ndarray]]


def cw_run(sequence: str, seed: int, **overrides) -> CWRun:
    """A run of ``sequence``'s shape with random evaluations, and a random reference per task.

    Evaluated before training (as our evaluator does; CW logs no such row) and every
    ``LOG_EVERY`` steps, each task's success the mean of ``EPISODES`` random episodes.
    """
    spec = find_sequence_spec(sequence).with_overrides(steps_per_task=STEPS_PER_TASK, **overrides)
    schedule = build_schedule(spec)
    rng = np.random.default_rng(seed)
    position = [-1]
    for index, block in enumerate(schedule):
        position += [index] * (block.steps // LOG_EVERY)
    position_task = [block.task_index for block in schedule]
    trained = [-1 if index < 0 else position_task[index] for index in position]
    success_rates = rng.uniform(0, 1, (len(trained), spec.num_tasks))
    performance = rng.binomial(EPISODES, success_rates) / EPISODES
    rounds = Rounds(
        np.arange(len(trained)) * LOG_EVERY,
        np.array(trained),
        performance,
        tuple(task.name for task in spec.tasks),
    )
    reference_steps = np.arange(LOG_EVERY, schedule[0].steps + 1, LOG_EVERY)
    references = {
        task: (reference_steps, rng.binomial(EPISODES, 0.3, reference_steps.size) / EPISODES)
        for task in range(spec.num_tasks)
    }
    return CWRun(rounds, position, position_task, references)


def cw_logs(run: CWRun) -> tuple[pd.DataFrame, list[str]]:
    """The run as CW's logger writes it, and the success column of each position."""
    names = run.rounds.task_names
    columns = [
        f"test/stochastic/{p}/{names[task]}/success" for p, task in enumerate(run.position_task)
    ]
    rows = []
    for index, position in enumerate(run.position):
        if position < 0:  # CW logs nothing before training
            continue
        row = {"x": run.rounds.steps[index], "train/active_env": position, "experiment_id": 0}
        for column, task in zip(columns, run.position_task, strict=True):
            row[column] = run.rounds.performance[index, task]
        rows.append(row)
    return pd.DataFrame(rows), columns


def tail_mean(frame: pd.DataFrame) -> pd.DataFrame:
    """tables.py's smoothing: sorted by step, the mean of each experiment's last 5 rows."""
    last = frame.sort_values(by=["x"]).groupby("experiment_id").tail(5)
    return last.groupby("experiment_id").mean()


def cw_tables(run: CWRun) -> dict[str, object]:
    """Per position forgetting and normalised forward transfer, and the average performance."""
    logs, columns = cw_logs(run)
    at_the_end = tail_mean(logs)[columns]
    end_of_task = {}
    current = {}
    for position, column in enumerate(columns):
        active = logs[logs["train/active_env"] == position]
        end_of_task[column] = tail_mean(active[[column, "x", "experiment_id"]])[column]
        current[position] = active.groupby("experiment_id")[column].mean()
    end_of_task = pd.DataFrame(end_of_task)
    forgetting = (end_of_task - at_the_end).iloc[0].to_numpy()

    transfer = []
    for position, task in enumerate(run.position_task):
        steps, success = run.references[task]
        baseline = pd.DataFrame({"x": steps, "success": success, "experiment_id": 0})
        reference = baseline.groupby("experiment_id")["success"].mean()
        auc, auc_reference = current[position].mean(), reference.mean()
        transfer.append((auc - auc_reference) / (1 - auc_reference))
    return {
        "performance": float(at_the_end.mean(axis=1).iloc[0]),
        "forgetting": forgetting,
        "forward_transfer": np.array(transfer),
    }


@pytest.mark.parametrize(
    ("sequence", "overrides"),
    [
        ("envsuite/CW10-v0", {}),
        # CW20 as envsuite registers it: the second pass has its own task names (CW's positions).
        ("envsuite/CW20-v0", {}),
        # CW10 twice as a cycles schedule: tasks recur, one value per occurrence (block).
        ("envsuite/CW10-v0", {"schedule": {"type": "cycles", "cycles": 2}}),
    ],
    ids=["CW10", "CW20", "CW10-cycles"],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_continual_worlds_tables(sequence: str, overrides: dict, seed: int) -> None:
    run = cw_run(sequence, seed, **overrides)
    expected = cw_tables(run)
    ours_forgetting = continual_world.forgetting(run.rounds)
    ours_transfer = continual_world.forward_transfer(run.rounds, run.references)
    assert len(ours_forgetting) == len(run.position_task)
    np.testing.assert_allclose(ours_forgetting, expected["forgetting"], atol=1e-12)
    np.testing.assert_allclose(ours_transfer, expected["forward_transfer"], atol=1e-12)
    # The table's scalars are the means over positions.
    assert ours_forgetting.mean() == pytest.approx(expected["forgetting"].mean())
    assert ours_transfer.mean() == pytest.approx(expected["forward_transfer"].mean())
    assert continual_world.average_performance(run.rounds) == pytest.approx(expected["performance"])
