"""Stability-gap metrics of continual evaluation (De Lange, van de Ven & Tuytelaars, ICLR 2023).

They read every evaluation, not only those at task ends, to expose the temporary drop in
earlier tasks' performance when a new task starts (the stability gap).
"""

from __future__ import annotations

import numpy as np

from envsuite.metrics.rounds import Rounds, mean_or_nan


def min_accuracy_per_task(rounds: Rounds) -> np.ndarray:
    """Per task: the lowest performance at any evaluation after its first training block.

    NaN for tasks never trained or with no evaluation after their first block.
    """
    result = np.full(rounds.num_tasks, np.nan)
    for task in rounds.trained_tasks():
        after = rounds.performance[rounds.task_blocks(task)[0].last_round + 1 :, task]
        if after.size:
            result[task] = after.min()
    return result


def min_accuracy(rounds: Rounds) -> float:
    """min-ACC: the mean over tasks of :func:`min_accuracy_per_task`, for all but the last task."""
    last = rounds.blocks()[-1].task
    per_task = min_accuracy_per_task(rounds)
    return mean_or_nan(np.delete(per_task, last))


def worst_case_accuracy(rounds: Rounds) -> float:
    """WC-ACC = (1/k) a(last task, at the end) + (1 - 1/k) min-ACC, over the k trained tasks."""
    trained = rounds.trained_tasks()
    last = rounds.blocks()[-1].task
    final = rounds.performance[-1, last]
    if len(trained) == 1:
        return float(final)
    k = len(trained)
    return float(final / k + (1 - 1 / k) * min_accuracy(rounds))


def windowed_forgetting(rounds: Rounds, window_steps: int) -> float:
    """WF: the largest drop of a task's performance within any ``window_steps`` steps.

    Per task, over the evaluations from the end of its first training block on, the maximum of
    ``a(m) - a(n)`` over evaluation pairs ``m < n`` at most ``window_steps`` apart (0 when it
    never drops); then the mean over tasks.
    """
    if window_steps <= 0:
        raise ValueError(f"window_steps must be positive, got {window_steps}")
    per_task = []
    for task in rounds.trained_tasks():
        start = rounds.task_blocks(task)[0].last_round
        steps = rounds.steps[start:]
        performance = rounds.performance[start:, task]
        if steps.size < 2:
            continue
        earlier, later = np.triu_indices(steps.size, k=1)
        within = steps[later] - steps[earlier] <= window_steps
        drops = performance[earlier[within]] - performance[later[within]]
        per_task.append(max(0.0, float(drops.max())) if drops.size else 0.0)
    return mean_or_nan(np.array(per_task))
