"""The performance matrix and average performance (e.g. Lopez-Paz & Ranzato, 2017)."""

from __future__ import annotations

import numpy as np

from envsuite.metrics.rounds import Rounds


def performance_matrix(rounds: Rounds) -> np.ndarray:
    """``R[b, j]``: performance on task ``j`` at the end of training block ``b``.

    For a sequential schedule the blocks are the tasks, so ``R[i, j]`` is task ``j`` after
    training task ``i``.
    """
    return np.stack([rounds.performance[block.last_round] for block in rounds.blocks()])


def average_performance(rounds: Rounds) -> float:
    """Mean performance over all tasks at the last evaluation round."""
    return float(np.mean(rounds.performance[-1]))
