"""Continual World's performance, forgetting and forward transfer (Wołczyk et al., NeurIPS 2021).

``reading="code"`` (the default) gives the numbers of its released code
(``continualworld/results_processing/tables.py``), which made the published tables;
``reading="paper"`` the paper's formulas. docs/metrics.md works an example of both.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from envsuite.metrics.readings import Reading, check_reading
from envsuite.metrics.rounds import BEFORE_TRAINING, Rounds, TrainingBlock

REFERENCE_TOLERANCE = 1e-9
# tables.py averages "the end" of a task and of the run over the last 5 logged evaluations
# (pandas' tail(5)); the paper reads the single evaluation there.
CODE_LAST_EVALUATIONS = 5
# A single-task reference learning curve: (steps trained from 0, performance at those steps).
ReferenceCurve = tuple[np.ndarray, np.ndarray]


def _last_evaluations(reading: Reading) -> int:
    check_reading(reading)
    return CODE_LAST_EVALUATIONS if reading == "code" else 1


def final_performance(rounds: Rounds, reading: Reading = "code") -> np.ndarray:
    """``p_i(T)`` per task: its mean over the run's last 5 evaluations after training (code), or
    its last evaluation (paper). NaN for a run never evaluated after training.

    An evaluation before any training is never among them: Continual World logs none.
    """
    count = _last_evaluations(reading)
    after_training = np.flatnonzero(rounds.trained_task != BEFORE_TRAINING)[-count:]
    if after_training.size == 0:
        return np.full(rounds.num_tasks, np.nan)
    return rounds.performance[after_training].mean(axis=0)


def average_performance(rounds: Rounds, reading: Reading = "code") -> float:
    """``P(T)``: the mean over all tasks of :func:`final_performance`."""
    return float(np.mean(final_performance(rounds, reading)))


def forgetting(rounds: Rounds, reading: Reading = "code") -> np.ndarray:
    """``F = p_i(end of the block) - p_i(T)`` per training block, in order; ``i`` its task.

    One value per occurrence of a task, as tables.py gives CW20's recurring tasks (each of its
    20 positions is a task there). ``p_i(end of the block)`` is the mean of the block's last 5
    evaluations (code) or its last one (paper); ``p_i(T)`` is :func:`final_performance`.
    Positive values are forgetting.
    """
    count = _last_evaluations(reading)
    final = final_performance(rounds, reading)
    return np.array(
        [
            rounds.performance[list(block.rounds)[-count:], block.task].mean() - final[block.task]
            for block in rounds.blocks()
        ]
    )


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


def _areas(
    rounds: Rounds, block: TrainingBlock, reference: ReferenceCurve, reading: Reading
) -> tuple[float, float]:
    """``(AUC, AUC^ref)`` of a block and of its task's reference over as many steps."""
    steps, performance = block_curve(rounds, block)
    duration = float(steps[-1])
    if duration <= 0:
        return float("nan"), float("nan")
    reference_steps = np.asarray(reference[0], dtype=float)
    reference_performance = np.asarray(reference[1], dtype=float)
    if reading == "paper":
        return (
            area_under_curve(steps, performance, duration),
            area_under_curve(reference_steps, reference_performance, duration),
        )
    # tables.py averages the evaluations logged while the task trains (none before its
    # training: the start round is left out), and all of the reference run's, which lasts
    # one block: here its evaluations in the block's first `duration` steps.
    within = (reference_steps > 0) & (reference_steps <= duration)
    if not within.any():
        return float("nan"), float("nan")
    return (
        float(rounds.performance[list(block.rounds), block.task].mean()),
        float(reference_performance[within].mean()),
    )


def forward_transfer(
    rounds: Rounds, references: Mapping[int, ReferenceCurve], reading: Reading = "code"
) -> np.ndarray:
    """``FT = (AUC - AUC^ref) / (1 - AUC^ref)`` per training block, in order, as :func:`forgetting`.

    ``AUC`` measures the block's task while it trains, ``AUC^ref`` a single-task reference run
    of that task over as many steps ``Δ`` (performance in ``[0, 1]``, e.g. success):

    - code: ``AUC`` is the mean of the block's evaluations (its start round left out),
      ``AUC^ref`` the mean of the reference's evaluations at steps in ``(0, Δ]``;
    - paper: both are trapezoid integrals divided by ``Δ``, the block's from its start round,
      the reference's over its first ``Δ`` steps (see :func:`area_under_curve`).

    NaN for blocks of a task without a reference, of no length, with no reference evaluation
    in ``(0, Δ]`` (code), or with ``AUC^ref`` within ``REFERENCE_TOLERANCE`` of 1.
    """
    check_reading(reading)
    blocks = rounds.blocks()
    result = np.full(len(blocks), np.nan)
    for index, block in enumerate(blocks):
        if block.task not in references:
            continue
        auc, reference_auc = _areas(rounds, block, references[block.task], reading)
        # Near AUC^ref = 1 the ratio divides rounding noise by rounding noise: undefined there.
        if reference_auc < 1 - REFERENCE_TOLERANCE:
            result[index] = (auc - reference_auc) / (1 - reference_auc)
    return result
