"""Stability-gap metrics of continual evaluation (De Lange, van de Ven & Tuytelaars, ICLR 2023).

They read every evaluation, not only those at task ends, to expose the temporary drop in
earlier tasks' performance when a new task starts (the stability gap). Windowed forgetting
follows the paper's released code (``src/eval/continual_eval_metrics.py``).
"""

from __future__ import annotations

import numpy as np

from envsuite.metrics.readings import DEFAULT_WINDOW, WindowUnit, check_window
from envsuite.metrics.rounds import BEFORE_TRAINING, Rounds, mean_or_nan


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


def tracked_rounds(rounds: Rounds, task: int) -> range:
    """The rounds at which the stability-gap code tracks ``task``: from its first training on.

    That is from the first evaluation after its first block's training began, to the end. The
    first task trained also counts the evaluation before any training, as the code evaluates the
    first experience's task once before its first update.
    """
    block = rounds.task_blocks(task)[0]
    start = block.first_round
    if block.start_round is not None and rounds.trained_task[block.start_round] == BEFORE_TRAINING:
        start = block.start_round
    return range(start, len(rounds.steps))


def _earliest_in_window(steps: np.ndarray, window: int, window_unit: WindowUnit) -> np.ndarray:
    """Per evaluation ``n``: the earliest evaluation ``m`` that shares a window with it."""
    if window_unit == "evaluations":
        # A window holds `window` consecutive evaluations: m >= n - (window - 1).
        return np.maximum(np.arange(steps.size) - (window - 1), 0)
    return np.searchsorted(steps, steps - window, side="left")


def _largest_drop(performance: np.ndarray, earliest: np.ndarray) -> float:
    """``max a(m) - a(n)`` over ``earliest[n] <= m < n``; 0 when nothing drops."""
    largest = 0.0
    for later in range(1, performance.size):
        if earliest[later] < later:
            drop = performance[earliest[later] : later].max() - performance[later]
            largest = max(largest, float(drop))
    return largest


def windowed_forgetting_per_task(
    rounds: Rounds, window: int = DEFAULT_WINDOW, window_unit: WindowUnit = "evaluations"
) -> np.ndarray:
    """Per task: the largest drop of its performance within a window; NaN for tasks never trained.

    Over the task's :func:`tracked_rounds`, the maximum of ``a(m) - a(n)`` over evaluation
    pairs ``m < n`` in one window: ``window`` consecutive evaluations (``window_unit=
    "evaluations"``, the stability-gap code's deque of the last ``window`` evaluations) or at
    most ``window`` steps apart (``"steps"``). 0 when it never drops, or with fewer than two
    tracked evaluations (the code's empty window).
    """
    check_window(window, window_unit)
    result = np.full(rounds.num_tasks, np.nan)
    for task in rounds.trained_tasks():
        tracked = tracked_rounds(rounds, task)
        earliest = _earliest_in_window(rounds.steps[tracked], window, window_unit)
        result[task] = _largest_drop(rounds.performance[tracked, task], earliest)
    return result


def windowed_forgetting(
    rounds: Rounds, window: int = DEFAULT_WINDOW, window_unit: WindowUnit = "evaluations"
) -> float:
    """WF: the mean over every trained task of :func:`windowed_forgetting_per_task`."""
    return mean_or_nan(windowed_forgetting_per_task(rounds, window, window_unit))
