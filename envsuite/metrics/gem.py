"""Backward and forward transfer over the performance matrix (Lopez-Paz & Ranzato, NeurIPS 2017).

The paper averages both over ``T - 1`` tasks; its released code (``metrics/metrics.py``, whose
numbers the paper's figures plot) over all ``T``, the first or last task adding 0. The code's
reading is the default, ``reading="paper"`` the other.
"""

from __future__ import annotations

from collections.abc import Sequence

from envsuite.metrics.readings import Reading, check_reading
from envsuite.metrics.rounds import BEFORE_TRAINING, Rounds


def _average(differences: Sequence[float], trained: int, reading: Reading) -> float:
    """The sum of ``differences`` over ``T`` (code) or ``T - 1`` (paper) trained tasks."""
    count = trained if reading == "code" else trained - 1
    return float(sum(differences) / count) if count > 0 else float("nan")


def backward_transfer(rounds: Rounds, reading: Reading = "code") -> float:
    """``BWT = (1/T) sum_i (R[T, i] - R[i, i])`` (code) or over ``T - 1`` (paper).

    The sum runs over the tasks trained before the last block: ``R[i, i]`` is task ``i`` at the
    end of its last training block, ``R[T, i]`` at the end of the run (the last block's task
    adds 0). Negative values are forgetting; NaN where the reading averages over no task.
    """
    check_reading(reading)
    last = rounds.blocks()[-1]
    trained = rounds.trained_tasks()
    differences = [
        rounds.performance[-1, task]
        - rounds.performance[rounds.task_blocks(task)[-1].last_round, task]
        for task in trained
        if task != last.task
    ]
    return _average(differences, len(trained), reading)


def forward_transfer(rounds: Rounds, reading: Reading = "code") -> float:
    """``FWT = (1/T) sum_i (R[i-1, i] - b_i)`` (code) or over ``T - 1`` (paper).

    The sum runs over the tasks after the first: ``R[i-1, i]`` is task ``i`` just before its
    first training block, ``b_i`` before any training (the run's first round, which must be
    evaluated before training; the first task adds 0).
    """
    check_reading(reading)
    if rounds.trained_task[0] != BEFORE_TRAINING:
        raise ValueError("GEM forward transfer needs a round evaluated before any training")
    trained = rounds.trained_tasks()
    differences = [
        rounds.performance[block.start_round, block.task] - rounds.performance[0, block.task]
        for block in (rounds.task_blocks(task)[0] for task in trained[1:])
    ]
    return _average(differences, len(trained), reading)
