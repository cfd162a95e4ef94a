"""Lifelong-learning metrics of DARPA L2M, as the ``l2metrics`` package defines them.

New & al., "Lifelong Learning Metrics", arXiv:2201.08278 (2022). A training interval is the steps
between two evaluation rounds; an evaluation round is l2metrics' evaluation block. Where
l2metrics reads training episodes (relative performance, sample efficiency) we read the
evaluation curve of the task while it trains.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from envsuite.metrics.continual_world import ReferenceCurve
from envsuite.metrics.rounds import Rounds, mean_or_nan

TRANSFER_METHODS = ("ratio", "contrast")


def performance_maintenance(rounds: Rounds) -> np.ndarray:
    """Per task: mean of (later evaluation - evaluation right after its most recent training).

    l2metrics' "most recent learning evaluation performance" (mrlep) method. NaN for tasks with
    no evaluation after their training. Negative values are forgetting.
    """
    result = np.full(rounds.num_tasks, np.nan)
    for task in range(rounds.num_tasks):
        reference_rounds = np.flatnonzero(rounds.trained_task == task)
        if reference_rounds.size == 0:
            continue
        values = [
            rounds.performance[index, task]
            - rounds.performance[reference_rounds[reference_rounds < index][-1], task]
            for index in range(reference_rounds[0] + 1, len(rounds.steps))
            if index not in reference_rounds
        ]
        if values:
            result[task] = np.mean(values)
    return result


def _pair_value(before: float, after: float, method: str) -> float | None:
    if method == "ratio":
        return after / before if before != 0 else None
    return (after - before) / (after + before) if after + before != 0 else None


def transfer(rounds: Rounds, direction: str, method: str) -> dict[tuple[int, int], float]:
    """Transfer from training task ``i`` to task ``j``, for every ordered pair with a value.

    ``direction="forward"``: intervals training ``i`` before ``j`` was first trained;
    ``"backward"``: intervals training ``i`` after. Each value compares task ``j`` evaluated
    just before and just after such an interval: ``after / before`` (``method="ratio"``, 1 is
    no transfer) or ``(after - before) / (after + before)`` (``"contrast"``, 0 is no transfer).
    As in l2metrics, a pair's value is its first such interval's.
    """
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be 'forward' or 'backward', got {direction!r}")
    if method not in TRANSFER_METHODS:
        raise ValueError(f"method must be one of {TRANSFER_METHODS}, got {method!r}")
    values: dict[tuple[int, int], float] = {}
    trained = rounds.trained_task
    for source in range(rounds.num_tasks):
        for target in range(rounds.num_tasks):
            if source == target:
                continue
            target_training = np.flatnonzero(trained == target)
            first_target = target_training[0] if target_training.size else len(trained)
            for index in np.flatnonzero(trained == source):
                forward = index < first_target
                if index == 0 or forward != (direction == "forward"):
                    continue
                value = _pair_value(
                    rounds.performance[index - 1, target], rounds.performance[index, target], method
                )
                if value is not None:
                    values[(source, target)] = value
                    break
    return values


def relative_performance(rounds: Rounds, references: Mapping[int, ReferenceCurve]) -> np.ndarray:
    """Per task: the area under its evaluation curve while it trains, over a single-task expert's.

    Both curves are indexed by the steps the task has trained; the expert's is read at the
    same step counts. 1 matches the expert.
    """
    result = np.full(rounds.num_tasks, np.nan)
    for task, (reference_steps, reference_performance) in references.items():
        task_steps, performance = _training_curve(rounds, task)
        if task_steps.size == 0:
            continue
        expert = np.interp(task_steps, reference_steps, reference_performance)
        if np.sum(expert) != 0:
            result[task] = np.sum(performance) / np.sum(expert)
    return result


def sample_efficiency(rounds: Rounds, references: Mapping[int, ReferenceCurve]) -> np.ndarray:
    """Per task: (saturation / expert's) x (expert's steps to saturation / steps to saturation).

    Saturation is the best evaluation while the task trains; steps to saturation the trained
    steps when it was first reached (at least one evaluation interval).
    """
    result = np.full(rounds.num_tasks, np.nan)
    for task, (reference_steps, reference_performance) in references.items():
        task_steps, performance = _training_curve(rounds, task)
        if task_steps.size == 0:
            continue
        saturation, steps_to = _saturation(task_steps, performance)
        expert_saturation, expert_steps_to = _saturation(
            np.asarray(reference_steps, dtype=float), np.asarray(reference_performance, dtype=float)
        )
        if expert_saturation != 0 and steps_to > 0:
            result[task] = (saturation / expert_saturation) * (expert_steps_to / steps_to)
    return result


def _training_curve(rounds: Rounds, task: int) -> tuple[np.ndarray, np.ndarray]:
    """Task ``task``'s evaluations after its training intervals, against its trained steps."""
    intervals = np.diff(rounds.steps, prepend=0)
    trained_steps = np.cumsum(np.where(rounds.trained_task == task, intervals, 0))
    selected = rounds.trained_task == task
    return trained_steps[selected].astype(float), rounds.performance[selected, task]


def _saturation(steps: np.ndarray, performance: np.ndarray) -> tuple[float, float]:
    first_best = int(np.argmax(performance))
    return float(performance[first_best]), float(steps[first_best])


def mean_transfer(values: dict[tuple[int, int], float]) -> float:
    """l2metrics' lifetime transfer: the mean over task pairs."""
    return mean_or_nan(np.array(list(values.values())))
