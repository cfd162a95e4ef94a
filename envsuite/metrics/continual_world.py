"""Continual World's forgetting and forward transfer (Wołczyk et al., NeurIPS 2021)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from envsuite.metrics.rounds import Rounds, TrainingBlock

REFERENCE_TOLERANCE = 1e-9
# A single-task reference learning curve: (steps trained from 0, performance at those steps).
ReferenceCurve = tuple[np.ndarray, np.ndarray]


def forgetting(rounds: Rounds, last_evaluations: int = 1) -> np.ndarray:
    """``F_i = p_i(end of task i) - p_i(end)`` per task; NaN for tasks never trained.

    "End" is the mean of the last ``last_evaluations`` evaluations: of task ``i``'s last training
    block, and of the whole run. Positive values are forgetting.
    """
    if last_evaluations < 1:
        raise ValueError(f"last_evaluations must be >= 1, got {last_evaluations}")
    result = np.full(rounds.num_tasks, np.nan)
    final = rounds.performance[-last_evaluations:].mean(axis=0)
    for task in rounds.trained_tasks():
        block = rounds.task_blocks(task)[-1]
        block_rounds = list(block.rounds)[-last_evaluations:]
        result[task] = rounds.performance[block_rounds, task].mean() - final[task]
    return result


def area_under_curve(steps: np.ndarray, performance: np.ndarray, duration: float) -> float:
    """Mean performance over ``[0, duration]`` steps: trapezoid area divided by the duration.

    The curve is interpolated at ``duration`` and held constant before its first point and past
    its last.
    """
    steps = np.asarray(steps, dtype=float)
    performance = np.asarray(performance, dtype=float)
    inside = (steps > 0) & (steps < duration)
    grid = np.concatenate(([0.0], steps[inside], [duration]))
    values = np.interp(grid, steps, performance)
    return float(np.trapezoid(values, grid) / duration)


def block_curve(rounds: Rounds, block: TrainingBlock) -> tuple[np.ndarray, np.ndarray]:
    """A block's learning curve of its own task, in steps since the block's start."""
    curve = list(block.curve_rounds)
    start = rounds.steps[block.start_round] if block.start_round is not None else 0
    return rounds.steps[curve] - start, rounds.performance[curve, block.task]


def forward_transfer(rounds: Rounds, references: Mapping[int, ReferenceCurve]) -> np.ndarray:
    """``FT_i = (AUC_i - AUC_i^ref) / (1 - AUC_i^ref)`` per task, on its first training block.

    ``AUC_i`` is the mean performance of task ``i`` over its first block (performance in
    ``[0, 1]``, e.g. success); ``AUC_i^ref`` that of a single-task reference run over as many
    steps. NaN for tasks without a reference, without a block, or with ``AUC^ref`` within
    ``REFERENCE_TOLERANCE`` of 1.
    """
    result = np.full(rounds.num_tasks, np.nan)
    for task, reference in references.items():
        blocks = rounds.task_blocks(task)
        if not blocks:
            continue
        steps, performance = block_curve(rounds, blocks[0])
        duration = float(steps[-1])
        if duration <= 0:
            continue
        auc = area_under_curve(steps, performance, duration)
        reference_auc = area_under_curve(reference[0], reference[1], duration)
        # Near AUC^ref = 1 the ratio divides rounding noise by rounding noise: undefined there.
        if reference_auc < 1 - REFERENCE_TOLERANCE:
            result[task] = (auc - reference_auc) / (1 - reference_auc)
    return result
