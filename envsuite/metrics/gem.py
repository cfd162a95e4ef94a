"""Backward and forward transfer over the performance matrix (Lopez-Paz & Ranzato, NeurIPS 2017)."""

from __future__ import annotations

from envsuite.metrics.rounds import BEFORE_TRAINING, Rounds, mean_or_nan


def backward_transfer(rounds: Rounds) -> float:
    """``BWT = mean_i (R[T, i] - R[i, i])`` over tasks trained before the last block.

    ``R[i, i]`` is task ``i`` at the end of its last training block, ``R[T, i]`` at the end of
    the run. Negative values are forgetting.
    """
    last = rounds.blocks()[-1]
    differences = [
        rounds.performance[-1, task]
        - rounds.performance[rounds.task_blocks(task)[-1].last_round, task]
        for task in rounds.trained_tasks()
        if task != last.task
    ]
    return mean_or_nan(differences)


def forward_transfer(rounds: Rounds) -> float:
    """``FWT = mean_i (R[i-1, i] - b_i)`` over tasks after the first.

    ``R[i-1, i]`` is task ``i`` just before its first training block, ``b_i`` before any
    training (the run's first round, which must be evaluated before training).
    """
    if rounds.trained_task[0] != BEFORE_TRAINING:
        raise ValueError("GEM forward transfer needs a round evaluated before any training")
    differences = [
        rounds.performance[block.start_round, block.task] - rounds.performance[0, block.task]
        for block in (rounds.task_blocks(task)[0] for task in rounds.trained_tasks()[1:])
        if block.start_round is not None
    ]
    return mean_or_nan(differences)
