"""LIBERO's forward transfer, negative backward transfer and area under the curve.

Liu et al., "LIBERO: Benchmarking Knowledge Transfer for Lifelong Robot Learning", NeurIPS 2023.
"""

from __future__ import annotations

import numpy as np

from envsuite.metrics.rounds import Rounds


def _first_blocks(rounds: Rounds):
    return [(task, rounds.task_blocks(task)[0]) for task in rounds.trained_tasks()]


def held_at_best(curve: np.ndarray) -> np.ndarray:
    """The curve held at its best value from the earliest best evaluation on.

    LIBERO keeps the checkpoint of the best evaluation and pretends the agent stopped learning
    there (``successes[idx_at_best_succ:] = successes[idx_at_best_succ]`` in its
    ``learn_one_task``; the paper's ``c_{k,k,e} = c_{k,k}`` for ``e >= e*``).
    """
    curve = np.array(curve, dtype=float)
    best = int(np.argmax(curve))  # the earliest of equal bests, as LIBERO's strict ``<``
    curve[best:] = curve[best]
    return curve


def forward_transfer(rounds: Rounds) -> np.ndarray:
    """``FWT_k``: mean performance of task ``k`` over the evaluations while it is learned, the
    curve held at its best value from the earliest best on (:func:`held_at_best`).

    The evaluations run from the one just before its (first) block to the block's end, as
    LIBERO's ``c_{k,k,e}`` over epochs ``e = 0, 5, ..., 50``. NaN for tasks never trained.
    LIBERO's paper and code agree here.
    """
    result = np.full(rounds.num_tasks, np.nan)
    for task, block in _first_blocks(rounds):
        result[task] = held_at_best(rounds.performance[list(block.curve_rounds), task]).mean()
    return result


def _after_learning(rounds: Rounds, task: int) -> tuple[float, list[float]]:
    """``c_{k,k}`` (best while learning ``k``) and ``c_{tau,k}`` at the end of each later block."""
    block = rounds.task_blocks(task)[0]
    best = float(rounds.performance[list(block.curve_rounds), task].max())
    later = [
        float(rounds.performance[other.last_round, task])
        for other in rounds.blocks()
        if other.first_round > block.last_round
    ]
    return best, later


def negative_backward_transfer(rounds: Rounds) -> np.ndarray:
    """``NBT_k = mean_{tau > k} (c_{k,k} - c_{tau,k})``; 0 for a trained task with no later
    block, NaN for tasks never trained.

    ``c_{k,k}`` is the best performance of task ``k`` while it was learned, ``c_{tau,k}`` its
    performance at the end of each later block. Positive values are forgetting. LIBERO's metric
    code (``compute_metric`` in ``notebooks/quick_guide_algo.ipynb``) counts the last task's
    empty sum as 0 and averages over all ``K`` tasks, so the mean over tasks does too.
    """
    result = np.full(rounds.num_tasks, np.nan)
    for task in rounds.trained_tasks():
        best, later = _after_learning(rounds, task)
        result[task] = best - float(np.mean(later)) if later else 0.0
    return result


def area_under_curve(rounds: Rounds) -> np.ndarray:
    """``AUC_k = (FWT_k + sum_{tau > k} c_{tau,k}) / (1 + number of later blocks)``."""
    transfer = forward_transfer(rounds)
    result = np.full(rounds.num_tasks, np.nan)
    for task in rounds.trained_tasks():
        _, later = _after_learning(rounds, task)
        result[task] = (transfer[task] + sum(later)) / (1 + len(later))
    return result
